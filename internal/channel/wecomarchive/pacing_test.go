package wecomarchive

import (
	"context"
	"testing"
	"time"
)

func TestLimiterSpacesCalls(t *testing.T) {
	l := newLimiter(600, time.Now) // 100 ms apart
	ctx := context.Background()
	start := time.Now()
	for range 4 {
		if err := l.wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 280*time.Millisecond {
		t.Fatalf("4 calls took %v; want ≥ 300 ms", el)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	l2 := newLimiter(1, time.Now)
	_ = l2.wait(ctx)
	if err := l2.wait(cctx); err == nil {
		t.Fatal("cancelled wait returned nil")
	}
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	b := &backoff{initial: time.Second, max: 8 * time.Second}
	var last time.Duration
	for i := range 6 {
		d := b.next()
		if d > 8*time.Second || d < 500*time.Millisecond {
			t.Fatalf("attempt %d: %v out of bounds", i, d)
		}
		last = d
	}
	if last < 4*time.Second {
		t.Fatalf("capped wait %v too small", last)
	}
	b.reset()
	if d := b.next(); d > time.Second {
		t.Fatalf("after reset %v", d)
	}
}

package connector

import (
	"testing"
	"time"
)

func TestBackoffGrowsWithJitterAndCaps(t *testing.T) {
	b := newBackoff(100*time.Millisecond, 30*time.Second, 1)
	prevCeiling := time.Duration(0)
	for attempt := 0; attempt < 20; attempt++ {
		ceiling := min(100*time.Millisecond<<attempt, 30*time.Second)
		got := b.next(0)
		if got < ceiling/2 || got > ceiling {
			t.Fatalf("attempt %d: wait %v outside [%v, %v]", attempt, got, ceiling/2, ceiling)
		}
		if ceiling < prevCeiling {
			t.Fatalf("ceiling shrank")
		}
		prevCeiling = ceiling
	}
	b.reset()
	if got := b.next(0); got > 100*time.Millisecond {
		t.Fatalf("after reset wait %v", got)
	}
}

func TestBackoffHonoursHintUpToCap(t *testing.T) {
	b := newBackoff(100*time.Millisecond, 30*time.Second, 2)
	if got := b.next(10 * time.Second); got != 10*time.Second {
		t.Fatalf("hint 10s gave %v", got)
	}
	if got := b.next(time.Hour); got != 30*time.Second {
		t.Fatalf("hint 1h gave %v, want the 30s cap", got)
	}
}

func TestBackoffJitterSpreads(t *testing.T) {
	seen := map[time.Duration]bool{}
	for seed := uint64(0); seed < 50; seed++ {
		b := newBackoff(time.Second, 30*time.Second, seed)
		b.next(0)
		seen[b.next(0)] = true
	}
	if len(seen) < 40 {
		t.Fatalf("only %d distinct waits from 50 seeds", len(seen))
	}
}

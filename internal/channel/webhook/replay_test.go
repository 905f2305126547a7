package webhook

import (
	"crypto/sha256"
	"testing"
	"time"
)

func sigOf(s string) [sha256.Size]byte { return sha256.Sum256([]byte(s)) }

func TestReplayCache(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	c := newReplayCache(10*time.Minute, 3)
	steps := []struct {
		name string
		sig  string
		at   time.Duration
		want reserveResult
	}{
		{"first seen", "a", 0, reserved},
		{"replay", "a", time.Minute, replayed},
		{"second", "b", time.Minute, reserved},
		{"third", "c", 2 * time.Minute, reserved},
		{"full", "d", 3 * time.Minute, cacheFull},
		{"a expired, room again", "d", 10 * time.Minute, reserved},
		{"a forgotten after ttl", "a", 11*time.Minute + time.Second, reserved},
		{"c still live", "c", 11*time.Minute + time.Second, replayed},
	}
	for _, s := range steps {
		if got := c.reserve(sigOf(s.sig), t0.Add(s.at)); got != s.want {
			t.Fatalf("%s: reserve(%s) = %d, want %d", s.name, s.sig, got, s.want)
		}
	}
}

func TestReplayCacheReleaseAllowsRetry(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	c := newReplayCache(time.Minute, 10)
	if c.reserve(sigOf("x"), now) != reserved {
		t.Fatal("first reserve failed")
	}
	c.release(sigOf("x"))
	if got := c.reserve(sigOf("x"), now.Add(time.Second)); got != reserved {
		t.Fatalf("reserve after release = %d, want reserved", got)
	}
	// The released entry's expiry must not drop the new reservation early.
	if got := c.reserve(sigOf("x"), now.Add(time.Minute)); got != replayed {
		t.Fatalf("new reservation forgotten with the old one: %d", got)
	}
}

func TestReplayCacheMemoryStaysBounded(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	c := newReplayCache(time.Second, 100)
	for i := 0; i < 100_000; i++ {
		c.reserve(sigOf(string(rune(i))), now.Add(time.Duration(i)*20*time.Millisecond))
	}
	if n := c.size(); n > 100 {
		t.Fatalf("%d live entries, capacity 100", n)
	}
	if len(c.order)-c.head > 100 || cap(c.order) > 4096 {
		t.Fatalf("order holds %d live of %d (cap %d)", len(c.order)-c.head, len(c.order), cap(c.order))
	}
}

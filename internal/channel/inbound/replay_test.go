package inbound

import (
	"crypto/sha256"
	"testing"
	"time"
)

func sigOf(s string) [sha256.Size]byte { return sha256.Sum256([]byte(s)) }

func TestReplayCache(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	c := NewReplayCache(10*time.Minute, 3)
	steps := []struct {
		name string
		sig  string
		at   time.Duration
		want ReserveResult
	}{
		{"first seen", "a", 0, Reserved},
		{"replay", "a", time.Minute, Replayed},
		{"second", "b", time.Minute, Reserved},
		{"third", "c", 2 * time.Minute, Reserved},
		{"full", "d", 3 * time.Minute, CacheFull},
		{"a expired, room again", "d", 10 * time.Minute, Reserved},
		{"a forgotten after ttl", "a", 11*time.Minute + time.Second, Reserved},
		{"c still live", "c", 11*time.Minute + time.Second, Replayed},
	}
	for _, s := range steps {
		if got := c.Reserve(sigOf(s.sig), t0.Add(s.at)); got != s.want {
			t.Fatalf("%s: reserve(%s) = %d, want %d", s.name, s.sig, got, s.want)
		}
	}
}

func TestReplayCacheReleaseAllowsRetry(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	c := NewReplayCache(time.Minute, 10)
	if c.Reserve(sigOf("x"), now) != Reserved {
		t.Fatal("first reserve failed")
	}
	c.Release(sigOf("x"))
	if got := c.Reserve(sigOf("x"), now.Add(time.Second)); got != Reserved {
		t.Fatalf("reserve after release = %d, want Reserved", got)
	}
	// The released entry's expiry must not drop the new reservation early.
	if got := c.Reserve(sigOf("x"), now.Add(time.Minute)); got != Replayed {
		t.Fatalf("new reservation forgotten with the old one: %d", got)
	}
}

func TestReplayCacheMemoryStaysBounded(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	c := NewReplayCache(time.Second, 100)
	for i := 0; i < 100_000; i++ {
		c.Reserve(sigOf(string(rune(i))), now.Add(time.Duration(i)*20*time.Millisecond))
	}
	if n := c.Size(); n > 100 {
		t.Fatalf("%d live entries, capacity 100", n)
	}
	if len(c.order)-c.head > 100 || cap(c.order) > 4096 {
		t.Fatalf("order holds %d live of %d (cap %d)", len(c.order)-c.head, len(c.order), cap(c.order))
	}
}

func TestKeyIsUnambiguous(t *testing.T) {
	if Key("ab", "c") == Key("a", "bc") {
		t.Fatal("parts that concatenate alike must not share a key")
	}
	if Key("a", "b") != Key("a", "b") {
		t.Fatal("Key must be deterministic")
	}
}

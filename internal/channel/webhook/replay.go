package webhook

import (
	"crypto/sha256"
	"sync"
	"time"
)

// replayCache remembers accepted signatures for as long as their timestamps
// could still pass the freshness check, so an intercepted request cannot be
// delivered twice. Memory is bounded by capacity; when it is full of live
// entries the cache refuses new ones (the request gets 503 and is retried)
// rather than forget a live one and let a replay through.
type replayCache struct {
	mu       sync.Mutex
	ttl      time.Duration
	capacity int
	live     map[[sha256.Size]byte]uint64 // signature -> generation
	// order holds entries oldest first; entries inserted later never expire
	// earlier, because every one lives ttl from insertion.
	order []replayEntry
	head  int
	gen   uint64
}

type replayEntry struct {
	sig     [sha256.Size]byte
	gen     uint64
	expires time.Time
}

type reserveResult int

const (
	reserved reserveResult = iota
	replayed
	cacheFull
)

func newReplayCache(ttl time.Duration, capacity int) *replayCache {
	return &replayCache{ttl: ttl, capacity: capacity, live: make(map[[sha256.Size]byte]uint64)}
}

// reserve records sig as seen, unless it already is.
func (c *replayCache) reserve(sig [sha256.Size]byte, now time.Time) reserveResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	if _, ok := c.live[sig]; ok {
		return replayed
	}
	// Released entries still hold a slot in order until they expire, so the
	// bound is on order, which is what memory is.
	if len(c.order)-c.head >= c.capacity {
		return cacheFull
	}
	c.gen++
	c.live[sig] = c.gen
	c.order = append(c.order, replayEntry{sig: sig, gen: c.gen, expires: now.Add(c.ttl)})
	return reserved
}

// release forgets a reservation whose request failed before it was captured,
// so that the sender's retry of the same signed request is not a "replay".
func (c *replayCache) release(sig [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.live, sig)
}

func (c *replayCache) expire(now time.Time) {
	for c.head < len(c.order) && !now.Before(c.order[c.head].expires) {
		e := c.order[c.head]
		if gen, ok := c.live[e.sig]; ok && gen == e.gen {
			delete(c.live, e.sig)
		}
		c.order[c.head] = replayEntry{}
		c.head++
	}
	// Compact once the dead prefix dominates, keeping memory proportional to
	// the live entries.
	if c.head > 1024 && c.head*2 > len(c.order) {
		c.order = append(c.order[:0:0], c.order[c.head:]...)
		c.head = 0
	}
}

// size is the number of live entries.
func (c *replayCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.live)
}

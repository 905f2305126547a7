package inbound

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"net/http"
	"sync"
	"time"
)

// ReplayCache remembers keys (signatures of accepted requests, or providers'
// message ids) for a fixed time, so an intercepted request cannot be delivered
// twice and a provider's redelivery is recognised. Memory is bounded by capacity; when it is full of live
// entries the cache refuses new ones (the request gets 503 and is retried)
// rather than forget a live one and let a replay through.
type ReplayCache struct {
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

// ReserveResult is the outcome of ReplayCache.Reserve.
type ReserveResult int

// Reserve outcomes.
const (
	Reserved ReserveResult = iota
	Replayed
	CacheFull
)

// NewReplayCache remembers each key for ttl and at most capacity keys.
func NewReplayCache(ttl time.Duration, capacity int) *ReplayCache {
	return &ReplayCache{ttl: ttl, capacity: capacity, live: make(map[[sha256.Size]byte]uint64)}
}

// Reserve records sig as seen, unless it already is.
func (c *ReplayCache) Reserve(sig [sha256.Size]byte, now time.Time) ReserveResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	if _, ok := c.live[sig]; ok {
		return Replayed
	}
	// Released entries still hold a slot in order until they expire, so the
	// bound is on order, which is what memory is.
	if len(c.order)-c.head >= c.capacity {
		return CacheFull
	}
	c.gen++
	c.live[sig] = c.gen
	c.order = append(c.order, replayEntry{sig: sig, gen: c.gen, expires: now.Add(c.ttl)})
	return Reserved
}

// Release forgets a reservation whose request failed before it was captured,
// so that the sender's retry of the same signed request is not a "replay".
func (c *ReplayCache) Release(sig [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.live, sig)
}

func (c *ReplayCache) expire(now time.Time) {
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

// Size is the number of live entries.
func (c *ReplayCache) Size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.live)
}

// Key hashes the parts of an identity (for example timestamp, nonce and
// signature) into a cache key; parts are length-prefixed so that no two
// different tuples share a key.
func Key(parts ...string) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// ReserveOrRefuse reserves key and turns a replay or a full cache into the
// matching refusal.
func (c *ReplayCache) ReserveOrRefuse(key [sha256.Size]byte, now time.Time) *Rejection {
	switch c.Reserve(key, now) {
	case Replayed:
		return Refuse(http.StatusConflict, ReasonReplay, errors.New("this signed request was already received"))
	case CacheFull:
		return Refuse(http.StatusServiceUnavailable, ReasonReplayCacheFull, errors.New("too many requests in the replay window; retry later"))
	}
	return nil
}

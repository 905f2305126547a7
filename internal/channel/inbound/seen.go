package inbound

import "sync"

// SeenCache remembers the dedupe keys of captured messages (a provider's
// message id, update id or event id) so that a provider's redelivery is
// answered without a second record. It is bounded: past capacity the oldest
// key is forgotten, and a redelivery of that message is then deduplicated by
// the archive's dedupKey instead, so forgetting costs work, never data. Add
// keys only after the sink has taken the record, so a retry racing a capture
// that later fails is never acknowledged unstored.
type SeenCache struct {
	mu   sync.Mutex
	keys map[string]struct{}
	ring []string
	next int
}

// NewSeenCache remembers at most capacity keys (at least one).
func NewSeenCache(capacity int) *SeenCache {
	if capacity < 1 {
		capacity = 1
	}
	return &SeenCache{keys: make(map[string]struct{}, capacity), ring: make([]string, capacity)}
}

// Seen reports whether key was added and not yet forgotten.
func (s *SeenCache) Seen(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.keys[key]
	return ok
}

// Add remembers key, forgetting the oldest one when full.
func (s *SeenCache) Add(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[key]; ok {
		return
	}
	if old := s.ring[s.next]; old != "" {
		delete(s.keys, old)
	}
	s.ring[s.next] = key
	s.keys[key] = struct{}{}
	s.next = (s.next + 1) % len(s.ring)
}

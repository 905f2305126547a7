package inbound

import (
	"crypto/sha256"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
)

// Dedupe drops records a provider redelivers after they were captured,
// remembering each key for a fixed time. It is an optimisation over the
// archive's own dedupKey, so a full cache lets records through instead of
// refusing them.
type Dedupe struct {
	cache *ReplayCache
}

// NewDedupe remembers each key for ttl and at most capacity keys.
func NewDedupe(ttl time.Duration, capacity int) *Dedupe {
	return &Dedupe{cache: NewReplayCache(ttl, capacity)}
}

// Filter keeps the records whose key (keys[i] for recs[i]) is new and
// reserves those keys; the caller releases them if the records are then not
// captured, so the provider's retry is not mistaken for a duplicate.
func (d *Dedupe) Filter(recs []*capture.Record, keys []string, now time.Time) (kept []*capture.Record, reserved [][sha256.Size]byte, duplicates int) {
	kept = make([]*capture.Record, 0, len(recs))
	for i, r := range recs {
		k := Key(keys[i])
		switch d.cache.Reserve(k, now) {
		case Replayed:
			duplicates++
			continue
		case Reserved:
			reserved = append(reserved, k)
		}
		kept = append(kept, r)
	}
	return kept, reserved, duplicates
}

// Release forgets reservations whose records were not captured.
func (d *Dedupe) Release(reserved [][sha256.Size]byte) {
	for _, k := range reserved {
		d.cache.Release(k)
	}
}

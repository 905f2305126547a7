// Package connectortest helps channel tests: a sink that stamps and
// validates records exactly as the connector's spool sink does, and keeps
// them in memory.
package connectortest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/connector"
)

// Sink records what it accepts. Set Err to make Capture fail (for example
// with spool.ErrSpoolFull) and check that the channel refuses correctly.
type Sink struct {
	mu   sync.Mutex
	recs []*capture.Record
	// Err, when set, is returned by Capture and nothing is kept.
	Err error
}

var _ connector.Sink = (*Sink)(nil)

// Capture stamps, validates, and keeps the batch whole or not at all.
func (s *Sink) Capture(ctx context.Context, recs []*capture.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	now := time.Now().UTC()
	for i, r := range recs {
		connector.Stamp(r, now, "test/account", "test")
		if err := r.Validate(); err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
	}
	s.recs = append(s.recs, recs...)
	return nil
}

// Records returns a copy of everything accepted so far.
func (s *Sink) Records() []*capture.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*capture.Record(nil), s.recs...)
}

// SetErr changes the error Capture returns.
func (s *Sink) SetErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Err = err
}

// DiscardSink stamps and validates like the connector's sink and keeps
// nothing: the baseline beside a benchmark into SpoolSink, so the
// difference between the two is the spool's encoding and fsync.
type DiscardSink struct{}

var _ connector.Sink = DiscardSink{}

// Capture stamps and validates the batch, then drops it.
func (DiscardSink) Capture(_ context.Context, recs []*capture.Record) error {
	now := time.Now().UTC()
	for i, r := range recs {
		connector.Stamp(r, now, "bench/account", "bench")
		if err := r.Validate(); err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
	}
	return nil
}

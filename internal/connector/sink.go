package connector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/connector/spool"
)

// spoolSink is the Sink every channel writes to.
type spoolSink struct {
	spool   *spool.Spool
	account string
	version string
	metrics *Metrics
	log     logr.Logger
	now     func() time.Time
	// wake tells the shipper there is new work, so records leave for the
	// archive promptly instead of at the next poll.
	wake func()
}

// Capture implements Sink.
func (s *spoolSink) Capture(ctx context.Context, recs []*capture.Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("while capturing: %w", err)
	}
	if len(recs) == 0 {
		return nil
	}
	now := s.now().UTC()
	envs := make([]capture.Envelope, len(recs))
	for i, r := range recs {
		if r == nil {
			s.metrics.CaptureRefused.WithLabelValues("invalid").Inc()
			return fmt.Errorf("record %d: %w: nil record", i, capture.ErrInvalid)
		}
		s.stamp(r, now)
		if err := r.Validate(); err != nil {
			s.metrics.CaptureRefused.WithLabelValues("invalid").Inc()
			return fmt.Errorf("record %d: %w", i, err)
		}
		envs[i] = capture.Envelope{Record: r}
	}
	if _, err := s.spool.Append(envs); err != nil {
		reason := "error"
		if errors.Is(err, spool.ErrSpoolFull) {
			reason = "spool_full"
		}
		s.metrics.CaptureRefused.WithLabelValues(reason).Inc()
		s.log.Info("capture refused", "reason", reason, "records", len(recs), "error", err.Error())
		return fmt.Errorf("while spooling %d records: %w", len(recs), err)
	}
	s.metrics.Captured.Add(float64(len(recs)))
	s.metrics.LastCapture.Set(float64(now.UnixNano()) / 1e9)
	s.metrics.observeSpool(s.spool.Stats())
	if s.wake != nil {
		s.wake()
	}
	return nil
}

// stamp fills what the connector, not the channel, is responsible for.
func (s *spoolSink) stamp(r *capture.Record, now time.Time) {
	Stamp(r, now, s.account, s.version)
}

// Stamp fills what a channel may leave to the connector: schema version,
// capture time, id, kind, provenance and the dedupe key.
func Stamp(r *capture.Record, now time.Time, account, version string) {
	if r.SchemaVersion == "" {
		r.SchemaVersion = capture.SchemaVersion
	}
	if r.CapturedAt.IsZero() {
		r.CapturedAt = now
	}
	if r.ID == "" {
		r.ID = capture.NewID(r.CapturedAt)
	}
	if r.Kind == "" {
		r.Kind = capture.KindMessage
	}
	if r.Provenance.Connector == "" {
		r.Provenance.Connector = account
	}
	if r.Provenance.Version == "" {
		r.Provenance.Version = version
	}
	if r.DedupKey == "" {
		r.SetDedupKey()
	}
}

// NewSpoolSink is the sink the connector gives its channel, over an open
// spool; benchmarks use it to measure capture through to fsync.
func NewSpoolSink(sp *spool.Spool, account, version string, metrics *Metrics, log logr.Logger) Sink {
	return &spoolSink{spool: sp, account: account, version: version, metrics: metrics, log: log, now: time.Now, wake: func() {}}
}

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

// ShipperOptions tune the shipper; zero values pick the defaults.
type ShipperOptions struct {
	// BatchSize is the most envelopes per upload (default 500).
	BatchSize int
	// PollInterval is how often an idle shipper looks at the spool even
	// without a wake-up (default 2 s).
	PollInterval time.Duration
	// InitialBackoff and MaxBackoff bound retry waits (defaults 250 ms, 30 s).
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
}

func (o *ShipperOptions) defaults() {
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	if o.InitialBackoff <= 0 {
		o.InitialBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
}

// Shipper moves spooled envelopes to the archive: peek a batch, upload it,
// acknowledge it in the spool. A kill between upload and acknowledgement
// re-sends the batch, which the archive deduplicates on dedupKey, so shipping
// is at-least-once on the wire and exactly-once in the archive.
type Shipper struct {
	spool    *spool.Spool
	uploader Uploader
	account  string
	opts     ShipperOptions
	metrics  *Metrics
	log      logr.Logger
	backoff  *backoff
	now      func() time.Time
	wake     chan struct{}
	// evaluate attaches policy findings to a batch before it ships; nil
	// ships records without findings.
	evaluate func(context.Context, []capture.Envelope)
}

// NewShipper builds a shipper for account's spool.
func NewShipper(sp *spool.Spool, up Uploader, account string, opts ShipperOptions, m *Metrics, log logr.Logger) *Shipper {
	opts.defaults()
	return &Shipper{
		spool: sp, uploader: up, account: account, opts: opts, metrics: m, log: log,
		backoff: newBackoff(opts.InitialBackoff, opts.MaxBackoff, uint64(time.Now().UnixNano())),
		now:     time.Now,
		wake:    make(chan struct{}, 1),
	}
}

// Wake tells the shipper new records are in the spool. It never blocks.
func (s *Shipper) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run ships until ctx is cancelled. It returns nil on cancellation; records
// not yet shipped stay in the spool for the next start (or for Flush).
func (s *Shipper) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		n, err := s.ShipOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		timer.Reset(s.opts.PollInterval)
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// Flush ships until the spool is empty or ctx ends; used at shutdown to send
// what can be sent in the grace period.
func (s *Shipper) Flush(ctx context.Context) error {
	for {
		n, err := s.ShipOnce(ctx)
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("while flushing the spool: %w", ctx.Err())
		}
		if n == 0 {
			return nil
		}
	}
}

// ShipOnce ships the oldest batch, retrying transient failures with backoff
// until it succeeds or ctx ends. It returns how many records left the spool
// (0 when it was empty or ctx ended first). Errors are spool errors only:
// upload failures are retried or dead-lettered, never returned.
func (s *Shipper) ShipOnce(ctx context.Context) (int, error) {
	b, err := s.spool.Peek(s.opts.BatchSize)
	if err != nil {
		s.metrics.ShipErrors.WithLabelValues("spool").Inc()
		return 0, fmt.Errorf("while reading the spool: %w", err)
	}
	if len(b.Envelopes) == 0 {
		s.metrics.observeSpool(s.spool.Stats())
		return 0, nil
	}
	if s.evaluate != nil {
		s.evaluate(ctx, b.Envelopes)
	}
	if !s.deliver(ctx, b.Envelopes) {
		return 0, nil
	}
	if err := s.spool.Ack(b.End); err != nil {
		s.metrics.ShipErrors.WithLabelValues("spool").Inc()
		return 0, fmt.Errorf("while acknowledging %d shipped records: %w", len(b.Envelopes), err)
	}
	s.metrics.observeSpool(s.spool.Stats())
	return len(b.Envelopes), nil
}

// deliver gets envs into the archive or the dead-letter directory. It returns
// false only when ctx ended first. A rejected batch is split in halves so that
// one bad record does not take good ones to the dead-letter directory with it.
func (s *Shipper) deliver(ctx context.Context, envs []capture.Envelope) bool {
	for {
		if ctx.Err() != nil {
			return false
		}
		inserted, duplicates, err := s.uploader.Upload(ctx, s.account, envs)
		if err == nil {
			s.backoff.reset()
			s.metrics.Shipped.Add(float64(len(envs)))
			s.metrics.ArchiveDuplicates.Add(float64(duplicates))
			if inserted+duplicates != len(envs) {
				s.log.Info("archive acknowledged a different number of records than sent",
					"sent", len(envs), "inserted", inserted, "duplicates", duplicates)
			}
			s.log.V(1).Info("shipped batch", "records", len(envs), "inserted", inserted, "duplicates", duplicates)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		var rejected *RejectedError
		if errors.As(err, &rejected) {
			s.metrics.ShipErrors.WithLabelValues("rejected").Inc()
			if len(envs) > 1 {
				half := len(envs) / 2
				return s.deliver(ctx, envs[:half]) && s.deliver(ctx, envs[half:])
			}
			if s.deadLetter(ctx, envs, rejected) {
				return true
			}
			continue
		}
		s.metrics.ShipErrors.WithLabelValues("retryable").Inc()
		wait := s.backoff.next(retryAfter(err))
		s.log.Info("upload failed; retrying", "records", len(envs), "wait", wait.String(), "error", err.Error())
		if !sleepCtx(ctx, wait) {
			return false
		}
	}
}

// deadLetter stores a rejected batch; on failure (disk trouble) it waits and
// reports false so the caller tries the whole thing again.
func (s *Shipper) deadLetter(ctx context.Context, envs []capture.Envelope, rejected *RejectedError) bool {
	path, err := writeDeadLetter(s.spool.Dir(), envs, rejected.StatusCode, s.now())
	if err != nil {
		s.metrics.ShipErrors.WithLabelValues("spool").Inc()
		s.log.Error(err, "cannot write dead-letter file; will retry", "records", len(envs))
		sleepCtx(ctx, s.backoff.next(0))
		return false
	}
	s.metrics.DeadLetter.Add(float64(len(envs)))
	ids := make([]string, 0, len(envs))
	for _, e := range envs {
		if e.Record != nil {
			ids = append(ids, e.Record.ID)
		}
	}
	s.log.Error(rejected, "archive rejected records; moved to dead-letter file",
		"records", len(envs), "status", rejected.StatusCode, "file", path, "ids", ids)
	return true
}

// sleepCtx waits d or until ctx ends; it reports whether the full wait passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

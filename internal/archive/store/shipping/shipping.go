// Package shipping writes the archive's WORM copy: every record's sealed
// content, shortly after ingest, into segments (internal/archive/segments) on
// a filesystem or an S3 bucket with Object Lock, one segment per account,
// data key and month, never an object per message. Segments are locked in
// COMPLIANCE mode until the month's end plus the WORM retention, and under a
// legal hold while a hold covers the account. The backend's database keeps
// its working copy for search and reads, and, through a Catalog, where each
// record is in which segment, so vigil verify can hold the two copies
// against each other. Once every record of a segment is purged and its lock
// has run out, the segment is deleted and the deletion logged.
package shipping

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/segments"
)

// AuditSegmentDeleted logs the deletion of a segment whose records are all
// purged and whose lock ran out; the subject is its object key.
const AuditSegmentDeleted = "segment.deleted"

// DefaultInterval is how often new records are shipped.
const DefaultInterval = 10 * time.Second

// MaxPending bounds the records one shipping round reads.
const MaxPending = 20000

// Options turn on the WORM copy.
type Options struct {
	Backend segments.Backend
	// Retention is how long past the end of its month a segment stays
	// locked: the regulatory floor (3 years for SEC 17a-4 communications,
	// 6 for FINRA 4511, 5 to 7 under MiFID II), whatever the RetentionRules
	// say. A purge within it still makes the content unreadable, by
	// destroying its data key (crypto-shredding).
	Retention time.Duration
	// Interval between passes (default DefaultInterval).
	Interval time.Duration
	// TargetSize of a segment (default segments.DefaultTargetSize).
	TargetSize int
}

// Pending is a stored record not yet in a segment.
type Pending struct {
	Seq     int64
	Account string
	KeyID   string
	// Bucket is the month of the record's data key.
	Bucket keys.Bucket
	// Blob is the record's sealed bytes as the database stores them.
	Blob []byte
}

// Placed is where a record went.
type Placed struct {
	Seq int64
	Ref segments.Ref
}

// Segment is a stored segment as the catalog knows it.
type Segment struct {
	Key, Version, Account string
	Held                  bool
}

// Catalog is what a backend keeps about its WORM copy, in its own database.
type Catalog interface {
	// Pending returns up to limit records stored after those already
	// shipped, in storage order.
	Pending(ctx context.Context, limit int) ([]Pending, error)
	// Record stores, in one transaction, the segments now stored, where
	// each record went, and that everything up to last is shipped.
	Record(ctx context.Context, stored []segments.Sealed, placed []Placed, last int64) error
	// AccountHeld says whether an active hold covers any record of the
	// account (segments are held whole).
	AccountHeld(ctx context.Context, account string) (bool, error)
	// Live lists the segments not deleted.
	Live(ctx context.Context) ([]Segment, error)
	// SetHeld records a segment's object legal hold.
	SetHeld(ctx context.Context, key string, on bool) error
	// Spent lists live segments with no stored record left, not held,
	// whose lock ran out by now.
	Spent(ctx context.Context, now time.Time) ([]Segment, error)
	// Deleted records, and audits (AuditSegmentDeleted), a deletion.
	Deleted(ctx context.Context, s Segment) error
}

// Shipper runs passes on a ticker until closed.
type Shipper struct {
	cat  Catalog
	opts Options
	now  func() time.Time
	log  logr.Logger
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// Start begins shipping; nil opts (or no backend) ships nothing and returns
// nil. now is the backend's clock.
func Start(cat Catalog, opts *Options, now func() time.Time, log logr.Logger) *Shipper {
	if opts == nil || opts.Backend == nil {
		return nil
	}
	o := *opts
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if now == nil {
		now = time.Now
	}
	sh := &Shipper{cat: cat, opts: o, now: now, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	go sh.loop()
	return sh
}

func (sh *Shipper) loop() {
	defer close(sh.done)
	tick := time.NewTicker(sh.opts.Interval)
	defer tick.Stop()
	for {
		select {
		case <-sh.stop:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*sh.opts.Interval+time.Minute)
		if err := sh.Pass(ctx); err != nil {
			sh.log.Error(err, "Segment pass failed; retrying next pass")
		}
		cancel()
	}
}

// finalPassWithin bounds the pass a clean shutdown runs.
const finalPassWithin = 30 * time.Second

// Close stops the loop after its current pass, then ships what is pending
// in one last pass, so a clean shutdown (a rollout, say) leaves nothing
// waiting; closing again does nothing. A nil Shipper is closed. The
// backend's store must still accept writes.
func (sh *Shipper) Close() {
	if sh == nil {
		return
	}
	sh.once.Do(func() {
		close(sh.stop)
		<-sh.done
		ctx, cancel := context.WithTimeout(context.Background(), finalPassWithin)
		defer cancel()
		if err := sh.Pass(ctx); err != nil {
			sh.log.Error(err, "The last segment pass before shutdown failed; the next start ships what is left")
		}
	})
	<-sh.done
}

// ErrOff is Pass on an archive that writes no segments.
var ErrOff = errors.New("this archive writes no segments")

// Pass ships new records, mirrors holds onto segments, and deletes segments
// nothing needs any more.
func (sh *Shipper) Pass(ctx context.Context) error {
	if sh == nil {
		return ErrOff
	}
	for {
		n, err := sh.ship(ctx)
		if err != nil {
			return fmt.Errorf("while shipping records to segments: %w", err)
		}
		if n < MaxPending {
			break
		}
	}
	if err := sh.mirrorHolds(ctx); err != nil {
		return fmt.Errorf("while mirroring legal holds onto segments: %w", err)
	}
	if err := sh.deleteSpent(ctx); err != nil {
		return fmt.Errorf("while deleting purged segments: %w", err)
	}
	return nil
}

// ship writes the next pending records into segments and, once the storage
// has them, records where they are. A crash between the two leaves orphan
// segments, never a record marked shipped that is not stored; the records
// are shipped again.
func (sh *Shipper) ship(ctx context.Context) (int, error) {
	pending, err := sh.cat.Pending(ctx, MaxPending)
	if err != nil || len(pending) == 0 {
		return 0, err
	}
	var stored []segments.Sealed
	w, err := segments.NewWriter(sh.opts.Backend, segments.WriterOptions{
		TargetSize: sh.opts.TargetSize, MaxAge: 24 * time.Hour, Now: sh.now,
		RetainUntil: func(g segments.Group) time.Time { return g.Bucket.End().Add(sh.opts.Retention) },
		LegalHold:   func(ctx context.Context, g segments.Group) (bool, error) { return sh.cat.AccountHeld(ctx, g.Account) },
		OnSeal: func(_ context.Context, s segments.Sealed) error {
			stored = append(stored, s)
			return nil
		},
	})
	if err != nil {
		return 0, err
	}
	placed := make([]Placed, 0, len(pending))
	for _, p := range pending {
		ref, err := w.Append(ctx, segments.Group{Account: p.Account, Bucket: p.Bucket, KeyID: p.KeyID}, p.Blob)
		if err != nil {
			return 0, err
		}
		placed = append(placed, Placed{Seq: p.Seq, Ref: ref})
	}
	if err := w.Close(ctx); err != nil {
		return 0, err
	}
	if err := sh.cat.Record(ctx, stored, placed, pending[len(pending)-1].Seq); err != nil {
		return 0, err
	}
	sh.log.V(1).Info("Shipped records to segments", "records", len(placed), "segments", len(stored))
	return len(pending), nil
}

// mirrorHolds puts each live segment's object legal hold in step with the
// archive's holds: on while a hold covers its account, off once none does.
func (sh *Shipper) mirrorHolds(ctx context.Context) error {
	live, err := sh.cat.Live(ctx)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, g := range live {
		on, known := want[g.Account]
		if !known {
			if on, err = sh.cat.AccountHeld(ctx, g.Account); err != nil {
				return err
			}
			want[g.Account] = on
		}
		if on == g.Held {
			continue
		}
		if err := sh.opts.Backend.SetLegalHold(ctx, g.Key, g.Version, on); err != nil {
			return fmt.Errorf("while setting the legal hold of %s: %w", g.Key, err)
		}
		if err := sh.cat.SetHeld(ctx, g.Key, on); err != nil {
			return err
		}
	}
	return nil
}

// deleteSpent deletes segments whose records are all purged, once their
// lock has run out and no hold is on them.
func (sh *Shipper) deleteSpent(ctx context.Context) error {
	spent, err := sh.cat.Spent(ctx, sh.now())
	if err != nil {
		return err
	}
	for _, g := range spent {
		if err := sh.opts.Backend.Delete(ctx, g.Key, g.Version); err != nil && !errors.Is(err, segments.ErrNotFound) {
			return fmt.Errorf("while deleting segment %s: %w", g.Key, err)
		}
		if err := sh.cat.Deleted(ctx, g); err != nil {
			return err
		}
	}
	return nil
}

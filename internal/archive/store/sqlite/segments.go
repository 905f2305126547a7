package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/segments"
)

// The WORM copy. Every record's sealed content is also written, shortly
// after ingest, into segments (internal/archive/segments) on a filesystem or
// an S3 bucket with Object Lock: one segment per account, data key and
// month, never an object per message, locked in COMPLIANCE mode until the
// month's end plus the configured WORM retention, and under a legal hold
// while a hold covers the account. The database keeps its working copy for
// search and reads; the segments are the copy nobody, the archive included,
// can alter or delete early. Each record's place in its segment and the
// SHA-256 of its bytes are recorded, so vigil verify can hold the two
// copies against each other. Once every record of a segment is purged and
// its lock has run out, the segment is deleted and the deletion logged.

// SegmentOptions turn on the WORM copy.
type SegmentOptions struct {
	Backend segments.Backend
	// Retention is how long past the end of its month a segment stays
	// locked: the regulatory floor (3 years for SEC 17a-4 communications,
	// 6 for FINRA 4511, 5 to 7 under MiFID II), whatever the RetentionRules
	// say. A purge within it still makes the content unreadable, by
	// destroying its data key (crypto-shredding).
	Retention time.Duration
	// Interval between shipping passes (default DefaultSegmentInterval).
	Interval time.Duration
	// TargetSize of a segment (default segments.DefaultTargetSize).
	TargetSize int
}

// DefaultSegmentInterval is how often new records are shipped.
const DefaultSegmentInterval = 10 * time.Second

// maxShipRecords bounds one shipping pass.
const maxShipRecords = 20000

// AuditSegmentDeleted logs the deletion of a segment whose records are all
// purged and whose lock ran out; the subject is its object key.
const AuditSegmentDeleted = "segment.deleted"

// shipper writes records into segments.
type shipper struct {
	s    *Store
	opts SegmentOptions
	stop chan struct{}
	done chan struct{}
}

func (s *Store) startShipper(opts *SegmentOptions) {
	if opts == nil || opts.Backend == nil {
		return
	}
	o := *opts
	if o.Interval <= 0 {
		o.Interval = DefaultSegmentInterval
	}
	sh := &shipper{s: s, opts: o, stop: make(chan struct{}), done: make(chan struct{})}
	s.shipper = sh
	go sh.loop()
}

func (sh *shipper) loop() {
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
		if err := sh.pass(ctx); err != nil {
			sh.s.log.Error(err, "Segment pass failed; retrying next pass")
		}
		cancel()
	}
}

// close stops the loop after its current pass.
func (sh *shipper) close() {
	if sh == nil {
		return
	}
	close(sh.stop)
	<-sh.done
}

// pass ships new records, mirrors holds onto segments, and deletes segments
// nothing needs any more.
func (sh *shipper) pass(ctx context.Context) error {
	for {
		n, err := sh.ship(ctx)
		if err != nil {
			return fmt.Errorf("while shipping records to segments: %w", err)
		}
		if n < maxShipRecords {
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

// ShipSegments runs one pass now, for tests and for a clean shutdown.
func (s *Store) ShipSegments(ctx context.Context) error {
	if s.shipper == nil {
		return errors.New("this archive writes no segments")
	}
	return s.shipper.pass(ctx)
}

// shipped is a record placed in a segment.
type shipped struct {
	seq int64
	ref segments.Ref
}

// ship writes the next records after the watermark into segments and, once
// the storage has them, records where they are and moves the watermark, in
// one transaction. A crash between the two leaves orphan segments, never a
// record marked shipped that is not stored; the records are shipped again.
func (sh *shipper) ship(ctx context.Context) (int, error) {
	s := sh.s
	var watermark int64
	if err := s.reader.QueryRowContext(ctx, `SELECT coalesce((SELECT shipped_seq FROM segment_shipping WHERE id = 1), 0)`).Scan(&watermark); err != nil {
		return 0, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT r.seq, r.account, r.key_id, k.bucket, r.record FROM records r
		JOIN data_keys k ON k.id = r.key_id WHERE r.seq > ? ORDER BY r.seq LIMIT ?`, watermark, maxShipRecords)
	if err != nil {
		return 0, err
	}
	var sealed []segments.Sealed
	w, err := segments.NewWriter(sh.opts.Backend, segments.WriterOptions{
		TargetSize: sh.opts.TargetSize, MaxAge: 24 * time.Hour, Now: s.now,
		RetainUntil: func(g segments.Group) time.Time { return g.Bucket.End().Add(sh.opts.Retention) },
		LegalHold:   func(ctx context.Context, g segments.Group) (bool, error) { return s.accountHeld(ctx, g.Account) },
		OnSeal: func(_ context.Context, sg segments.Sealed) error {
			sealed = append(sealed, sg)
			return nil
		},
	})
	if err != nil {
		rows.Close()
		return 0, err
	}
	var placed []shipped
	last := watermark
	for rows.Next() {
		var seq int64
		var account, keyID, bucket string
		var blob []byte
		if err := rows.Scan(&seq, &account, &keyID, &bucket, &blob); err != nil {
			rows.Close()
			return 0, err
		}
		b, err := keys.ParseBucket(bucket)
		if err != nil {
			rows.Close()
			return 0, err
		}
		ref, err := w.Append(ctx, segments.Group{Account: account, Bucket: b, KeyID: keyID}, blob)
		if err != nil {
			rows.Close()
			return 0, err
		}
		placed = append(placed, shipped{seq: seq, ref: ref})
		last = seq
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(placed) == 0 {
		return 0, nil
	}
	if err := w.Close(ctx); err != nil {
		return 0, err
	}
	err = s.exclusive(ctx, func(ctx context.Context, tx *sql.Tx) error {
		now := nanos(s.now())
		for _, sg := range sealed {
			if _, err := tx.ExecContext(ctx, `INSERT INTO segments (key, version_id, account, bucket, key_id, size, sha256, retain_until, legal_hold, stored_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, sg.Key, sg.VersionID, sg.Header.Account, sg.Header.Bucket.String(), sg.Header.KeyID,
				sg.Size, sg.SHA256[:], nanos(sg.Lock.RetainUntil), sg.Lock.LegalHold, now); err != nil {
				return fmt.Errorf("while recording segment %s: %w", sg.Key, err)
			}
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO record_segments (seq, segment_key, offset, length, sha256) VALUES (?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, p := range placed {
			if _, err := stmt.ExecContext(ctx, p.seq, p.ref.Key, p.ref.Offset, p.ref.Length, p.ref.SHA256[:]); err != nil {
				return fmt.Errorf("while recording where record %d is: %w", p.seq, err)
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO segment_shipping (id, shipped_seq) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET shipped_seq = excluded.shipped_seq`, last)
		return err
	})
	if err != nil {
		return 0, err
	}
	s.log.V(1).Info("Shipped records to segments", "records", len(placed), "segments", len(sealed))
	return len(placed), nil
}

// accountHeld says whether an active legal hold covers any record of the
// account, by account or by custodian. Segments are held whole: a hold on
// one record of a segment keeps the segment.
func (s *Store) accountHeld(ctx context.Context, account string) (bool, error) {
	var held bool
	err := s.reader.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM holds h WHERE h.released_at IS NULL AND (
		EXISTS (SELECT 1 FROM hold_accounts ha WHERE ha.hold_id = h.id AND ha.account = ?)
		OR EXISTS (SELECT 1 FROM hold_custodians hc JOIN records r ON r.custodian = hc.custodian WHERE hc.hold_id = h.id AND r.account = ?)))`,
		account, account).Scan(&held)
	return held, err
}

// mirrorHolds puts each live segment's object legal hold in step with the
// archive's holds: on while a hold covers its account, off once none does.
func (sh *shipper) mirrorHolds(ctx context.Context) error {
	s := sh.s
	rows, err := s.reader.QueryContext(ctx, `SELECT key, version_id, account, legal_hold FROM segments WHERE deleted_at IS NULL ORDER BY account`)
	if err != nil {
		return err
	}
	type seg struct {
		key, version, account string
		held                  bool
	}
	var all []seg
	for rows.Next() {
		var g seg
		if err := rows.Scan(&g.key, &g.version, &g.account, &g.held); err != nil {
			rows.Close()
			return err
		}
		all = append(all, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	want := map[string]bool{}
	for _, g := range all {
		on, known := want[g.account]
		if !known {
			if on, err = s.accountHeld(ctx, g.account); err != nil {
				return err
			}
			want[g.account] = on
		}
		if on == g.held {
			continue
		}
		if err := sh.opts.Backend.SetLegalHold(ctx, g.key, g.version, on); err != nil {
			return fmt.Errorf("while setting the legal hold of %s: %w", g.key, err)
		}
		if err := s.exclusive(ctx, func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE segments SET legal_hold = ? WHERE key = ?`, on, g.key)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// deleteSpent deletes segments whose records are all purged, once their
// lock has run out and no hold is on them, and logs each deletion.
func (sh *shipper) deleteSpent(ctx context.Context) error {
	s := sh.s
	rows, err := s.reader.QueryContext(ctx, `SELECT key, version_id FROM segments g WHERE g.deleted_at IS NULL
		AND g.retain_until <= ? AND NOT g.legal_hold
		AND NOT EXISTS (SELECT 1 FROM record_segments rs JOIN records r ON r.seq = rs.seq WHERE rs.segment_key = g.key)`, nanos(s.now()))
	if err != nil {
		return err
	}
	type seg struct{ key, version string }
	var spent []seg
	for rows.Next() {
		var g seg
		if err := rows.Scan(&g.key, &g.version); err != nil {
			rows.Close()
			return err
		}
		spent = append(spent, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, g := range spent {
		if err := sh.opts.Backend.Delete(ctx, g.key, g.version); err != nil && !errors.Is(err, segments.ErrNotFound) {
			return fmt.Errorf("while deleting segment %s: %w", g.key, err)
		}
		detail, _ := json.Marshal(map[string]string{"versionID": g.version})
		if err := s.exclusive(ctx, func(ctx context.Context, tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `UPDATE segments SET deleted_at = ? WHERE key = ?`, nanos(s.now()), g.key); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM record_segments WHERE segment_key = ?`, g.key); err != nil {
				return err
			}
			return s.audit(ctx, tx, "vigil-archive", AuditSegmentDeleted, g.key, string(detail))
		}); err != nil {
			return err
		}
	}
	return nil
}

package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/segments"
	"github.com/vigil-operator/vigil/internal/archive/store/shipping"
)

// The WORM copy (internal/archive/store/shipping): this file is its catalog
// in the archive database. segments lists each stored object,
// record_segments where each record is, segment_shipping how far shipping
// has got.

// AuditSegmentDeleted logs a segment's deletion.
const AuditSegmentDeleted = shipping.AuditSegmentDeleted

// ShipSegments runs one shipping pass now, for tests and tools.
func (s *Store) ShipSegments(ctx context.Context) error { return s.shipper.Pass(ctx) }

// catalog is the Store as a shipping.Catalog.
type catalog struct{ s *Store }

var _ shipping.Catalog = catalog{}

// Pending implements shipping.Catalog. It returns durable records only: a
// reader sees a commit before the syncer has made it durable
// (durability.go), and a WORM copy must not outlive a record that a power
// loss then takes. Every record visible before the empty write below reaches
// the writer was committed, and handed to the syncer, before it; the syncer
// makes commits durable in order; so once that write returns, they are.
func (c catalog) Pending(ctx context.Context, limit int) ([]shipping.Pending, error) {
	var visible int64
	if err := c.s.reader.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM records`).Scan(&visible); err != nil {
		return nil, fmt.Errorf("while reading records to ship: %w", err)
	}
	if err := c.s.exclusive(ctx, func(context.Context, *sql.Tx) error { return nil }); err != nil {
		return nil, fmt.Errorf("while waiting for records to ship to be durable: %w", err)
	}
	rows, err := c.s.reader.QueryContext(ctx, `SELECT r.seq, r.account, r.key_id, k.bucket, r.record FROM records r
		JOIN data_keys k ON k.id = r.key_id
		WHERE r.seq > coalesce((SELECT shipped_seq FROM segment_shipping WHERE id = 1), 0) AND r.seq <= ?
		ORDER BY r.seq LIMIT ?`, visible, limit)
	if err != nil {
		return nil, fmt.Errorf("while reading records to ship: %w", err)
	}
	defer rows.Close()
	var out []shipping.Pending
	for rows.Next() {
		var p shipping.Pending
		var bucket string
		if err := rows.Scan(&p.Seq, &p.Account, &p.KeyID, &bucket, &p.Blob); err != nil {
			return nil, err
		}
		if p.Bucket, err = keys.ParseBucket(bucket); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Record implements shipping.Catalog.
func (c catalog) Record(ctx context.Context, stored []segments.Sealed, placed []shipping.Placed, last int64) error {
	return c.s.exclusive(ctx, func(ctx context.Context, tx *sql.Tx) error {
		now := nanos(c.s.now())
		for _, sg := range stored {
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
			if _, err := stmt.ExecContext(ctx, p.Seq, p.Ref.Key, p.Ref.Offset, p.Ref.Length, p.Ref.SHA256[:]); err != nil {
				return fmt.Errorf("while recording where record %d is: %w", p.Seq, err)
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO segment_shipping (id, shipped_seq) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET shipped_seq = excluded.shipped_seq`, last)
		return err
	})
}

// AccountHeld implements shipping.Catalog: an active hold covers the
// account, or the custodian of one of its records.
func (c catalog) AccountHeld(ctx context.Context, account string) (bool, error) {
	var held bool
	err := c.s.reader.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM holds h WHERE h.released_at IS NULL AND (
		EXISTS (SELECT 1 FROM hold_accounts ha WHERE ha.hold_id = h.id AND ha.account = ?)
		OR EXISTS (SELECT 1 FROM hold_custodians hc JOIN records r ON r.custodian = hc.custodian WHERE hc.hold_id = h.id AND r.account = ?)))`,
		account, account).Scan(&held)
	return held, err
}

// Live implements shipping.Catalog.
func (c catalog) Live(ctx context.Context) ([]shipping.Segment, error) {
	return c.segments(ctx, `SELECT key, version_id, account, legal_hold FROM segments WHERE deleted_at IS NULL ORDER BY account, key`)
}

// Spent implements shipping.Catalog.
func (c catalog) Spent(ctx context.Context, now time.Time) ([]shipping.Segment, error) {
	return c.segments(ctx, `SELECT key, version_id, account, legal_hold FROM segments g WHERE g.deleted_at IS NULL
		AND g.retain_until <= ? AND NOT g.legal_hold
		AND NOT EXISTS (SELECT 1 FROM record_segments rs JOIN records r ON r.seq = rs.seq WHERE rs.segment_key = g.key)`, nanos(now))
}

func (c catalog) segments(ctx context.Context, query string, args ...any) ([]shipping.Segment, error) {
	rows, err := c.s.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("while reading segments: %w", err)
	}
	defer rows.Close()
	var out []shipping.Segment
	for rows.Next() {
		var g shipping.Segment
		if err := rows.Scan(&g.Key, &g.Version, &g.Account, &g.Held); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// SetHeld implements shipping.Catalog.
func (c catalog) SetHeld(ctx context.Context, key string, on bool) error {
	return c.s.exclusive(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE segments SET legal_hold = ? WHERE key = ?`, on, key)
		return err
	})
}

// Deleted implements shipping.Catalog.
func (c catalog) Deleted(ctx context.Context, g shipping.Segment) error {
	detail, err := json.Marshal(map[string]string{"versionID": g.Version, "account": g.Account})
	if err != nil {
		return err
	}
	return c.s.exclusive(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE segments SET deleted_at = ? WHERE key = ?`, nanos(c.s.now()), g.Key); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM record_segments WHERE segment_key = ?`, g.Key); err != nil {
			return err
		}
		return c.s.audit(ctx, tx, "vigil-archive", AuditSegmentDeleted, g.Key, string(detail))
	})
}

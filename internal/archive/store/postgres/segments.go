package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/segments"
	"github.com/vigil-operator/vigil/internal/archive/store/shipping"
)

// The WORM copy (internal/archive/store/shipping): this file is its catalog
// in the archive database, the same tables as the SQLite backend's. With
// several replicas each ships; Record keeps the first placement of a record
// and the highest watermark, so a record shipped twice at once leaves an
// unreferenced (still locked) segment, never a lost or double placement.

// ShipSegments runs one shipping pass now, for tests and tools.
func (s *Store) ShipSegments(ctx context.Context) error { return s.shipper.Pass(ctx) }

// catalog is the Store as a shipping.Catalog.
type catalog struct{ s *Store }

var _ shipping.Catalog = catalog{}

// Pending implements shipping.Catalog.
func (c catalog) Pending(ctx context.Context, limit int) ([]shipping.Pending, error) {
	var out []shipping.Pending
	err := c.s.reader.with(ctx, func(conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, `SELECT r.seq, r.account, r.key_id, k.bucket, r.record FROM records r
			JOIN data_keys k ON k.id = r.key_id
			WHERE r.seq > coalesce((SELECT shipped_seq FROM segment_shipping WHERE id = 1), 0) ORDER BY r.seq LIMIT $1`, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p shipping.Pending
			var bucket string
			if err := rows.Scan(&p.Seq, &p.Account, &p.KeyID, &bucket, &p.Blob); err != nil {
				return err
			}
			if p.Bucket, err = keys.ParseBucket(bucket); err != nil {
				return err
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("while reading records to ship: %w", err)
	}
	return out, nil
}

// Record implements shipping.Catalog.
func (c catalog) Record(ctx context.Context, stored []segments.Sealed, placed []shipping.Placed, last int64) error {
	return c.s.exclusive(ctx, func(ctx context.Context, t *txn) error {
		now := nanos(c.s.now())
		for _, sg := range stored {
			if _, err := t.Exec(ctx, `INSERT INTO segments (key, version_id, account, bucket, key_id, size, sha256, retain_until, legal_hold, stored_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, sg.Key, sg.VersionID, sg.Header.Account, sg.Header.Bucket.String(), sg.Header.KeyID,
				sg.Size, sg.SHA256[:], nanos(sg.Lock.RetainUntil), sg.Lock.LegalHold, now); err != nil {
				return fmt.Errorf("while recording segment %s: %w", sg.Key, err)
			}
		}
		seqs, keys, offsets, lengths, sums := make([]int64, len(placed)), make([]string, len(placed)), make([]int64, len(placed)), make([]int32, len(placed)), make([][]byte, len(placed))
		for i, p := range placed {
			seqs[i], keys[i], offsets[i], lengths[i], sums[i] = p.Seq, p.Ref.Key, p.Ref.Offset, int32(p.Ref.Length), p.Ref.SHA256[:]
		}
		if _, err := t.Exec(ctx, `INSERT INTO record_segments (seq, segment_key, "offset", length, sha256)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::integer[], $5::bytea[]) ON CONFLICT (seq) DO NOTHING`,
			seqs, keys, offsets, lengths, sums); err != nil {
			return fmt.Errorf("while recording where records are: %w", err)
		}
		_, err := t.Exec(ctx, `INSERT INTO segment_shipping (id, shipped_seq) VALUES (1, $1)
			ON CONFLICT (id) DO UPDATE SET shipped_seq = greatest(segment_shipping.shipped_seq, excluded.shipped_seq)`, last)
		return err
	})
}

// AccountHeld implements shipping.Catalog: an active hold covers the
// account, or the custodian of one of its records.
func (c catalog) AccountHeld(ctx context.Context, account string) (bool, error) {
	var held bool
	err := c.s.reader.with(ctx, func(conn *pgx.Conn) error {
		return conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM holds h WHERE h.released_at IS NULL AND (
			EXISTS (SELECT 1 FROM hold_accounts ha WHERE ha.hold_id = h.id AND ha.account = $1)
			OR EXISTS (SELECT 1 FROM hold_custodians hc JOIN records r ON r.custodian = hc.custodian WHERE hc.hold_id = h.id AND r.account = $1)))`,
			account).Scan(&held)
	})
	return held, err
}

// Live implements shipping.Catalog.
func (c catalog) Live(ctx context.Context) ([]shipping.Segment, error) {
	return c.segments(ctx, `SELECT key, version_id, account, legal_hold FROM segments WHERE deleted_at IS NULL ORDER BY account, key`)
}

// Spent implements shipping.Catalog.
func (c catalog) Spent(ctx context.Context, now time.Time) ([]shipping.Segment, error) {
	return c.segments(ctx, `SELECT key, version_id, account, legal_hold FROM segments g WHERE g.deleted_at IS NULL
		AND g.retain_until <= $1 AND NOT g.legal_hold
		AND NOT EXISTS (SELECT 1 FROM record_segments rs JOIN records r ON r.seq = rs.seq WHERE rs.segment_key = g.key)`, nanos(now))
}

func (c catalog) segments(ctx context.Context, query string, args ...any) ([]shipping.Segment, error) {
	var out []shipping.Segment
	err := c.s.reader.with(ctx, func(conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var g shipping.Segment
			if err := rows.Scan(&g.Key, &g.Version, &g.Account, &g.Held); err != nil {
				return err
			}
			out = append(out, g)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("while reading segments: %w", err)
	}
	return out, nil
}

// SetHeld implements shipping.Catalog.
func (c catalog) SetHeld(ctx context.Context, key string, on bool) error {
	return c.s.exclusive(ctx, func(ctx context.Context, t *txn) error {
		_, err := t.Exec(ctx, `UPDATE segments SET legal_hold = $1 WHERE key = $2`, on, key)
		return err
	})
}

// Deleted implements shipping.Catalog.
func (c catalog) Deleted(ctx context.Context, g shipping.Segment) error {
	detail, err := json.Marshal(map[string]string{"versionID": g.Version, "account": g.Account})
	if err != nil {
		return err
	}
	return c.s.exclusive(ctx, func(ctx context.Context, t *txn) error {
		if _, err := t.Exec(ctx, `UPDATE segments SET deleted_at = $1 WHERE key = $2`, nanos(c.s.now()), g.Key); err != nil {
			return err
		}
		if _, err := t.Exec(ctx, `DELETE FROM record_segments WHERE segment_key = $1`, g.Key); err != nil {
			return err
		}
		c.s.audit(t, "vigil-archive", shipping.AuditSegmentDeleted, g.Key, string(detail))
		return nil
	})
}

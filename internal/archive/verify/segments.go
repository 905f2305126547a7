package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-operator/vigil/internal/archive/segments"
)

// checkSegments holds the database's content against its WORM copy. Every
// placement must name a recorded segment and carry the SHA-256 of the
// record's stored bytes; with the segment store at hand, every live segment
// must verify end to end and hold, at each record's place, exactly the
// database's bytes. A record altered in the database and re-hashed into a
// forged leaf would still differ from the copy nobody can alter.
func checkSegments(ctx context.Context, tx *sql.Tx, r *Report, backend segments.Backend) error {
	var hasTable int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'segments'`).Scan(&hasTable); err != nil {
		return fmt.Errorf("while looking for segments: %w", err)
	}
	if hasTable == 0 {
		return nil
	}
	versions := map[string]string{}
	rows, err := tx.QueryContext(ctx, `SELECT key, version_id FROM segments WHERE deleted_at IS NULL ORDER BY key`)
	if err != nil {
		return fmt.Errorf("while reading the segments: %w", err)
	}
	for rows.Next() {
		var key, version string
		if err := rows.Scan(&key, &version); err != nil {
			rows.Close()
			return err
		}
		versions[key] = version
		r.Counts.Segments++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if backend != nil {
		for key, version := range versions {
			if _, err := segments.Verify(ctx, backend, key, version); err != nil {
				r.problem(KindSegment, "segment "+key, "the stored segment does not verify: %v", err)
			}
		}
		if err := noteUnrecorded(ctx, tx, r, backend); err != nil {
			return err
		}
	} else if len(versions) > 0 {
		r.note("segments not read: give the segment store (--segments-dir) to compare the WORM copy with the database")
	}
	rows, err = tx.QueryContext(ctx, `SELECT r.id, r.record, rs.segment_key, rs.offset, rs.length, rs.sha256 FROM record_segments rs
		JOIN records r ON r.seq = rs.seq ORDER BY rs.seq`)
	if err != nil {
		return fmt.Errorf("while reading record placements: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var stored, sum []byte
		var ref segments.Ref
		if err := rows.Scan(&id, &stored, &ref.Key, &ref.Offset, &ref.Length, &sum); err != nil {
			return err
		}
		copy(ref.SHA256[:], sum)
		where := "record " + id
		version, ok := versions[ref.Key]
		if !ok {
			r.problem(KindSegment, where, "placed in segment %s, which is not recorded as stored", ref.Key)
			continue
		}
		if got := sha256.Sum256(stored); got != ref.SHA256 {
			r.problem(KindSegment, where, "the database's bytes differ from those placed in segment %s", ref.Key)
		}
		if backend == nil {
			continue
		}
		copyBytes, err := segments.ReadRecord(ctx, backend, ref, version)
		switch {
		case err != nil:
			r.problem(KindSegment, where, "cannot be read from segment %s: %v", ref.Key, err)
		case !bytes.Equal(copyBytes, stored):
			r.problem(KindSegment, where, "the WORM copy in segment %s differs from the database's", ref.Key)
		default:
			r.Counts.RecordsInSegments++
		}
	}
	return rows.Err()
}

// noteUnrecorded counts objects in the segment store that the catalog never
// recorded: a crash between an upload and the transaction that records it
// leaves one (its records were shipped again), and so would an object
// planted in the store. Neither changes what the archive holds, so they are
// a note, with the first few named for the auditor to look at.
func noteUnrecorded(ctx context.Context, tx *sql.Tx, r *Report, backend segments.Backend) error {
	known := map[string]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT key FROM segments`)
	if err != nil {
		return fmt.Errorf("while reading the segments: %w", err)
	}
	for rows.Next() {
		var key string
		if err := rows.Scan(&key); err != nil {
			rows.Close()
			return err
		}
		known[key] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var unrecorded []string
	for info, err := range backend.List(ctx, "segments/") {
		if err != nil {
			return fmt.Errorf("while listing the segment store: %w", err)
		}
		if !known[info.Key] {
			unrecorded = append(unrecorded, info.Key)
		}
	}
	if len(unrecorded) > 0 {
		slices.Sort(unrecorded)
		r.note("%d objects in the segment store are not in the archive's catalog (left by a crash between an upload and its recording, or put there by someone else), e.g. %s",
			len(unrecorded), strings.Join(unrecorded[:min(3, len(unrecorded))], ", "))
	}
	return nil
}

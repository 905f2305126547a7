package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vigil-operator/vigil/internal/archive/search"
	"github.com/vigil-operator/vigil/internal/archive/store"
)

// holdCovers is true when hold h covers record r: its account or custodian,
// its time range, and its query, run on the search index. The index answers
// a query with a superset of its exact matches (phrases are matched as
// their words in any order, and phrase exclusions are left out), so a hold
// may keep a few records its query does not quite match, and never lets go
// of one it does: the safe way round for a legal hold.
const holdCovers = `(EXISTS (SELECT 1 FROM hold_accounts ha WHERE ha.hold_id = h.id AND ha.account = r.account)
	     OR EXISTS (SELECT 1 FROM hold_custodians hc WHERE hc.hold_id = h.id AND hc.custodian = r.custodian))
	AND (h.from_ns IS NULL OR r.sent_at >= h.from_ns)
	AND (h.to_ns IS NULL OR r.sent_at <= h.to_ns)
	AND (h.query = '' OR h.match = '' OR EXISTS (SELECT 1 FROM records_fts WHERE records_fts MATCH h.match AND records_fts.rowid = r.seq))`

// heldClause is true for a record (alias r) that any active hold covers.
const heldClause = `EXISTS (SELECT 1 FROM holds h WHERE h.released_at IS NULL AND ` + holdCovers + `)`

// holdMatch compiles a hold's query for the search index; an empty query
// matches everything and needs none. An empty match on a hold with a query
// also covers the hold's whole scope (see compileHoldQueries).
func holdMatch(query string) (sql.NullString, error) {
	if query == "" {
		return sql.NullString{}, nil
	}
	q, err := search.Parse(query)
	if err != nil {
		return sql.NullString{}, fmt.Errorf("%w: hold query: %v", store.ErrInvalid, err)
	}
	return sql.NullString{String: q.FTS5(), Valid: true}, nil
}

// compileHoldQueries compiles the queries of holds placed before holds
// matched on the search index (when they matched on stored text, which
// encryption at rest removed).
func (s *Store) compileHoldQueries(ctx context.Context) error {
	rows, err := s.writer.QueryContext(ctx, `SELECT id, query FROM holds WHERE query != '' AND match IS NULL`)
	if err != nil {
		return fmt.Errorf("while reading hold queries: %w", err)
	}
	type hold struct{ id, query string }
	var todo []hold
	for rows.Next() {
		var h hold
		if err := rows.Scan(&h.id, &h.query); err != nil {
			rows.Close()
			return err
		}
		todo = append(todo, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, h := range todo {
		match, err := holdMatch(h.query)
		if err != nil {
			// A substring the search syntax cannot parse: hold every
			// record of the scope rather than none.
			s.log.Info("A hold query from before search cannot be compiled; the hold now covers its whole scope", "hold", h.id, "error", err.Error())
			match = sql.NullString{String: "", Valid: true}
		}
		if _, err := s.writer.ExecContext(ctx, `UPDATE holds SET match = ? WHERE id = ?`, match, h.id); err != nil {
			return fmt.Errorf("while compiling the query of hold %s: %w", h.id, err)
		}
	}
	return nil
}

// PutHold creates a hold or replaces its scope. A released hold cannot be put
// again under the same id: its release is part of the record.
func (s *Store) PutHold(ctx context.Context, h store.Hold) (store.HoldStatus, error) {
	if err := h.Validate(); err != nil {
		return store.HoldStatus{}, err
	}
	match, err := holdMatch(h.Query)
	if err != nil {
		return store.HoldStatus{}, err
	}
	err = s.exclusive(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var released sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT released_at FROM holds WHERE id = ?`, h.ID).Scan(&released)
		switch {
		case err == sql.ErrNoRows:
		case err != nil:
			return err
		case released.Valid:
			return fmt.Errorf("%w: hold %s was released; place a new hold under a new id", store.ErrInvalid, h.ID)
		}
		now := nanos(s.now())
		var from, to sql.NullInt64
		if h.From != nil {
			from = sql.NullInt64{Int64: nanos(*h.From), Valid: true}
		}
		if h.To != nil {
			to = sql.NullInt64{Int64: nanos(*h.To), Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO holds (id, from_ns, to_ns, query, match, reason, actor, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET from_ns = excluded.from_ns, to_ns = excluded.to_ns, query = excluded.query,
				match = excluded.match, reason = excluded.reason, actor = excluded.actor, updated_at = excluded.updated_at`,
			h.ID, from, to, h.Query, match, h.Reason, h.Actor, now, now); err != nil {
			return fmt.Errorf("while storing hold %s: %w", h.ID, err)
		}
		for _, q := range []string{`DELETE FROM hold_accounts WHERE hold_id = ?`, `DELETE FROM hold_custodians WHERE hold_id = ?`} {
			if _, err := tx.ExecContext(ctx, q, h.ID); err != nil {
				return err
			}
		}
		for _, a := range h.Accounts {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO hold_accounts (hold_id, account) VALUES (?, ?)`, h.ID, string(a)); err != nil {
				return err
			}
		}
		for _, c := range h.Custodians {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO hold_custodians (hold_id, custodian) VALUES (?, ?)`, h.ID, c); err != nil {
				return err
			}
		}
		detail, _ := json.Marshal(h)
		return s.audit(ctx, tx, h.Actor, store.AuditHoldPut, h.ID, string(detail))
	})
	if err != nil {
		return store.HoldStatus{}, err
	}
	return s.GetHold(ctx, h.ID)
}

// ReleaseHold records a release; the hold's row stays as evidence.
func (s *Store) ReleaseHold(ctx context.Context, id, reason, actor string) (store.HoldStatus, error) {
	if strings.TrimSpace(reason) == "" {
		return store.HoldStatus{}, fmt.Errorf("%w: a release needs a reason", store.ErrInvalid)
	}
	err := s.exclusive(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE holds SET released_at = ?, release_reason = ?, release_actor = ?
			WHERE id = ? AND released_at IS NULL`, nanos(s.now()), reason, actor, id)
		if err != nil {
			return fmt.Errorf("while releasing hold %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var exists int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM holds WHERE id = ?`, id).Scan(&exists); err != nil {
				return err
			}
			if exists == 0 {
				return fmt.Errorf("hold %s: %w", id, store.ErrNotFound)
			}
			return nil // already released: releasing again is a no-op, and not audited twice
		}
		return s.audit(ctx, tx, actor, store.AuditHoldRelease, id, reason)
	})
	if err != nil {
		return store.HoldStatus{}, err
	}
	return s.GetHold(ctx, id)
}

// GetHold reports a hold and how many records it holds now.
func (s *Store) GetHold(ctx context.Context, id string) (store.HoldStatus, error) {
	st := store.HoldStatus{ID: id}
	var created int64
	var released sql.NullInt64
	var releaseReason sql.NullString
	err := s.reader.QueryRowContext(ctx, `SELECT created_at, released_at, release_reason FROM holds WHERE id = ?`, id).
		Scan(&created, &released, &releaseReason)
	if err == sql.ErrNoRows {
		return st, fmt.Errorf("hold %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return st, fmt.Errorf("while reading hold %s: %w", id, err)
	}
	st.CreatedAt = fromNanos(created)
	st.ReleasedAt = nullTime(released)
	st.ReleaseReason = releaseReason.String
	st.Active = !released.Valid
	if err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM hold_accounts WHERE hold_id = ?`, id).Scan(&st.Accounts); err != nil {
		return st, err
	}
	if !st.Active {
		return st, nil
	}
	err = s.reader.QueryRowContext(ctx, `SELECT count(*) FROM records r, holds h WHERE h.id = ? AND `+holdCovers, id).Scan(&st.RecordsHeld)
	if err != nil {
		return st, fmt.Errorf("while counting records held by %s: %w", id, err)
	}
	return st, nil
}

package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

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
	AND (h.query = '' OR coalesce(h.match, '') = '' OR r.terms @@ h.match::tsquery)`

// heldClause is true for a record (alias r) that any active hold covers.
const heldClause = `EXISTS (SELECT 1 FROM holds h WHERE h.released_at IS NULL AND ` + holdCovers + `)`

// holdMatch compiles a hold's query for the search index; an empty query
// matches everything and needs none.
func holdMatch(query string) (*string, error) {
	if query == "" {
		return nil, nil
	}
	q, err := search.Parse(query)
	if err != nil {
		return nil, fmt.Errorf("%w: hold query: %v", store.ErrInvalid, err)
	}
	m := q.TSQuery()
	return &m, nil
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
	err = s.exclusive(ctx, func(ctx context.Context, t *txn) error {
		var released *int64
		err := t.QueryRow(ctx, `SELECT released_at FROM holds WHERE id = $1`, h.ID).Scan(&released)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return fmt.Errorf("while reading hold %s: %w", h.ID, err)
		case released != nil:
			return fmt.Errorf("%w: hold %s was released; place a new hold under a new id", store.ErrInvalid, h.ID)
		}
		return s.storeHold(ctx, t, h, match)
	})
	if err != nil {
		return store.HoldStatus{}, err
	}
	return s.GetHold(ctx, h.ID)
}

// storeHold writes a hold's row and scope, and audits it.
func (s *Store) storeHold(ctx context.Context, t *txn, h store.Hold, match *string) error {
	now := nanos(s.now())
	var from, to *int64
	if h.From != nil {
		n := nanos(*h.From)
		from = &n
	}
	if h.To != nil {
		n := nanos(*h.To)
		to = &n
	}
	if _, err := t.Exec(ctx, `INSERT INTO holds (id, from_ns, to_ns, query, match, reason, actor, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
		ON CONFLICT (id) DO UPDATE SET from_ns = excluded.from_ns, to_ns = excluded.to_ns, query = excluded.query,
			match = excluded.match, reason = excluded.reason, actor = excluded.actor, updated_at = excluded.updated_at`,
		h.ID, from, to, h.Query, match, h.Reason, h.Actor, now); err != nil {
		return fmt.Errorf("while storing hold %s: %w", h.ID, err)
	}
	accounts := make([]string, len(h.Accounts))
	for i, a := range h.Accounts {
		accounts[i] = string(a)
	}
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM hold_accounts WHERE hold_id = $1`, h.ID)
	b.Queue(`DELETE FROM hold_custodians WHERE hold_id = $1`, h.ID)
	b.Queue(`INSERT INTO hold_accounts (hold_id, account) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`, h.ID, accounts)
	b.Queue(`INSERT INTO hold_custodians (hold_id, custodian) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`, h.ID, h.Custodians)
	if err := t.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("while storing the scope of hold %s: %w", h.ID, err)
	}
	detail, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("while encoding hold %s for the audit trail: %w", h.ID, err)
	}
	s.audit(t, h.Actor, store.AuditHoldPut, h.ID, string(detail))
	return nil
}

// ReleaseHold records a release; the hold's row stays as evidence.
func (s *Store) ReleaseHold(ctx context.Context, id, reason, actor string) (store.HoldStatus, error) {
	if strings.TrimSpace(reason) == "" {
		return store.HoldStatus{}, fmt.Errorf("%w: a release needs a reason", store.ErrInvalid)
	}
	err := s.exclusive(ctx, func(ctx context.Context, t *txn) error {
		tag, err := t.Exec(ctx, `UPDATE holds SET released_at = $1, release_reason = $2, release_actor = $3
			WHERE id = $4 AND released_at IS NULL`, nanos(s.now()), reason, actor, id)
		if err != nil {
			return fmt.Errorf("while releasing hold %s: %w", id, err)
		}
		if tag.RowsAffected() == 1 {
			s.audit(t, actor, store.AuditHoldRelease, id, reason)
			return nil
		}
		var exists bool
		if err := t.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM holds WHERE id = $1)`, id).Scan(&exists); err != nil {
			return fmt.Errorf("while reading hold %s: %w", id, err)
		}
		if !exists {
			return fmt.Errorf("hold %s: %w", id, store.ErrNotFound)
		}
		return nil // already released: releasing again is a no-op, and not audited twice
	})
	if err != nil {
		return store.HoldStatus{}, err
	}
	return s.GetHold(ctx, id)
}

// GetHold reports a hold and how many records it holds now.
func (s *Store) GetHold(ctx context.Context, id string) (store.HoldStatus, error) {
	st := store.HoldStatus{ID: id}
	err := s.reader.with(ctx, func(c *pgx.Conn) error {
		var created int64
		var released *int64
		var releaseReason *string
		if err := c.QueryRow(ctx, `SELECT created_at, released_at, release_reason, (SELECT count(*) FROM hold_accounts WHERE hold_id = $1)
			FROM holds WHERE id = $1`, id).Scan(&created, &released, &releaseReason, &st.Accounts); err != nil {
			return err
		}
		st.CreatedAt = fromNanos(created)
		st.ReleasedAt = nullTime(released)
		if releaseReason != nil {
			st.ReleaseReason = *releaseReason
		}
		st.Active = released == nil
		if !st.Active {
			return nil
		}
		return c.QueryRow(ctx, `SELECT count(*) FROM records r, holds h WHERE h.id = $1 AND `+holdCovers, id).Scan(&st.RecordsHeld)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return st, fmt.Errorf("hold %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return st, fmt.Errorf("while reading hold %s: %w", id, err)
	}
	return st, nil
}

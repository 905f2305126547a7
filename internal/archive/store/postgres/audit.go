package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-operator/vigil/internal/archive/store"
)

// audit appends one audit event and its leaf to the transaction.
func (s *Store) audit(t *txn, actor, action, subject, detail string) {
	now := s.now()
	t.events = append(t.events, auditRow{at: nanos(now), actor: actor, action: action, subject: subject, detail: detail})
	t.appendLeaf(store.AuditLeaf(now, actor, action, subject, detail), "")
}

// RecordAccess implements store.Store: a read or an export, audited
// durably before the content is returned.
func (s *Store) RecordAccess(ctx context.Context, actor, action, subject, detail string) error {
	if err := store.ValidateAccess(action); err != nil {
		return err
	}
	return s.exclusive(ctx, func(_ context.Context, t *txn) error {
		s.audit(t, actor, action, subject, detail)
		return nil
	})
}

// Audit returns audit events after a sequence number. Sequence numbers
// increase with the log but may skip: a rolled-back transaction consumes
// the ones it drew.
func (s *Store) Audit(ctx context.Context, after int64, limit int) ([]store.AuditEvent, int64, error) {
	if limit <= 0 || limit > store.MaxListLimit {
		limit = store.MaxListLimit
	}
	var out []store.AuditEvent
	last := after
	err := s.reader.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT seq, at, actor, action, subject, detail FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e store.AuditEvent
			var at int64
			if err := rows.Scan(&last, &at, &e.Actor, &e.Action, &e.Subject, &e.Detail); err != nil {
				return err
			}
			e.At = fromNanos(at)
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, after, fmt.Errorf("while reading the audit trail: %w", err)
	}
	return out, last, nil
}

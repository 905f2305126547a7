package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vigil-operator/vigil/internal/archive/store"
)

// List returns records of an account, oldest id first, a page at a time.
func (s *Store) List(ctx context.Context, q store.Query) ([]store.StoredRecord, string, error) {
	if _, err := store.ParseAccountKey(string(q.Account)); err != nil {
		return nil, "", fmt.Errorf("%w: %v", store.ErrInvalid, err)
	}
	limit := q.Limit
	if limit <= 0 || limit > store.MaxListLimit {
		limit = store.MaxListLimit
	}
	where := []string{"account = ?", "id > ?"}
	args := []any{string(q.Account), q.After}
	if q.Text != "" {
		where = append(where, "instr(text, ?) > 0")
		args = append(args, q.Text)
	}
	if q.From != nil {
		where = append(where, "sent_at >= ?")
		args = append(args, nanos(*q.From))
	}
	if q.To != nil {
		where = append(where, "sent_at <= ?")
		args = append(args, nanos(*q.To))
	}
	args = append(args, limit+1)
	rows, err := s.reader.QueryContext(ctx, `SELECT id, record, findings, custodian, ingested_at FROM records WHERE `+
		strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`, args...)
	if err != nil {
		return nil, "", fmt.Errorf("while listing records: %w", err)
	}
	defer rows.Close()
	var out []store.StoredRecord
	for rows.Next() {
		var id string
		var body, findings []byte
		var ingested int64
		sr := store.StoredRecord{Account: q.Account}
		if err := rows.Scan(&id, &body, &findings, &sr.Custodian, &ingested); err != nil {
			return nil, "", err
		}
		if err := json.Unmarshal(body, &sr.Record); err != nil {
			return nil, "", fmt.Errorf("while decoding record %s: %w", id, err)
		}
		if len(findings) > 0 {
			if err := json.Unmarshal(findings, &sr.Findings); err != nil {
				return nil, "", fmt.Errorf("while decoding findings of %s: %w", id, err)
			}
		}
		sr.IngestedAt = fromNanos(ingested)
		out = append(out, sr)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].Record.ID
	}
	return out, next, nil
}

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

// List returns records of an account, oldest id first, a page at a time.
// A text query runs on the search index; phrases and exclusions the index
// cannot decide alone are checked on each candidate's text.
func (s *Store) List(ctx context.Context, q store.Query) ([]store.StoredRecord, string, error) {
	if _, err := store.ParseAccountKey(string(q.Account)); err != nil {
		return nil, "", fmt.Errorf("%w: %v", store.ErrInvalid, err)
	}
	limit := q.Limit
	if limit <= 0 || limit > store.MaxListLimit {
		limit = store.MaxListLimit
	}
	var query *search.Query
	if q.Text != "" {
		var err error
		if query, err = search.Parse(q.Text); err != nil {
			return nil, "", fmt.Errorf("%w: %v", store.ErrInvalid, err)
		}
	}
	var out []store.StoredRecord
	after := q.After
	for {
		page, more, err := s.listPage(ctx, q, query, after, limit+1-len(out))
		if err != nil {
			return nil, "", err
		}
		for _, sr := range page {
			after = sr.Record.ID
			if query == nil || !query.NeedsVerification() || query.Match(sr.Record.Text) {
				out = append(out, sr)
			}
		}
		if !more || len(out) > limit {
			break
		}
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].Record.ID
	}
	return out, next, nil
}

// listPage reads up to n candidates after the id given; more says whether
// the index may hold others.
func (s *Store) listPage(ctx context.Context, q store.Query, query *search.Query, after string, n int) ([]store.StoredRecord, bool, error) {
	where := []string{"account = ?", "id > ?"}
	args := []any{string(q.Account), after}
	if query != nil {
		where = append(where, "seq IN (SELECT rowid FROM records_fts WHERE records_fts MATCH ?)")
		args = append(args, query.FTS5())
	}
	if q.From != nil {
		where = append(where, "sent_at >= ?")
		args = append(args, nanos(*q.From))
	}
	if q.To != nil {
		where = append(where, "sent_at <= ?")
		args = append(args, nanos(*q.To))
	}
	args = append(args, n)
	rows, err := s.reader.QueryContext(ctx, `SELECT id, record, findings, key_id, custodian, ingested_at FROM records WHERE `+
		strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`, args...)
	if err != nil {
		return nil, false, fmt.Errorf("while listing records: %w", err)
	}
	defer rows.Close()
	var out []store.StoredRecord
	for rows.Next() {
		var id string
		var body, findings []byte
		var keyID sql.NullString
		var ingested int64
		sr := store.StoredRecord{Account: q.Account}
		if err := rows.Scan(&id, &body, &findings, &keyID, &sr.Custodian, &ingested); err != nil {
			return nil, false, err
		}
		body, findings, err := s.openRow(ctx, q.Account, id, keyID, body, findings)
		if err != nil {
			return nil, false, err
		}
		if err := json.Unmarshal(body, &sr.Record); err != nil {
			return nil, false, fmt.Errorf("while decoding record %s: %w", id, err)
		}
		if len(findings) > 0 {
			if err := json.Unmarshal(findings, &sr.Findings); err != nil {
				return nil, false, fmt.Errorf("while decoding findings of %s: %w", id, err)
			}
		}
		sr.IngestedAt = fromNanos(ingested)
		out = append(out, sr)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	return out, len(out) == n, nil
}

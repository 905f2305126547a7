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

// List returns records of an account in the order the archive stored them
// (the log's order), a page at a time. A text query runs on the search
// index, which yields records in that same order, so a page costs the hits
// read until it is full, not a sort of every hit (store.ListPaged).
func (s *Store) List(ctx context.Context, q store.Query) ([]store.StoredRecord, string, error) {
	return store.ListPaged(ctx, q, func(ctx context.Context, query *search.Query, after int64, n int) ([]store.StoredRecord, []int64, bool, error) {
		return s.listPage(ctx, q, query, after, n)
	})
}

// listPage reads up to n candidates after the position given; more says
// whether others may follow. With a query the index drives: FTS5 returns
// its rowids (the records' seq) in ascending order and stops at the limit.
func (s *Store) listPage(ctx context.Context, q store.Query, query *search.Query, after int64, n int) ([]store.StoredRecord, []int64, bool, error) {
	from, order := `records r`, `r.seq`
	where := []string{"r.account = ?", "r.seq > ?"}
	args := []any{string(q.Account), after}
	if query != nil {
		// CROSS JOIN keeps the index as the outer loop: SQLite never
		// reorders it, so the plan cannot fall back to testing MATCH on
		// every record of the account.
		from, order = `records_fts f CROSS JOIN records r ON r.seq = f.rowid`, `f.rowid`
		where = append(where, "records_fts MATCH ?", "f.rowid > ?")
		args = append(args, query.FTS5(), after)
	}
	if q.From != nil {
		where = append(where, "r.sent_at >= ?")
		args = append(args, nanos(*q.From))
	}
	if q.To != nil {
		where = append(where, "r.sent_at <= ?")
		args = append(args, nanos(*q.To))
	}
	for _, f := range []struct {
		cond string
		arg  any
		set  bool
	}{
		{"r.custodian = ?", q.Custodian, q.Custodian != ""},
		{"r.conversation = ?", q.Conversation, q.Conversation != ""},
		{"instr(r.categories, ?) > 0", store.CategoryPattern(q.Category), q.Category != ""},
		{"r.severity >= ?", store.SeverityRank(q.MinSeverity), q.MinSeverity != ""},
	} {
		if f.set {
			where = append(where, f.cond)
			args = append(args, f.arg)
		}
	}
	args = append(args, n)
	rows, err := s.reader.QueryContext(ctx, `SELECT r.seq, r.id, r.record, r.findings, r.key_id, r.custodian, r.ingested_at FROM `+from+
		` WHERE `+strings.Join(where, " AND ")+` ORDER BY `+order+` LIMIT ?`, args...)
	if err != nil {
		return nil, nil, false, fmt.Errorf("while listing records: %w", err)
	}
	defer rows.Close()
	var out []store.StoredRecord
	var seqs []int64
	for rows.Next() {
		var seq int64
		var id string
		var body, findings []byte
		var keyID sql.NullString
		var ingested int64
		sr := store.StoredRecord{Account: q.Account}
		if err := rows.Scan(&seq, &id, &body, &findings, &keyID, &sr.Custodian, &ingested); err != nil {
			return nil, nil, false, err
		}
		body, findings, err := s.openRow(ctx, q.Account, id, keyID, body, findings)
		if err != nil {
			return nil, nil, false, err
		}
		if err := json.Unmarshal(body, &sr.Record); err != nil {
			return nil, nil, false, fmt.Errorf("while decoding record %s: %w", id, err)
		}
		if len(findings) > 0 {
			if err := json.Unmarshal(findings, &sr.Findings); err != nil {
				return nil, nil, false, fmt.Errorf("while decoding findings of %s: %w", id, err)
			}
		}
		sr.IngestedAt = fromNanos(ingested)
		sr.RecordBytes, sr.FindingsBytes = body, findings
		out = append(out, sr)
		seqs = append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, false, err
	}
	return out, seqs, len(out) == n, nil
}

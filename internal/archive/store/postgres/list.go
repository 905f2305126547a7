package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-operator/vigil/internal/archive/search"
	"github.com/vigil-operator/vigil/internal/archive/store"
)

// List returns records of an account in the order the archive stored them
// (the log's order: records get their seq under the write lock), a page at
// a time (store.ListPaged). A text query runs on the GIN index of the terms
// column.
func (s *Store) List(ctx context.Context, q store.Query) ([]store.StoredRecord, string, error) {
	return store.ListPaged(ctx, q, func(ctx context.Context, query *search.Query, after int64, n int) ([]store.StoredRecord, []int64, bool, error) {
		return s.listPage(ctx, q, query, after, n)
	})
}

// storedRow is a records row as read, still sealed.
type storedRow struct {
	seq                  int64
	id, keyID, custodian string
	body, findings       []byte
	ingested             int64
}

// listPage reads up to n candidates after the seq given and opens them;
// more says whether others may follow.
func (s *Store) listPage(ctx context.Context, q store.Query, query *search.Query, after int64, n int) ([]store.StoredRecord, []int64, bool, error) {
	rows, err := s.readCandidates(ctx, q, query, after, n)
	if err != nil {
		return nil, nil, false, err
	}
	out := make([]store.StoredRecord, 0, len(rows))
	seqs := make([]int64, 0, len(rows))
	for _, r := range rows {
		sr, err := s.openStored(ctx, q.Account, r)
		if err != nil {
			return nil, nil, false, err
		}
		out = append(out, sr)
		seqs = append(seqs, r.seq)
	}
	return out, seqs, len(rows) == n, nil
}

// readCandidates reads the rows first and decrypts after, with the
// connection back in the pool: decrypting may read a data key, which takes
// a connection of its own.
func (s *Store) readCandidates(ctx context.Context, q store.Query, query *search.Query, after int64, n int) ([]storedRow, error) {
	where := []string{"account = $1", "seq > $2"}
	args := []any{string(q.Account), after}
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if query != nil {
		add("terms @@ ?::tsquery", query.TSQuery())
	}
	if q.From != nil {
		add("sent_at >= ?", nanos(*q.From))
	}
	if q.To != nil {
		add("sent_at <= ?", nanos(*q.To))
	}
	if q.Custodian != "" {
		add("custodian = ?", q.Custodian)
	}
	if q.Conversation != "" {
		add("conversation = ?", q.Conversation)
	}
	if q.Category != "" {
		add("strpos(categories, ?) > 0", store.CategoryPattern(q.Category))
	}
	if q.MinSeverity != "" {
		add("severity >= ?", store.SeverityRank(q.MinSeverity))
	}
	args = append(args, n)
	sql := `SELECT seq, id, record, findings, key_id, custodian, ingested_at FROM records WHERE ` +
		strings.Join(where, " AND ") + ` ORDER BY seq LIMIT $` + strconv.Itoa(len(args))
	var out []storedRow
	err := s.reader.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r storedRow
			if err := rows.Scan(&r.seq, &r.id, &r.body, &r.findings, &r.keyID, &r.custodian, &r.ingested); err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("while listing records: %w", err)
	}
	return out, nil
}

// openStored decrypts and decodes a row.
func (s *Store) openStored(ctx context.Context, account store.AccountKey, r storedRow) (store.StoredRecord, error) {
	sr := store.StoredRecord{Account: account, Custodian: r.custodian, IngestedAt: fromNanos(r.ingested)}
	body, findings, err := s.sealer.Open(ctx, account, r.id, r.keyID, r.body, r.findings)
	if err != nil {
		return sr, err
	}
	// Exports prove each record with these: the bytes its leaf hashes.
	sr.RecordBytes, sr.FindingsBytes = body, findings
	if err := json.Unmarshal(body, &sr.Record); err != nil {
		return sr, fmt.Errorf("while decoding record %s: %w", r.id, err)
	}
	if len(findings) > 0 {
		if err := json.Unmarshal(findings, &sr.Findings); err != nil {
			return sr, fmt.Errorf("while decoding findings of %s: %w", r.id, err)
		}
	}
	return sr, nil
}

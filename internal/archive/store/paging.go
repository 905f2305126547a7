package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/vigil-operator/vigil/internal/archive/search"
)

// PageFunc reads up to n candidate records of the query stored after
// position after, in storage order, with each one's position; more says
// whether others may follow. query is the parsed text search, nil for none:
// its index expression selects the candidates.
type PageFunc func(ctx context.Context, query *search.Query, after int64, n int) (page []StoredRecord, positions []int64, more bool, err error)

// ListPaged is Store.List for a backend whose records have a position in
// storage order (the log's order) and whose index yields candidates in that
// order. It checks the query, pages candidates until the page is full,
// keeps those that match exactly (the index cannot decide phrases alone),
// and returns the cursor of the next page: the last record's position.
func ListPaged(ctx context.Context, q Query, read PageFunc) ([]StoredRecord, string, error) {
	if _, err := ParseAccountKey(string(q.Account)); err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	limit := q.Limit
	if limit <= 0 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	if err := q.ValidateFilters(); err != nil {
		return nil, "", err
	}
	var query *search.Query
	if q.Text != "" {
		var err error
		if query, err = search.Parse(q.Text); err != nil {
			return nil, "", fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	after, err := parseCursor(q.After)
	if err != nil {
		return nil, "", err
	}
	var out []StoredRecord
	var positions []int64
	for {
		page, pagePositions, more, err := read(ctx, query, after, limit+1-len(out))
		if err != nil {
			return nil, "", err
		}
		for i, sr := range page {
			after = pagePositions[i]
			if query == nil || !query.NeedsVerification() || query.Match(sr.Record.Text) {
				out = append(out, sr)
				positions = append(positions, pagePositions[i])
			}
		}
		if !more || len(out) > limit {
			break
		}
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = strconv.FormatInt(positions[limit-1], 10)
	}
	return out, next, nil
}

// parseCursor reads a cursor ListPaged returned.
func parseCursor(after string) (int64, error) {
	if after == "" {
		return 0, nil
	}
	pos, err := strconv.ParseInt(after, 10, 64)
	if err != nil || pos < 0 {
		return 0, fmt.Errorf("%w: after must be the cursor the previous page returned", ErrInvalid)
	}
	return pos, nil
}

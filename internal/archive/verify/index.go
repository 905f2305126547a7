package verify

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"maps"
	"slices"

	"github.com/vigil-operator/vigil/internal/archive/search"
)

// termsDigest is an order-free digest of a set of index terms: the XOR of
// each term's truncated SHA-256. A record's expected digest comes from its
// text; the stored one from the index, read term by term.
type termsDigest [16]byte

func (d *termsDigest) add(term string) {
	sum := sha256.Sum256([]byte(term))
	for i := range d {
		d[i] ^= sum[i]
	}
}

func digestOf(text string) termsDigest {
	var d termsDigest
	for _, term := range search.IndexTermArray(text) {
		d.add(term)
	}
	return d
}

// indexExpectation is what the search index must hold: one document per
// stored record, under its seq, and, when the record's text could be read
// (in the clear, or opened with the key), exactly its terms.
type indexExpectation struct {
	docs  map[int64]bool
	terms map[int64]termsDigest
	// opened counts the records whose terms are known.
	opened int
}

func newIndexExpectation() *indexExpectation {
	return &indexExpectation{docs: map[int64]bool{}, terms: map[int64]termsDigest{}}
}

func (e *indexExpectation) record(seq int64) { e.docs[seq] = true }

func (e *indexExpectation) text(seq int64, text string) {
	e.terms[seq] = digestOf(text)
	e.opened++
}

// checkIndex reads the whole search index through an fts5vocab table (in
// the connection's in-memory temp schema; the archive file is open
// read-only) and compares it with the records. Index entries of a record
// that is gone leak what a purge was to erase; missing or altered terms
// would hide a record from searches and from query-scoped legal holds.
func checkIndex(ctx context.Context, tx *sql.Tx, r *Report, want *indexExpectation) error {
	var hasIndex int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'records_fts'`).Scan(&hasIndex); err != nil {
		return fmt.Errorf("while looking for the search index: %w", err)
	}
	if hasIndex == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `CREATE VIRTUAL TABLE temp.verify_index USING fts5vocab(main, records_fts, instance)`); err != nil {
		return fmt.Errorf("while opening the search index for reading: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT term, doc FROM temp.verify_index`)
	if err != nil {
		return fmt.Errorf("while reading the search index: %w", err)
	}
	defer rows.Close()
	stored := map[int64]termsDigest{}
	for rows.Next() {
		var term string
		var doc int64
		if err := rows.Scan(&term, &doc); err != nil {
			return fmt.Errorf("while reading the search index: %w", err)
		}
		d := stored[doc]
		d.add(term)
		stored[doc] = d
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("while reading the search index: %w", err)
	}
	for _, doc := range slices.Sorted(maps.Keys(stored)) {
		if !want.docs[doc] {
			r.problem(KindIndex, fmt.Sprintf("records_fts doc %d", doc), "the index holds terms of a record that is not stored (a purge left its words searchable, or they were inserted)")
		}
	}
	for _, seq := range slices.Sorted(maps.Keys(want.docs)) {
		got, indexed := stored[seq]
		expected, known := want.terms[seq]
		switch {
		case !indexed && known && expected != (termsDigest{}):
			r.problem(KindIndex, fmt.Sprintf("records seq %d", seq), "the record is not in the search index: searches and query-scoped holds cannot find it")
		case known && got != expected:
			r.problem(KindIndex, fmt.Sprintf("records seq %d", seq), "the index holds other terms than the record's text gives: searches and query-scoped holds see it wrongly")
		}
	}
	return nil
}

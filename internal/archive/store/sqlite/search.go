package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/vigil-operator/vigil/internal/archive/search"
)

const insertTermsSQL = `INSERT INTO records_fts (rowid, terms) VALUES (?, ?)`

// indexRecord adds a record's search terms (search.IndexTerms of its text)
// under its seq, through a statement running insertTermsSQL.
func indexRecord(ctx context.Context, stmt *sql.Stmt, seq int64, terms string) error {
	if _, err := stmt.ExecContext(ctx, seq, terms); err != nil {
		return fmt.Errorf("while indexing record %d for search: %w", seq, err)
	}
	return nil
}

// unindexRecord removes a purged record's terms.
func unindexRecord(ctx context.Context, tx *sql.Tx, seq int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM records_fts WHERE rowid = ?`, seq); err != nil {
		return fmt.Errorf("while removing record %d from search: %w", seq, err)
	}
	return nil
}

// backfillSearch indexes records stored before search existed, once.
func (s *Store) backfillSearch(ctx context.Context) error {
	var indexed, records int64
	if err := s.writer.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM records_fts), (SELECT count(*) FROM records)`).Scan(&indexed, &records); err != nil {
		return fmt.Errorf("while checking the search index: %w", err)
	}
	if indexed > 0 || records == 0 {
		return nil
	}
	return s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT seq, text FROM records ORDER BY seq`)
		if err != nil {
			return err
		}
		type row struct {
			seq  int64
			text string
		}
		var all []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.seq, &r.text); err != nil {
				rows.Close()
				return err
			}
			all = append(all, r)
		}
		rows.Close()
		stmt, err := tx.PrepareContext(ctx, insertTermsSQL)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, r := range all {
			if err := indexRecord(ctx, stmt, r.seq, search.IndexTerms(r.text)); err != nil {
				return err
			}
		}
		return nil
	})
}

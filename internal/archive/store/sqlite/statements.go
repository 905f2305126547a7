package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// writerStatements are the statements every ingest runs, prepared once on
// the writer's connection when the store opens. SQLite parsing a statement
// costs about as much as running a small insert, and a batch ran seven of
// them. tx.StmtContext binds one to a transaction without preparing it
// again: database/sql reuses the statement already prepared on the
// transaction's connection (and prepares it anew only should that
// connection have been replaced).
type writerStatements struct {
	insertRecord, insertTerms, insertLeaf, updateStats, insertAudit, keyDestroyed, countKeyRecords *sql.Stmt
}

func prepareWriterStatements(ctx context.Context, db *sql.DB) (*writerStatements, error) {
	w := &writerStatements{}
	for _, p := range []struct {
		stmt **sql.Stmt
		what string
		sql  string
	}{
		{&w.insertRecord, "the record insert", insertRecordSQL},
		{&w.insertTerms, "the search insert", insertTermsSQL},
		{&w.insertLeaf, "the log insert", insertLeafSQL},
		{&w.updateStats, "the statistics update", updateStatsSQL},
		{&w.insertAudit, "the audit insert", insertAuditSQL},
		{&w.keyDestroyed, "the data key check", keyDestroyedSQL},
		{&w.countKeyRecords, "the data key count", countKeyRecordsSQL},
	} {
		var err error
		if *p.stmt, err = db.PrepareContext(ctx, p.sql); err != nil {
			_ = w.close()
			return nil, fmt.Errorf("while preparing %s: %w", p.what, err)
		}
	}
	return w, nil
}

// close releases the statements; closing the writer's database would too.
func (w *writerStatements) close() error {
	var errs []error
	for _, stmt := range []*sql.Stmt{w.insertRecord, w.insertTerms, w.insertLeaf, w.updateStats, w.insertAudit, w.keyDestroyed, w.countKeyRecords} {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	return errors.Join(errs...)
}

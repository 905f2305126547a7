package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// data_keys.records counts the records sealed under each key. Every change
// to which records a key seals (ingest, sealing of records stored before
// encryption, purge) moves the count in the same transaction, so a purge can
// tell that no record needs a key any more without an index on
// records.key_id. `vigil verify` recounts the records and reports a count
// that disagrees: too low, it could let a purge destroy a key still in use.

const countKeyRecordsSQL = `UPDATE data_keys SET records = records + ? WHERE id = ?`

// keyCounts gathers the change to each key's count within one transaction,
// in the order keys were first seen. A batch is sealed under a key or two
// (one per month it spans), so a slice beats a map.
type keyCounts []keyCount

type keyCount struct {
	id    string
	delta int64
}

func (c *keyCounts) add(id string, delta int64) {
	for i := range *c {
		if (*c)[i].id == id {
			(*c)[i].delta += delta
			return
		}
	}
	*c = append(*c, keyCount{id: id, delta: delta})
}

// apply moves the counts through stmt, a statement running
// countKeyRecordsSQL in the caller's transaction. A key the count does not
// find is an error: the records would be sealed under a key the key store
// does not hold.
func (c keyCounts) apply(ctx context.Context, stmt *sql.Stmt) error {
	for _, k := range c {
		if k.delta == 0 {
			continue
		}
		res, err := stmt.ExecContext(ctx, k.delta, k.id)
		if err != nil {
			return fmt.Errorf("while counting the records of data key %s: %w", k.id, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("while counting the records of data key %s: the key store does not hold it", k.id)
		}
	}
	return nil
}

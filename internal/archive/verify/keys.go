package verify

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/store"
)

// storedKey is one row of data_keys, without the wrapped bytes.
type storedKey struct {
	id, account, bucket string
	destroyed           bool
	hasWrapped          bool
	wrappedSHA256       string
	// records is the key's own count of the records sealed under it, or
	// -1 for a schema without counts.
	records int64
}

// checkDataKeys checks the key store against the records and the log:
//   - every sealed record names a key the store holds, and a live one (a
//     record under a destroyed key can never be read: a purge must not
//     destroy a key while a record, held or young, remains under it);
//   - every destroyed key was destroyed by a logged key.destroyed event and
//     certified by a purge whose cutoff its month precedes, with the same
//     commitment to the erased bytes, and holds no wrapped bytes;
//   - every logged destruction left a tombstone: a key destroyed on the
//     record cannot be live again;
//   - each key's count of its records is the number sealed under it: a
//     purge destroys a key whose count is zero, so a count too low would
//     let it destroy a key still in use.
//
// It needs no key: it reads ids, months and hashes only.
func checkDataKeys(ctx context.Context, tx *sql.Tx, r *Report, log *logView, perKey map[string]int, purges *purgeIndex) error {
	var hasTable int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'data_keys'`).Scan(&hasTable); err != nil {
		return fmt.Errorf("while looking for the key store: %w", err)
	}
	if hasTable == 0 {
		return nil
	}
	var counted int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('data_keys') WHERE name = 'records'`).Scan(&counted); err != nil {
		return fmt.Errorf("while reading the key store's columns: %w", err)
	}
	recordsColumn := "-1"
	if counted > 0 {
		recordsColumn = "records"
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, account, bucket, destroyed_at IS NOT NULL, wrapped IS NOT NULL, wrapped_sha256, `+recordsColumn+` FROM data_keys ORDER BY id`)
	if err != nil {
		return fmt.Errorf("while reading the key store: %w", err)
	}
	defer rows.Close()
	stored := map[string]storedKey{}
	for rows.Next() {
		var k storedKey
		var sum []byte
		if err := rows.Scan(&k.id, &k.account, &k.bucket, &k.destroyed, &k.hasWrapped, &sum, &k.records); err != nil {
			return fmt.Errorf("while reading the key store: %w", err)
		}
		k.wrappedSHA256 = hex.EncodeToString(sum)
		stored[k.id] = k
		r.Counts.DataKeys++
		if k.destroyed {
			r.Counts.DestroyedKeys++
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("while reading the key store: %w", err)
	}

	for _, id := range slices.Sorted(maps.Keys(perKey)) {
		k, ok := stored[id]
		switch {
		case !ok:
			r.problem(KindDataKey, "data key "+id, "%d records are sealed under it but the key store does not hold it", perKey[id])
		case k.destroyed:
			r.problem(KindDataKey, "data key "+id, "%d records remain sealed under it but it was destroyed: they can never be read", perKey[id])
		}
	}
	for _, id := range slices.Sorted(maps.Keys(stored)) {
		k, sealed := stored[id], int64(perKey[id])
		switch {
		case k.records < 0 || k.records == sealed:
		case k.records < sealed:
			r.problem(KindDataKey, "data key "+id, "its count says %d records are sealed under it, but %d are: a purge destroys a key whose count is zero, so a count too low could destroy a key still in use",
				k.records, sealed)
		default:
			r.problem(KindDataKey, "data key "+id, "its count says %d records are sealed under it, but %d are: records were removed outside a purge, or moved to another key",
				k.records, sealed)
		}
	}

	logged := map[string]bool{}
	for _, l := range log.leaves {
		if !l.Valid || l.Leaf.Type != store.LeafAudit || l.Leaf.Action != store.AuditKeyDestroyed {
			continue
		}
		logged[l.Leaf.Subject] = true
		if k, ok := stored[l.Leaf.Subject]; !ok || !k.destroyed {
			r.problem(KindDataKey, "data key "+l.Leaf.Subject, "its destruction was logged (%s) but the key store holds it live or not at all", l.Where)
		}
	}
	certified := map[string]certifiedDestruction{}
	for _, pl := range purges.leaves {
		if pl.cert == nil {
			continue
		}
		for _, d := range pl.cert.DestroyedKeys {
			certified[d.KeyID] = certifiedDestruction{Destruction: d, cert: pl.cert}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(stored)) {
		k := stored[id]
		if !k.destroyed {
			continue
		}
		where := "data key " + id
		if k.hasWrapped {
			r.problem(KindDataKey, where, "destroyed, yet the key store still holds its wrapped bytes")
		}
		if !logged[id] {
			r.problem(KindDataKey, where, "destroyed without a logged key.destroyed event")
		}
		c, ok := certified[id]
		if !ok {
			r.problem(KindDataKey, where, "destroyed but no purge certificate lists it")
			continue
		}
		if c.WrappedSHA256 != k.wrappedSHA256 || c.Account != k.account || c.Bucket.String() != k.bucket {
			r.problem(KindDataKey, where, "the key store's tombstone (%s, %s, erased bytes %s) differs from what purge certificate %s lists (%s, %s, %s)",
				k.account, k.bucket, k.wrappedSHA256, c.cert.ID, c.Account, c.Bucket, c.WrappedSHA256)
		}
		if cutoff := keys.BucketOf(c.cert.Request.Cutoff).String(); strings.Compare(k.bucket, cutoff) >= 0 {
			r.problem(KindPurgeEligibility, where, "destroyed by purge certificate %s although its month %s had not ended by the cutoff (%s)", c.cert.ID, k.bucket, cutoff)
		}
	}
	return nil
}

type certifiedDestruction struct {
	keys.Destruction
	cert *purgeCertificate
}

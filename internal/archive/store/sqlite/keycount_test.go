package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/capture"
)

// keyCountsFrom reads (key id, count) rows.
func keyCountsFrom(t *testing.T, s *Store, query string) map[string]int64 {
	t.Helper()
	rows, err := s.reader.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	counts := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		counts[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return counts
}

// assertKeyCounts checks every data key's count against the records sealed
// under it.
func assertKeyCounts(t *testing.T, s *Store) {
	t.Helper()
	counted := keyCountsFrom(t, s, `SELECT id, records FROM data_keys`)
	sealed := keyCountsFrom(t, s, `SELECT key_id, count(*) FROM records WHERE key_id IS NOT NULL GROUP BY key_id`)
	// A key missing from one side reads as zero there.
	ids := maps.Clone(counted)
	maps.Copy(ids, sealed)
	for id := range ids {
		if counted[id] != sealed[id] {
			t.Errorf("data key %s counts %d records, %d are sealed under it", id, counted[id], sealed[id])
		}
	}
}

// TestKeyCountsFollowIngestAndPurge: duplicates add nothing, a purge takes
// off what it deleted, and the key a held record needs keeps its count.
func TestKeyCountsFollowIngestAndPurge(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, t.TempDir(), Options{})
	jan := time.Date(2021, 1, 10, 9, 0, 0, 0, time.UTC)
	var envs []capture.Envelope
	for i := range 30 {
		// Two days apart: the batch spans January to March.
		envs = append(envs, storetest.Envelope(fmt.Sprintf("m%d", i), jan.AddDate(0, 0, 2*i), fmt.Sprintf("message %d", i), 0))
	}
	envs = append(envs, storetest.Envelope("held", jan, "keep this for the inquiry", 0))
	for range 2 { // the second time, every record is a duplicate
		if _, err := s.Ingest(ctx, "desk/a", "Alice", "t", envs); err != nil {
			t.Fatal(err)
		}
		assertKeyCounts(t, s)
	}
	if _, err := s.PutHold(ctx, store.Hold{ID: "h", Accounts: []store.AccountKey{"desk/a"}, Query: "inquiry", Reason: "inquiry", Actor: "legal"}); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Purge(ctx, store.PurgeRequest{Accounts: []store.AccountKey{"desk/a"}, Cutoff: jan.AddDate(0, 2, 0), MaxRecords: 7, Rule: "desk/r", Actor: "op"})
	if err != nil || rep.Purged != 7 {
		t.Fatalf("purge = %+v, %v", rep, err)
	}
	assertKeyCounts(t, s)
	rep, err = s.Purge(ctx, store.PurgeRequest{Accounts: []store.AccountKey{"desk/a"}, Cutoff: jan.AddDate(0, 3, 0), MaxRecords: 100, Rule: "desk/r", Actor: "op"})
	if err != nil || rep.HeldBack != 1 || rep.KeysDestroyed != 2 {
		t.Fatalf("second purge = %+v, %v: want the held record kept and the keys of February and March destroyed", rep, err)
	}
	assertKeyCounts(t, s)
	if k := keyOf(t, s, jan); k.Destroyed() {
		t.Fatal("January's key was destroyed while the held record needs it")
	}
}

// TestMigrationCountsRecordsOfExistingKeys opens an archive whose keys
// predate counts: the migration counts what each already seals.
func TestMigrationCountsRecordsOfExistingKeys(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTestStore(t, dir, Options{})
	may := time.Date(2022, 5, 3, 0, 0, 0, 0, time.UTC)
	if _, err := s.Ingest(ctx, "desk/a", "Alice", "t", []capture.Envelope{
		storetest.Envelope("a", may, "one", 0), storetest.Envelope("b", may.AddDate(0, 1, 0), "two", 0), storetest.Envelope("c", may, "three", 0),
	}); err != nil {
		t.Fatal(err)
	}
	// Back to schema 6: no counts, and the index they replace.
	tamperRow(t, s, `UPDATE data_keys SET records = 0`)
	tamperRow(t, s, `CREATE INDEX records_key ON records (key_id) WHERE key_id IS NOT NULL`)
	tamperRow(t, s, `PRAGMA user_version = 6`)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+dir+"/"+FileName)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`ALTER TABLE data_keys DROP COLUMN records`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s = openTestStore(t, dir, Options{})
	assertKeyCounts(t, s)
	var index int
	if err := s.reader.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'records_key'`).Scan(&index); err != nil || index != 0 {
		t.Fatalf("records_key after the migration: %d, %v", index, err)
	}
}

package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/sealing"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/capture"
)

var secrets = []string{"绝密的收购暗号是青龙", "收购暗号", "the acquisition codeword is azure dragon", "codeword is", `"InsiderTrading"`, `"evidence"`}

// testNothingInTheClearAtRest stores distinctive text and findings, then
// looks for them in every table, text and bytea columns alike, and in the
// database's files and the WAL on the server's disk.
func testNothingInTheClearAtRest(t *testing.T, env *pgEnv) {
	ctx := context.Background()
	s := env.fresh(t)
	env1 := storetest.Envelope("m1", time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), secrets[0]+" / "+secrets[2], 2)
	if _, err := s.Ingest(ctx, "desk/a", "Alice", "t", []capture.Envelope{env1}); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.List(ctx, store.Query{Account: "desk/a", Text: "暗号"})
	if err != nil || len(got) != 1 || !strings.Contains(got[0].Record.Text, secrets[0]) || len(got[0].Findings) != 2 {
		t.Fatalf("search over sealed records = %+v, %v", got, err)
	}
	for _, col := range byteaColumns(t, s) {
		for _, secret := range secrets {
			var n int64
			scanRow(t, s, `SELECT count(*) FROM `+col[0]+` WHERE position($1::bytea IN coalesce(`+col[1]+`, ''::bytea)) > 0`,
				[]any{[]byte(secret)}, &n)
			if n > 0 {
				t.Errorf("%s.%s holds %q in the clear", col[0], col[1], secret)
			}
		}
	}
	for _, table := range tables(t, s) {
		for _, secret := range secrets {
			var n int64
			scanRow(t, s, `SELECT count(*) FROM `+table+` x WHERE strpos(x::text, $1) > 0`, []any{secret}, &n)
			if n > 0 {
				t.Errorf("a row of %s holds %q in the clear", table, secret)
			}
		}
	}
	searchServerFiles(t, s)
}

// byteaColumns lists the (table, column) pairs of type bytea.
func byteaColumns(t *testing.T, s *Store) [][2]string {
	t.Helper()
	var out [][2]string
	ctx := context.Background()
	err := s.reader.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT table_name::text, column_name::text FROM information_schema.columns
			WHERE table_schema = current_schema() AND data_type = 'bytea' ORDER BY 1, 2`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) ([2]string, error) {
			var p [2]string
			err := row.Scan(&p[0], &p[1])
			return p, err
		})
		return err
	})
	if err != nil || len(out) < 5 {
		t.Fatalf("bytea columns %v, %v", out, err)
	}
	return out
}

func tables(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	ctx := context.Background()
	err := s.reader.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil || len(out) < 10 {
		t.Fatalf("tables %v, %v", out, err)
	}
	return out
}

// searchServerFiles flushes the server's buffers and reads the database's
// files and the WAL, as someone holding a copy of the volume would.
func searchServerFiles(t *testing.T, s *Store) {
	t.Helper()
	execSQL(t, s, `CHECKPOINT`)
	var dataDir string
	var dbOID int64
	scanRow(t, s, `SELECT current_setting('data_directory'), (SELECT oid::bigint FROM pg_database WHERE datname = current_database())`,
		nil, &dataDir, &dbOID)
	for _, dir := range []string{filepath.Join(dataDir, "base", strconv.FormatInt(dbOID, 10)), filepath.Join(dataDir, "pg_wal")} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, secret := range secrets {
				if bytes.Contains(b, []byte(secret)) {
					t.Errorf("%s holds %q in the clear", path, secret)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func testPurgeDestroysAnEmptiedMonthsKey(t *testing.T, env *pgEnv) {
	ctx := context.Background()
	s := env.fresh(t)
	march := time.Date(2020, 3, 5, 9, 0, 0, 0, time.UTC)
	envs := []capture.Envelope{
		storetest.Envelope("m1", march, "march one", 0),
		storetest.Envelope("m2", march.Add(time.Hour), "march two, under a hold", 0),
		storetest.Envelope("m3", march.AddDate(0, 1, 0), "april", 0),
	}
	if _, err := s.Ingest(ctx, "desk/a", "Alice", "t", envs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutHold(ctx, store.Hold{ID: "h", Accounts: []store.AccountKey{"desk/a"}, Query: "hold", Reason: "inquiry", Actor: "legal"}); err != nil {
		t.Fatal(err)
	}
	purge := func(cutoff time.Time) store.PurgeReport {
		t.Helper()
		rep, err := s.Purge(ctx, store.PurgeRequest{Accounts: []store.AccountKey{"desk/a"}, Cutoff: cutoff, MaxRecords: 100, Rule: "desk/r", Actor: "op"})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	may := time.Date(2020, 5, 1, 0, 0, 0, 0, time.UTC)
	// May: March and April are over. The held record keeps March's key.
	if rep := purge(may); rep.Purged != 2 || rep.HeldBack != 1 || rep.KeysDestroyed != 1 {
		t.Fatalf("first purge = %+v, want 2 purged, 1 held back, April's key destroyed", rep)
	}
	if k := keyOf(t, s, march.AddDate(0, 1, 0)); !k.Destroyed() {
		t.Fatalf("April's key after the purge: %v, want destroyed", k)
	}
	if k := keyOf(t, s, march); k.Destroyed() {
		t.Fatalf("March's key must live while a held record needs it: %v", k)
	}
	got, _, err := s.List(ctx, store.Query{Account: "desk/a"})
	if err != nil || len(got) != 1 || got[0].Record.ID != envs[1].Record.ID {
		t.Fatalf("after the purge the held record must still read: %+v, %v", got, err)
	}

	// A late record of the shredded month is kept, under the current
	// month's key, and reads back.
	late := storetest.Envelope("m4", march.AddDate(0, 1, 3), "late backfill of april", 0)
	if res, err := s.Ingest(ctx, "desk/a", "Alice", "t", []capture.Envelope{late}); err != nil || res.Inserted != 1 {
		t.Fatalf("late record into a shredded month = %+v, %v", res, err)
	}
	if got, _, err = s.List(ctx, store.Query{Account: "desk/a", Text: "backfill"}); err != nil || len(got) != 1 {
		t.Fatalf("late record must read back: %+v, %v", got, err)
	}

	// Releasing the hold lets the next purge take March and its key, and
	// the late record (sent in April).
	if _, err := s.ReleaseHold(ctx, "h", "closed", "legal"); err != nil {
		t.Fatal(err)
	}
	rep := purge(may)
	if rep.Purged != 2 || rep.KeysDestroyed != 1 {
		t.Fatalf("second purge = %+v, want March's record and key, and the late record", rep)
	}
	var body []byte
	scanRow(t, s, `SELECT body FROM purge_certificates WHERE id = $1`, []any{rep.CertificateID}, &body)
	var cert store.PurgeCertificate
	if err := json.Unmarshal(body, &cert); err != nil {
		t.Fatal(err)
	}
	if len(cert.DestroyedKeys) != 1 || cert.DestroyedKeys[0].Bucket != keys.BucketOf(march) || len(cert.PurgedRecords) != 2 ||
		!slices.Contains(cert.PurgedRecords, envs[1].Record.ID) || len(cert.DestroyedKeys[0].WrappedSHA256) != 64 {
		t.Fatalf("certificate %+v must list the purged record and March's destroyed key", cert)
	}
	events, _, err := s.Audit(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	destroyedEvents := 0
	for _, e := range events {
		if e.Action == store.AuditKeyDestroyed {
			destroyedEvents++
		}
	}
	if destroyedEvents != 2 {
		t.Fatalf("%d key.destroyed audit events, want 2", destroyedEvents)
	}
	var wrappedLeft int64
	if scanRow(t, s, `SELECT count(*) FROM data_keys WHERE destroyed_at IS NOT NULL AND wrapped IS NOT NULL`, nil, &wrappedLeft); wrappedLeft != 0 {
		t.Fatalf("%d destroyed keys keep wrapped bytes", wrappedLeft)
	}
}

// testIngestResealsAfterLosingARaceWithAPurge seals a batch, lets a purge
// destroy the key it was sealed under, and only then hands it to the
// writer: the writer must refuse it rather than store unreadable records,
// and Ingest must seal again under a live key.
func testIngestResealsAfterLosingARaceWithAPurge(t *testing.T, env *pgEnv) {
	ctx := context.Background()
	s := env.fresh(t)
	jan := time.Date(2020, 1, 10, 0, 0, 0, 0, time.UTC)
	if _, err := s.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{storetest.Envelope("m1", jan, "first", 0)}); err != nil {
		t.Fatal(err)
	}
	stale := storetest.Envelope("m2", jan.Add(time.Hour), "sealed before the purge", 0)
	sealed, err := s.sealer.SealEnvelope(ctx, "desk/a", stale)
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := s.Purge(ctx, store.PurgeRequest{Accounts: []store.AccountKey{"desk/a"}, Cutoff: jan.AddDate(0, 2, 0), MaxRecords: 10, Rule: "r/r", Actor: "op"}); err != nil || rep.KeysDestroyed != 1 {
		t.Fatalf("purge = %+v, %v", rep, err)
	}
	job := &ingestJob{account: "desk/a", custodian: "A", actor: "t", envs: []capture.Envelope{stale},
		sealed: []sealing.Record{sealed}, terms: []string{""}}
	if err := s.submit(ctx, &writeJob{ingest: job}); !errors.Is(err, errKeyDestroyed) {
		t.Fatalf("a batch sealed under a destroyed key = %v, want errKeyDestroyed", err)
	}
	if res, err := s.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{stale}); err != nil || res.Inserted != 1 {
		t.Fatalf("Ingest after the race = %+v, %v", res, err)
	}
	got, _, err := s.List(ctx, store.Query{Account: "desk/a"})
	if err != nil || len(got) != 1 || got[0].Record.Text != "sealed before the purge" {
		t.Fatalf("List = %+v, %v", got, err)
	}
}

// testReplicaResealsAfterAnotherReplicasPurge: replica A caches January's
// key, replica B's purge destroys it, and A's next January record, sealed
// under the cached key, is refused by A's writer and sealed again.
func testReplicaResealsAfterAnotherReplicasPurge(t *testing.T, env *pgEnv) {
	ctx := context.Background()
	dsn, k := env.database(t), newTestKeys(t)
	a, b := open(t, dsn, k, Options{}), open(t, dsn, k, Options{})
	jan := time.Date(2020, 1, 10, 0, 0, 0, 0, time.UTC)
	if _, err := a.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{storetest.Envelope("m1", jan, "first", 0)}); err != nil {
		t.Fatal(err)
	}
	if rep, err := b.Purge(ctx, store.PurgeRequest{Accounts: []store.AccountKey{"desk/a"}, Cutoff: jan.AddDate(0, 2, 0), MaxRecords: 10, Rule: "r/r", Actor: "op"}); err != nil || rep.KeysDestroyed != 1 {
		t.Fatalf("purge on the other replica = %+v, %v", rep, err)
	}
	late := storetest.Envelope("m2", jan.Add(time.Hour), "late January record", 0)
	if res, err := a.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{late}); err != nil || res.Inserted != 1 {
		t.Fatalf("Ingest on the replica that cached the destroyed key = %+v, %v", res, err)
	}
	for name, s := range map[string]*Store{"A": a, "B": b} {
		got, _, err := s.List(ctx, store.Query{Account: "desk/a"})
		if err != nil || len(got) != 1 || got[0].Record.Text != late.Record.Text {
			t.Fatalf("replica %s lists %+v, %v", name, got, err)
		}
	}
}

func testTamperedCiphertextIsRefusedNotReturned(t *testing.T, env *pgEnv) {
	ctx := context.Background()
	s := env.fresh(t)
	env1 := storetest.Envelope("m1", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "original", 0)
	if _, err := s.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{env1}); err != nil {
		t.Fatal(err)
	}
	execSQL(t, s, `UPDATE records SET record = set_byte(record, length(record) - 1, get_byte(record, length(record) - 1) # 1) WHERE id = $1`, env1.Record.ID)
	if _, _, err := s.List(ctx, store.Query{Account: "desk/a"}); !errors.Is(err, keys.ErrTampered) {
		t.Fatalf("List of a tampered record = %v, want ErrTampered", err)
	}
}

func testWrongKEKCannotOpenTheArchive(t *testing.T, env *pgEnv) {
	ctx := context.Background()
	dsn, k := env.database(t), newTestKeys(t)
	s := open(t, dsn, k, Options{})
	if _, err := s.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{storetest.Envelope("m1", time.Now(), "x", 0)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	k.ring = testRing(t, "kek-other")
	other := open(t, dsn, k, Options{})
	if _, _, err := other.List(ctx, store.Query{Account: "desk/a"}); !errors.Is(err, keys.ErrUnknownKEK) {
		t.Fatalf("List with another KEK = %v, want ErrUnknownKEK", err)
	}
}

func keyOf(t *testing.T, s *Store, month time.Time) keys.WrappedDEK {
	t.Helper()
	k, err := s.KeyStore().Lookup(context.Background(), keys.Scope{Tenant: sealing.DefaultTenant, Account: "desk/a", Bucket: keys.BucketOf(month)})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

package postgres

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/jackc/pgx/v5"

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/keys/keystoretest"
	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/testenv"
)

// TestPostgres runs the package's tests against one real PostgreSQL server,
// started once (that takes seconds), each test in a schema of its own.
func TestPostgres(t *testing.T) {
	env := newPgEnv(t)
	tests := []struct {
		name string
		fn   func(*testing.T, *pgEnv)
	}{
		{"conformance", testConformance},
		{"key store conformance", testKeyStoreConformance},
		{"open refuses a missing signer or key ring", testOpenNeedsKeys},
		{"reopen keeps data", testReopenKeepsData},
		{"migrations are recorded and not rerun", testMigrations},
		{"the store outlives a server restart", testServerRestart},
		{"terms past the tsvector limit are dropped, not garbled", testTermsPastTheTSVectorLimit},
		{"nothing in the clear at rest", testNothingInTheClearAtRest},
		{"purge destroys an emptied month's key", testPurgeDestroysAnEmptiedMonthsKey},
		{"ingest reseals after losing a race with a purge", testIngestResealsAfterLosingARaceWithAPurge},
		{"a replica reseals after another replica's purge", testReplicaResealsAfterAnotherReplicasPurge},
		{"tampered ciphertext is refused", testTamperedCiphertextIsRefusedNotReturned},
		{"wrong KEK cannot open the archive", testWrongKEKCannotOpenTheArchive},
		{"log survives reopen", testLogSurvivesReopen},
		{"failed transaction appends no leaf", testFailedTransactionAppendsNoLeaf},
		{"tree hashes serve a checkpoint", testTreeHashesServeACheckpoint},
		{"a purge sees a hold committed while it waited", testPurgeSeesAHoldCommittedWhileItWaited},
		{"concurrent ingests leave no gap in the log", testConcurrentIngestsLeaveNoGap},
		{"replicas share one log", testReplicasShareOneLog},
		{"search agrees with SQLite", testSearchAgreesWithSQLite},
		{"segments keep a WORM copy", testSegmentsKeepAWORMCopy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, env) })
	}
}

// pgEnv makes fresh schemas in a database of the test server: a schema
// costs milliseconds, a database (created, then dropped with a forced
// checkpoint) seconds. Nothing is dropped: the server's data directory goes
// when the test ends.
type pgEnv struct {
	pg *testenv.Postgres
	// dsn connects as the superuser to the tests' database.
	dsn string
	n   atomic.Int64
}

// newPgEnv starts a server and creates the tests' database in it.
func newPgEnv(t testing.TB) *pgEnv {
	t.Helper()
	pg := testenv.StartPostgres(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE DATABASE vigil`); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/vigil"
	return &pgEnv{pg: pg, dsn: u.String()}
}

// database creates an empty schema and returns the DSN of a connection
// whose search_path is that schema.
func (e *pgEnv) database(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("test_%d", e.n.Add(1))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+name); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// testKeys are the signer and key ring an archive is opened with; reopening
// with the same ones is reopening the same archive.
type testKeys struct {
	signer *tlog.Signer
	ring   *keys.KeyRing
}

func newTestKeys(t testing.TB) testKeys {
	t.Helper()
	signer, err := tlog.GenerateSigner(DefaultLogOrigin, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testKeys{signer: signer, ring: testRing(t, "kek-test")}
}

func testRing(t testing.TB, id string) *keys.KeyRing {
	t.Helper()
	raw := make([]byte, 32)
	rand.Read(raw)
	kek, err := keys.ParseLocalKEK(id, raw)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := keys.NewKeyRing(kek)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

// open opens the archive in the database dsn names, closed at cleanup.
func open(t testing.TB, dsn string, k testKeys, opts Options) *Store {
	t.Helper()
	opts.Logger = logr.Discard()
	opts.LogSigner, opts.KeyRing = k.signer, k.ring
	s, err := Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// fresh opens a new archive in a new database.
func (e *pgEnv) fresh(t testing.TB) *Store {
	t.Helper()
	return open(t, e.database(t), newTestKeys(t), Options{})
}

// scanRow reads one row straight from the store's database.
func scanRow(t testing.TB, s *Store, sql string, args []any, dest ...any) {
	t.Helper()
	ctx := context.Background()
	if err := s.reader.with(ctx, func(c *pgx.Conn) error { return c.QueryRow(ctx, sql, args...).Scan(dest...) }); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// execSQL runs a statement straight on the store's database, past its
// rules.
func execSQL(t testing.TB, s *Store, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	if err := s.reader.with(ctx, func(c *pgx.Conn) error { _, err := c.Exec(ctx, sql, args...); return err }); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func testConformance(t *testing.T, env *pgEnv) {
	storetest.Run(t, func(t *testing.T) store.Store { return env.fresh(t) })
}

func testKeyStoreConformance(t *testing.T, env *pgEnv) {
	keystoretest.Run(t, func(t *testing.T) keys.Store { return env.fresh(t).KeyStore() })
}

func testOpenNeedsKeys(t *testing.T, env *pgEnv) {
	dsn := env.database(t)
	k := newTestKeys(t)
	ctx := context.Background()
	for name, opts := range map[string]Options{
		"no signer":   {KeyRing: k.ring},
		"no key ring": {LogSigner: k.signer},
	} {
		if _, err := Open(ctx, dsn, opts); err == nil {
			t.Errorf("%s: Open succeeded", name)
		}
	}
	other, err := tlog.GenerateSigner("example.com/other", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, dsn, Options{LogSigner: other, KeyRing: k.ring}); err == nil {
		t.Error("a signer named for another origin must be refused")
	}
	if _, err := Open(ctx, "postgres://u:secret-pw@[::1", Options{LogSigner: k.signer, KeyRing: k.ring}); err == nil {
		t.Error("a malformed DSN must be refused")
	} else if got := err.Error(); strings.Contains(got, "secret-pw") {
		t.Errorf("the error quotes the DSN's password: %s", got)
	}
}

func testReopenKeepsData(t *testing.T, env *pgEnv) {
	ctx := context.Background()
	dsn, k := env.database(t), newTestKeys(t)
	s := open(t, dsn, k, Options{})
	env1 := storetest.Envelope("m1", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "持久", 0)
	if _, err := s.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{env1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{env1}); err == nil {
		t.Fatal("a closed store must refuse writes")
	}
	s = open(t, dsn, k, Options{})
	st, err := s.Stats(ctx, "desk/a")
	if err != nil || st.MessagesCaptured != 1 {
		t.Fatalf("after reopening: %+v, %v; want 1 message", st, err)
	}
	got, _, err := s.List(ctx, store.Query{Account: "desk/a", Text: "持久"})
	if err != nil || len(got) != 1 {
		t.Fatalf("after reopening, search finds %d, %v", len(got), err)
	}
}

func testMigrations(t *testing.T, env *pgEnv) {
	dsn, k := env.database(t), newTestKeys(t)
	s := open(t, dsn, k, Options{})
	var n, last int64
	scanRow(t, s, `SELECT count(*), max(version)::bigint FROM schema_migrations`, nil, &n, &last)
	if n != int64(SchemaVersion) || last != int64(SchemaVersion) {
		t.Fatalf("schema_migrations has %d rows up to %d, want %d", n, last, SchemaVersion)
	}
	_ = open(t, dsn, k, Options{})
	if scanRow(t, s, `SELECT count(*) FROM schema_migrations`, nil, &n); n != int64(SchemaVersion) {
		t.Fatalf("a second open reran migrations: %d rows", n)
	}
	// A database from a newer vigil is refused rather than misread.
	execSQL(t, s, `INSERT INTO schema_migrations (version) VALUES ($1)`, SchemaVersion+1)
	if _, err := Open(context.Background(), dsn, Options{LogSigner: k.signer, KeyRing: k.ring}); err == nil {
		t.Fatal("a schema newer than the code must be refused")
	}
}

// testServerRestart restarts the server under an open store: connections
// that sat idle are found dead before use and replaced, so the first
// writes and reads after the restart succeed.
func testServerRestart(t *testing.T, env *pgEnv) {
	ctx := context.Background()
	s := env.fresh(t)
	ingestN(t, s, "before", 2)
	if got, _, err := s.List(ctx, store.Query{Account: "desk/a"}); err != nil || len(got) != 2 {
		t.Fatalf("List = %d, %v", len(got), err)
	}
	if err := env.pg.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := env.pg.Restart(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(pingAfter)
	ingestN(t, s, "after", 2)
	if got, _, err := s.List(ctx, store.Query{Account: "desk/a"}); err != nil || len(got) != 4 {
		t.Fatalf("List after the restart = %d, %v", len(got), err)
	}
	storetest.ReadLog(t, s, storetest.OpenCheckpoint(t, s))
}

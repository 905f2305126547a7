package sqlite

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/keys/keystoretest"
	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/capture"
)

func openTestStore(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	opts.Logger = logr.Discard()
	s, err := Open(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestKeyStoreConformance(t *testing.T) {
	keystoretest.Run(t, func(t *testing.T) keys.Store {
		return keyStore{openTestStore(t, t.TempDir(), Options{})}
	})
}

// TestNothingInTheClearAtRest writes records with distinctive text and
// findings, closes the archive, and looks for that text in every file of the
// data folder: the database, its WAL, anything.
func TestNothingInTheClearAtRest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir, Options{Logger: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	secretChinese := "绝密的收购暗号是青龙"
	secretEnglish := "the acquisition codeword is azure dragon"
	env := storetest.Envelope("m1", time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), secretChinese+" / "+secretEnglish, 2)
	if _, err := s.Ingest(ctx, "desk/a", "Alice", "t", []capture.Envelope{env}); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.List(ctx, store.Query{Account: "desk/a", Text: "暗号"})
	if err != nil || len(got) != 1 || !strings.Contains(got[0].Record.Text, secretChinese) || len(got[0].Findings) != 2 {
		t.Fatalf("search over sealed records = %+v, %v", got, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{secretChinese, "收购暗号", secretEnglish, "codeword is", `"InsiderTrading"`, `"evidence"`} {
			if secret != "" && bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds %q in the clear", e.Name(), secret)
			}
		}
	}
}

func TestPurgeDestroysAnEmptiedMonthsKey(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, t.TempDir(), Options{})
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
	// May: March and April are over. The held record keeps March's key.
	if rep := purge(time.Date(2020, 5, 1, 0, 0, 0, 0, time.UTC)); rep.Purged != 2 || rep.HeldBack != 1 || rep.KeysDestroyed != 1 {
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
	got, _, err = s.List(ctx, store.Query{Account: "desk/a", Text: "backfill"})
	if err != nil || len(got) != 1 {
		t.Fatalf("late record must read back: %+v, %v", got, err)
	}

	// Releasing the hold lets the next purge take March and its key, and
	// the late record (sent in April); the current month's key, which the
	// late record was sealed under, stays for the month's other records.
	if _, err := s.ReleaseHold(ctx, "h", "closed", "legal"); err != nil {
		t.Fatal(err)
	}
	rep := purge(time.Date(2020, 5, 1, 0, 0, 0, 0, time.UTC))
	if rep.Purged != 2 || rep.KeysDestroyed != 1 {
		t.Fatalf("second purge = %+v, want March's record and key, and the late record", rep)
	}
	var cert store.PurgeCertificate
	var body []byte
	if err := s.reader.QueryRowContext(ctx, `SELECT body FROM purge_certificates WHERE id = ?`, rep.CertificateID).Scan(&body); err != nil {
		t.Fatal(err)
	}
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
	var wrappedLeft int
	if err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM data_keys WHERE destroyed_at IS NOT NULL AND wrapped IS NOT NULL`).Scan(&wrappedLeft); err != nil || wrappedLeft != 0 {
		t.Fatalf("destroyed keys with wrapped bytes left: %d, %v", wrappedLeft, err)
	}
}

// TestIngestResealsAfterLosingARaceWithAPurge seals a batch, lets a purge
// destroy the key it was sealed under, and only then hands it to the
// writer: the writer must refuse it rather than store unreadable records,
// and Ingest must seal again under a live key.
func TestIngestResealsAfterLosingARaceWithAPurge(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, t.TempDir(), Options{})
	job := jobThatLostARaceWithAPurge(t, s)
	stale := job.envs[0]
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

// jobThatLostARaceWithAPurge stores a record of January 2020 in desk/a,
// seals a second record of that month under the month's key, then purges
// the month, destroying the key: the job it returns holds the second record
// sealed under the destroyed key, as a batch that lost its race with the
// purge would.
func jobThatLostARaceWithAPurge(t *testing.T, s *Store) *ingestJob {
	t.Helper()
	ctx := context.Background()
	jan := time.Date(2020, 1, 10, 0, 0, 0, 0, time.UTC)
	if _, err := s.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{storetest.Envelope("first", jan, "first", 0)}); err != nil {
		t.Fatal(err)
	}
	stale := storetest.Envelope("stale", jan.Add(time.Hour), "sealed before the purge", 0)
	sealed, err := s.sealer.SealEnvelope(ctx, "desk/a", stale)
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := s.Purge(ctx, store.PurgeRequest{Accounts: []store.AccountKey{"desk/a"}, Cutoff: jan.AddDate(0, 2, 0), MaxRecords: 10, Rule: "r/r", Actor: "op"}); err != nil || rep.KeysDestroyed != 1 {
		t.Fatalf("purge = %+v, %v", rep, err)
	}
	job := newIngestJob("desk/a", "A", "t", []capture.Envelope{stale})
	job.setSealed(0, sealed)
	return job
}

func TestTamperedCiphertextIsRefusedNotReturned(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, t.TempDir(), Options{})
	env := storetest.Envelope("m1", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "original", 0)
	if _, err := s.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{env}); err != nil {
		t.Fatal(err)
	}
	tamperRow(t, s, `UPDATE records SET record = substr(record, 1, length(record) - 1) || CASE WHEN substr(record, -1) = x'00' THEN x'01' ELSE x'00' END WHERE id = ?`, env.Record.ID)
	if _, _, err := s.List(ctx, store.Query{Account: "desk/a"}); !errors.Is(err, keys.ErrTampered) {
		t.Fatalf("List of a tampered record = %v, want ErrTampered", err)
	}
}

func TestWrongKEKCannotOpenTheArchive(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir, Options{Logger: logr.Discard(), KeyRing: testRing(t, "kek-a")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{storetest.Envelope("m1", time.Now(), "x", 0)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, KEKFile)); !os.IsNotExist(err) {
		t.Fatalf("a KEK was given, yet one was generated in the data folder: %v", err)
	}
	other := openTestStore(t, dir, Options{KeyRing: testRing(t, "kek-b")})
	if _, _, err := other.List(ctx, store.Query{Account: "desk/a"}); !errors.Is(err, keys.ErrUnknownKEK) {
		t.Fatalf("List with another KEK = %v, want ErrUnknownKEK", err)
	}
}

func TestRecordsStoredInTheClearAreSealedOnOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir, Options{Logger: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	env := storetest.Envelope("m1", time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), "written before encryption", 1)
	body, _ := json.Marshal(env.Record)
	findings, _ := json.Marshal(env.Findings)
	// A row as schema 4 stored it: plaintext record, findings and text.
	tamperRow(t, s, `INSERT INTO records (id, account, custodian, dedup_key, sent_at, ingested_at, text, record, findings, findings_count)
		VALUES (?, 'desk/a', 'A', ?, ?, 0, ?, ?, ?, 1)`, env.Record.ID, env.Record.DedupKey, env.Record.SentAt.UnixNano(), env.Record.Text, body, findings)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTestStore(t, dir, Options{})
	var keyID sql.NullString
	var text string
	var stored []byte
	if err := s.reader.QueryRowContext(ctx, `SELECT key_id, text, record FROM records WHERE id = ?`, env.Record.ID).Scan(&keyID, &text, &stored); err != nil {
		t.Fatal(err)
	}
	if !keyID.Valid || text != "" || bytes.Contains(stored, []byte("written before")) {
		t.Fatalf("after reopening: key %v, text %q: the row is still in the clear", keyID, text)
	}
	got, _, err := s.List(ctx, store.Query{Account: "desk/a"})
	if err != nil || len(got) != 1 || got[0].Record.Text != env.Record.Text || len(got[0].Findings) != 1 {
		t.Fatalf("the sealed legacy row reads back as %+v, %v", got, err)
	}
	assertKeyCounts(t, s)
}

func keyOf(t *testing.T, s *Store, month time.Time) keys.WrappedDEK {
	t.Helper()
	k, err := keyStore{s}.Lookup(context.Background(), keys.Scope{Tenant: DefaultTenant, Account: "desk/a", Bucket: keys.BucketOf(month)})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testRing(t *testing.T, id string) *keys.KeyRing {
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

// tamperRow runs a statement on the writer, bypassing the store's rules.
func tamperRow(t *testing.T, s *Store, query string, args ...any) {
	t.Helper()
	if err := s.exclusive(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, query, args...)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

func TestReadOnlyKeysFindButNeverChange(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, t.TempDir(), Options{})
	env := storetest.Envelope("m1", time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), "x", 0)
	if _, err := s.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{env}); err != nil {
		t.Fatal(err)
	}
	live := keyOf(t, s, env.Record.SentAt)
	ro := ReadOnlyKeys(s.reader)
	if got, err := ro.Get(ctx, live.ID); err != nil || got.ID != live.ID {
		t.Fatalf("Get = %v, %v", got, err)
	}
	if _, err := ro.Lookup(ctx, live.Scope); err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	if _, err := ro.Destroy(ctx, live.ID, time.Now()); err == nil {
		t.Fatal("a read-only key store destroyed a key")
	}
	if _, _, err := ro.CreateIfAbsent(ctx, live); err == nil {
		t.Fatal("a read-only key store created a key")
	}
	if k := keyOf(t, s, env.Record.SentAt); k.Destroyed() {
		t.Fatal("the key was destroyed")
	}
}

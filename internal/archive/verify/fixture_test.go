package verify

import (
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/sqlite"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
	"github.com/vigil-operator/vigil/internal/capture"
)

const (
	alice store.AccountKey = "desk/alice"
	bob   store.AccountKey = "desk/bob"
	carol store.AccountKey = "desk/carol"
)

// archive is a real archive built through the sqlite store, with every kind
// of leaf: records with and without findings, a read, a hold placed and
// released, a purge that a hold partly held back, a purge that emptied a
// month and so destroyed its data key, and two checkpoints.
type archive struct {
	dir string
	// earlyNote is a checkpoint taken before the purge, as an auditor
	// would have kept it.
	earlyNote []byte
	// purgedID was purged; heldID was held back from the purge; bobID
	// was never eligible.
	purgedID, heldID, bobID string
	// carolID was purged with its month, whose key was destroyed.
	carolID string
}

// buildArchive writes the archive into a fresh folder.
func buildArchive(t *testing.T) archive {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, dir, sqlite.Options{Logger: logr.Discard(), CheckpointInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Date(2020, 3, 1, 9, 0, 0, 0, time.UTC)
	purged := storetest.Envelope("m-1", old, "buy before the announcement", 2)
	held := storetest.Envelope("m-2", old.Add(time.Minute), "keep this one for the inquiry", 0)
	recent := storetest.Envelope("m-3", time.Now().Add(-time.Hour), "lunch?", 1)
	bobs := storetest.Envelope("m-4", old, "bob's message", 1)
	carols := storetest.Envelope("m-5", old.AddDate(0, 2, 0), "carol's only message", 0)
	mustDo(t, func() error {
		_, err := st.Ingest(ctx, alice, "Alice", "connector", []capture.Envelope{purged, held})
		return err
	})
	mustDo(t, func() error {
		_, err := st.Ingest(ctx, alice, "Alice", "connector", []capture.Envelope{recent})
		return err
	})
	mustDo(t, func() error { _, err := st.Ingest(ctx, bob, "Bob", "connector", []capture.Envelope{bobs}); return err })
	mustDo(t, func() error {
		return st.RecordAccess(ctx, "auditor@example.com", store.AuditRead, string(alice), "q=announcement")
	})
	mustDo(t, func() error {
		_, err := st.PutHold(ctx, store.Hold{ID: "desk/inquiry", Accounts: []store.AccountKey{alice}, Query: "inquiry", Reason: "SEC inquiry", Actor: "legal"})
		return err
	})
	early, err := st.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustDo(t, func() error {
		rep, err := st.Purge(ctx, store.PurgeRequest{Accounts: []store.AccountKey{alice}, Cutoff: old.AddDate(1, 0, 0), MaxRecords: 100, Rule: "desk/seven-years", Actor: "operator"})
		if err == nil && (rep.Purged != 1 || rep.HeldBack != 1) {
			t.Fatalf("purge = %+v, want one purged and one held back", rep)
		}
		return err
	})
	mustDo(t, func() error { _, err := st.ReleaseHold(ctx, "desk/inquiry", "closed", "legal"); return err })
	mustDo(t, func() error {
		_, err := st.Ingest(ctx, carol, "Carol", "connector", []capture.Envelope{carols})
		return err
	})
	mustDo(t, func() error {
		rep, err := st.Purge(ctx, store.PurgeRequest{Accounts: []store.AccountKey{carol}, Cutoff: old.AddDate(1, 0, 0), MaxRecords: 100, Rule: "desk/seven-years", Actor: "operator"})
		if err == nil && (rep.Purged != 1 || rep.KeysDestroyed != 1) {
			t.Fatalf("purge = %+v, want one purged and its key destroyed", rep)
		}
		return err
	})
	if _, err := st.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return archive{dir: dir, earlyNote: early, purgedID: purged.Record.ID, heldID: held.Record.ID, bobID: bobs.Record.ID,
		carolID: carols.Record.ID}
}

func mustDo(t *testing.T, fn func() error) {
	t.Helper()
	if err := fn(); err != nil {
		t.Fatal(err)
	}
}

// copyArchive copies the data folder, so each tampering starts clean.
func copyArchive(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// tamper changes the archive with its own read-write connection, as someone
// with access to the volume could.
func tamper(t *testing.T, dir string, change func(db *sql.DB) error) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := change(db); err != nil {
		t.Fatalf("tampering: %v", err)
	}
}

// flipByte changes one byte (the middle one) of a blob column in one row.
func flipByte(table, column, where string, args ...any) func(db *sql.DB) error {
	return func(db *sql.DB) error {
		var b []byte
		if err := db.QueryRow(`SELECT `+column+` FROM `+table+` WHERE `+where, args...).Scan(&b); err != nil {
			return err
		}
		b[len(b)/2] ^= 0x01
		_, err := db.Exec(`UPDATE `+table+` SET `+column+` = ? WHERE `+where, append([]any{b}, args...)...)
		return err
	}
}

func exec(query string, args ...any) func(db *sql.DB) error {
	return func(db *sql.DB) error {
		res, err := db.Exec(query, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return sql.ErrNoRows
		}
		return nil
	}
}

func verifierOf(t *testing.T, dir string) *tlog.Verifier {
	t.Helper()
	v, err := ReadVerifierKey(filepath.Join(dir, sqlite.VerifierKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func ringOf(t *testing.T, dir string) *keys.KeyRing {
	t.Helper()
	kek, err := keys.LoadLocalKEK(sqlite.GeneratedKEKID, filepath.Join(dir, sqlite.KEKFile))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := keys.NewKeyRing(kek)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

func signerOf(t *testing.T, dir string) *tlog.Signer {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, sqlite.SignerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	s, err := tlog.ParseSignerKey(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// expectKinds fails unless the report has every wanted kind of problem and
// none outside allowed (wanted kinds are always allowed): tampering must be
// caught as what it is, without unrelated noise.
func expectKinds(t *testing.T, r *Report, want []Kind, allowed ...Kind) {
	t.Helper()
	got := r.Kinds()
	for _, k := range want {
		if got[k] == 0 {
			t.Errorf("no %s problem reported; problems: %v", k, r.Problems)
		}
	}
	ok := map[Kind]bool{}
	for _, k := range append(want, allowed...) {
		ok[k] = true
	}
	for k := range got {
		if !ok[k] {
			t.Errorf("unexpected %s problem; problems: %v", k, r.Problems)
		}
	}
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
	"github.com/vigil-operator/vigil/internal/capture"
)

var day = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func ingestN(t *testing.T, s *Store, prefix string, n int) {
	t.Helper()
	envs := make([]capture.Envelope, n)
	for i := range envs {
		envs[i] = storetest.Envelope(prefix+string(rune('a'+i)), day.Add(time.Duration(i)*time.Second), "日志 "+prefix, 0)
	}
	if _, err := s.Ingest(context.Background(), "desk/a", "A", "test", envs); err != nil {
		t.Fatal(err)
	}
}

// TestLogSurvivesReopen: the tree is rebuilt from the database with the same
// root, the generated key is kept (and its public half published), and the
// log keeps growing consistently across the restart.
func TestLogSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ingestN(t, s, "x", 5)
	before := storetest.OpenCheckpoint(t, s)
	verifier := s.Verifier().String()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	published, err := os.ReadFile(filepath.Join(dir, VerifierKeyFile))
	if err != nil || string(published) != verifier+"\n" {
		t.Fatalf("the verifier key file holds %q (%v), want %q", published, err, verifier)
	}
	if st, err := os.Stat(filepath.Join(dir, SignerKeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the signing key must be private to the archive: %v %v", st.Mode(), err)
	}

	s, err = Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Verifier().String() != verifier {
		t.Fatal("reopening changed the checkpoint key")
	}
	again := storetest.OpenCheckpoint(t, s)
	if again.Size != before.Size || again.Root != before.Root {
		t.Fatalf("reopened tree %d/%s differs from %d/%s", again.Size, again.Root, before.Size, before.Root)
	}
	ingestN(t, s, "y", 3)
	after := storetest.OpenCheckpoint(t, s)
	proof, err := s.ConsistencyProof(context.Background(), before.Size, after.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.VerifyConsistency(before.Size, after.Size, proof, before.Root, after.Root); err != nil {
		t.Fatal(err)
	}
	storetest.ReadLog(t, s, after)
}

// TestFailedTransactionAppendsNoLeaf: leaves appended by a transaction that
// rolls back never reach the tree, and the next leaf takes their index.
func TestFailedTransactionAppendsNoLeaf(t *testing.T) {
	s, err := Open(context.Background(), t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ingestN(t, s, "a", 2)
	sizeBefore := storetest.OpenCheckpoint(t, s).Size
	boom := errors.New("boom")
	err = s.exclusive(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
		if err := s.audit(ctx, tx, "test", "doomed", "desk/a", ""); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("exclusive = %v", err)
	}
	if got := storetest.OpenCheckpoint(t, s).Size; got != sizeBefore {
		t.Fatalf("a rolled-back leaf reached the tree: size %d → %d", sizeBefore, got)
	}
	ingestN(t, s, "b", 1)
	storetest.ReadLog(t, s, storetest.OpenCheckpoint(t, s))
}

// TestLogBackfillsAnOlderArchive: an archive written before the log existed
// gets leaves for its records and audit events, in order, when opened.
func TestLogBackfillsAnOlderArchive(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ingestN(t, s, "old", 4)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// What a version-1 database looks like: no log.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM log_leaves; DELETE FROM log_checkpoints`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err = Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	leaves := storetest.ReadLog(t, s, storetest.OpenCheckpoint(t, s))
	if len(leaves) != 5 || leaves[0].Type != store.LeafRecord || leaves[4].Action != store.AuditIngest {
		t.Fatalf("backfilled leaves: %+v", leaves)
	}
}

package verify

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/archive/segments"
	"github.com/vigil-operator/vigil/internal/archive/store/shipping"
	"github.com/vigil-operator/vigil/internal/archive/store/sqlite"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/capture"
)

// TestDataDirComparesTheWORMCopy checks an archive against its segments:
// clean, then with one stored record changed, then with one byte of a
// segment object changed on disk.
func TestDataDirComparesTheWORMCopy(t *testing.T) {
	ctx := context.Background()
	dir, segDir := t.TempDir(), t.TempDir()
	backend, err := segments.NewFS(segDir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, dir, sqlite.Options{Logger: logr.Discard(), CheckpointInterval: time.Hour,
		Segments: &shipping.Options{Backend: backend, Retention: time.Hour, Interval: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	var envs []capture.Envelope
	for i := range 6 {
		envs = append(envs, storetest.Envelope("w-"+string(rune('a'+i)), time.Now().Add(-time.Duration(i)*time.Hour), "落單 order", 0))
	}
	if _, err := st.Ingest(ctx, alice, "Alice", "connector", envs); err != nil {
		t.Fatal(err)
	}
	if err := st.ShipSegments(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	run := func(dir string, b segments.Backend) *Report {
		t.Helper()
		r, err := DataDir(ctx, DataDirOptions{Dir: dir, Verifier: verifierOf(t, dir), Segments: b})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := run(dir, backend); !r.OK() || r.Counts.Segments != 1 || r.Counts.RecordsInSegments != 6 {
		t.Fatalf("clean archive with its segments: %+v", r)
	}
	if r := run(dir, nil); !r.OK() || !strings.Contains(strings.Join(r.Notes, "\n"), "segments not read") {
		t.Fatalf("without the segment store: %+v", r)
	}
	// An object the catalog never recorded (as a crash between upload and
	// recording leaves) is named in a note.
	if _, err := backend.Put(ctx, "segments/desk/alice/2026-01/01ORPHAN0000000000000000000.seg", strings.NewReader("x"), 1,
		segments.Lock{RetainUntil: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if r := run(dir, backend); !r.OK() || !strings.Contains(strings.Join(r.Notes, "\n"), "1 objects in the segment store are not in the archive's catalog") {
		t.Fatalf("with an unrecorded object: %+v", r.Notes)
	}

	changed := copyArchive(t, dir)
	tamper(t, changed, func(db *sql.DB) error {
		_, err := db.Exec(`UPDATE records SET record = substr(record, 1, 40) || x'00' || substr(record, 42) WHERE id = ?`, envs[0].Record.ID)
		return err
	})
	expectKinds(t, run(changed, backend), []Kind{KindRecord, KindSegment})

	// One byte of the segment object itself.
	var object string
	if err := filepath.WalkDir(segDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".seg") && !strings.Contains(p, "ORPHAN") {
			object = p
		}
		return err
	}); err != nil || object == "" {
		t.Fatalf("no segment object on disk: %v", err)
	}
	b, err := os.ReadFile(object)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.Chmod(object, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(object, b, 0o644); err != nil {
		t.Fatal(err)
	}
	expectKinds(t, run(dir, backend), []Kind{KindSegment})
}

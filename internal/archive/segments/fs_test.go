package segments_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/segments"
	"github.com/vigil-operator/vigil/internal/archive/segments/backendtest"
)

func newFS(t *testing.T) *segments.FS {
	t.Helper()
	fs, err := segments.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Close() })
	return fs
}

func TestFSConformance(t *testing.T) {
	t.Parallel()
	backendtest.Run(t, func(t *testing.T) segments.Backend { return newFS(t) })
}

// TestFSObjectsAreReadOnlyFiles: a stored object is a plain file anyone can
// inspect, left mode 0444 so no tool rewrites it in place, with its lock in
// a sidecar.
func TestFSObjectsAreReadOnlyFiles(t *testing.T) {
	fs := newFS(t)
	body := []byte("sealed bytes")
	until := time.Now().Add(time.Hour)
	v, err := fs.Put(t.Context(), "segments/desk/alice/2030-01/x.seg", bytes.NewReader(body), int64(len(body)), segments.Lock{RetainUntil: until})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(fs.Root(), "objects", "segments", "desk", "alice", "2030-01", "x.seg")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o444 {
		t.Fatalf("object mode %v; want 0444", fi.Mode().Perm())
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, body) {
		t.Fatalf("object file holds %q", got)
	}
	var lock struct {
		VersionID   string
		RetainUntil time.Time
		SHA256      string
	}
	raw, err := os.ReadFile(filepath.Join(fs.Root(), "locks", "segments", "desk", "alice", "2030-01", "x.seg.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &lock); err != nil || lock.VersionID != v || lock.RetainUntil.Before(until) || len(lock.SHA256) != 64 {
		t.Fatalf("sidecar %s (%v); want version %s retained until %s", raw, err, v, until)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("object directory holds %d entries; want only the object (no temporary files left)", len(entries))
	}
}

// TestFSAuditTrail: every change and every refusal is in audit.jsonl, in
// order, the way the audit-trail alternative of SEC 17a-4(f) needs it.
func TestFSAuditTrail(t *testing.T) {
	t.Parallel()
	fs := newFS(t)
	ctx := t.Context()
	k := "segments/desk/alice/2030-01/a.seg"
	v, err := fs.Put(ctx, k, bytes.NewReader([]byte("x")), 1, segments.Lock{RetainUntil: time.Now().Add(2 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Delete(ctx, k, v); !errors.Is(err, segments.ErrLocked) {
		t.Fatalf("early delete: %v", err)
	}
	if err := fs.SetLegalHold(ctx, k, v, true); err != nil {
		t.Fatal(err)
	}
	if err := fs.ExtendRetention(ctx, k, v, time.Now()); !errors.Is(err, segments.ErrLocked) {
		t.Fatalf("shortening: %v", err)
	}
	if err := fs.SetLegalHold(ctx, k, v, false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if err := fs.Delete(ctx, k, v); err != nil {
		t.Fatal(err)
	}

	f, err := os.Open(filepath.Join(fs.Root(), "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type event struct {
		Time      time.Time
		Op        string
		Key       string
		VersionID string
		Outcome   string
		Reason    string
	}
	var got []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		if ev.Key != k || ev.VersionID != v || ev.Time.IsZero() {
			t.Fatalf("audit event %+v does not name %s version %s with a time", ev, k, v)
		}
		got = append(got, ev.Op+" "+ev.Outcome)
	}
	want := []string{"put done", "delete refused", "legal-hold-on done", "extend-retention refused", "legal-hold-off done", "delete done"}
	if len(got) != len(want) {
		t.Fatalf("audit trail %q; want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("audit trail %q; want %q", got, want)
		}
	}
	// A purged object leaves no empty directories behind to list.
	if _, err := os.Stat(filepath.Join(fs.Root(), "objects", "segments")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("empty directories remain after the last delete: %v", err)
	}
}

// TestFSCrashLeftovers: what a crash between the sidecar and the object
// leaves is invisible, and a later Put of the key succeeds.
func TestFSCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	fs, err := segments.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	k := "segments/desk/alice/2030-01/b.seg"
	// The sidecar of an object whose link never happened, and a temporary
	// file of an interrupted write.
	if err := os.MkdirAll(filepath.Join(dir, "locks", "segments", "desk", "alice", "2030-01"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "locks", "segments", "desk", "alice", "2030-01", "b.seg.json"), []byte(`{"versionID":"stale","retainUntil":"2100-01-01T00:00:00Z"}`), 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "objects", "segments", "desk", "alice", "2030-01"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "objects", "segments", "desk", "alice", "2030-01", ".tmp-123"), []byte("partial"), 0o444); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Stat(t.Context(), k, ""); !errors.Is(err, segments.ErrNotFound) {
		t.Fatalf("Stat of a key with only a stale sidecar: %v; want not found", err)
	}
	for oi, err := range fs.List(t.Context(), "segments/") {
		t.Fatalf("List found %+v, %v; want nothing", oi, err)
	}
	v, err := fs.Put(t.Context(), k, bytes.NewReader([]byte("new")), 3, segments.Lock{RetainUntil: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if info, err := fs.Stat(t.Context(), k, v); err != nil || info.VersionID != v || info.Size != 3 {
		t.Fatalf("Stat after Put over a stale sidecar = %+v, %v", info, err)
	}
}

// TestFSObjectWithoutSidecarIsCorrupt: an object whose lock record is gone
// was tampered with; it must not read as an unprotected object.
func TestFSObjectWithoutSidecarIsCorrupt(t *testing.T) {
	fs := newFS(t)
	k := "segments/desk/alice/2030-01/c.seg"
	v, err := fs.Put(t.Context(), k, bytes.NewReader([]byte("x")), 1, segments.Lock{RetainUntil: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(fs.Root(), "locks", filepath.FromSlash(k)+".json")); err != nil {
		t.Fatal(err)
	}
	if err := fs.Delete(t.Context(), k, v); !errors.Is(err, segments.ErrCorrupt) {
		t.Fatalf("Delete of an object without its lock record: %v; want ErrCorrupt", err)
	}
}

// TestFSListRefusesEscapingPrefixes: a prefix cannot make List walk outside
// the store.
func TestFSListRefusesEscapingPrefixes(t *testing.T) {
	fs := newFS(t)
	for _, p := range []string{"../", "segments/../../", "/etc/", "a//"} {
		var refused bool
		for _, err := range fs.List(t.Context(), p) {
			refused = errors.Is(err, segments.ErrInvalid)
		}
		if !refused {
			t.Fatalf("List(%q) was not refused with ErrInvalid", p)
		}
	}
}

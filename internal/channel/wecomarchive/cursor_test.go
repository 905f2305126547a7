package wecomarchive

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCursorStoreRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, err := newCursorStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.load()
	if err != nil || st.Seq != 0 {
		t.Fatalf("fresh: %+v %v", st, err)
	}
	want := cursorState{Seq: 196, CaughtUpAt: time.Unix(1700000000, 0).UTC(), LastCheckpoint: time.Unix(1700000100, 0).UTC()}
	if err := s.save(want); err != nil {
		t.Fatal(err)
	}
	s2, _ := newCursorStore(dir)
	got, err := s2.load()
	if err != nil || got != want {
		t.Fatalf("got %+v %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
	if err := os.WriteFile(filepath.Join(dir, cursorFileName), []byte("{torn"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.load(); err == nil {
		t.Fatal("corrupt cursor accepted")
	}
	if _, err := newCursorStore(""); err == nil {
		t.Fatal("empty state dir accepted")
	}
}

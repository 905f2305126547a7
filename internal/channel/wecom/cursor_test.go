package wecom

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCursorStoreRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, err := newCursorStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s.load("wkA"); err != nil || c != "" {
		t.Fatalf("empty store: %q, %v", c, err)
	}
	for _, c := range []string{"4gw7MepFLfgF2VC5npN", "second"} {
		if err := s.save("wkA", c); err != nil {
			t.Fatal(err)
		}
		if got, err := s.load("wkA"); err != nil || got != c {
			t.Fatalf("load = %q, %v; want %q", got, err, c)
		}
	}
	if c, _ := s.load("wkB"); c != "" {
		t.Fatalf("another account sees %q", c)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || strings.Contains(entries[0].Name(), "tmp") {
		t.Fatalf("state dir holds %v, want one cursor file and no temporaries", entries)
	}
	// A path-like open_kfid must not escape the directory.
	if p := s.path("../../etc/passwd"); filepath.Dir(p) != dir {
		t.Fatalf("cursor path %s escapes %s", p, dir)
	}
}

func TestCursorStoreRefusesForeignOrCorruptFile(t *testing.T) {
	s, err := newCursorStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.path("wkA"), []byte(`{"openKfID":"wkB","cursor":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.load("wkA"); err == nil {
		t.Fatal("a cursor file for another account was accepted")
	}
	if err := os.WriteFile(s.path("wkA"), []byte(`{"openKfID":`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.load("wkA"); err == nil {
		t.Fatal("a torn cursor file was accepted")
	}
}

package devcluster

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteAtomicDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vol")
	files := map[string]projectedFile{
		"config.json":  {data: []byte(`{"a":1}`), mode: 0o644},
		"nested/key":   {data: []byte("v1"), mode: 0o400},
		"nested/other": {data: []byte("o"), mode: 0o644},
	}
	changed, err := writeAtomicDir(dir, files)
	if err != nil || !changed {
		t.Fatalf("first write: changed=%v err=%v", changed, err)
	}
	read := func(p string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := read("config.json"); got != `{"a":1}` {
		t.Fatalf("config.json = %q", got)
	}
	if info, err := os.Stat(filepath.Join(dir, "nested/key")); err != nil || info.Mode().Perm() != 0o400 {
		t.Fatalf("nested/key mode: %v %v", info, err)
	}
	firstTarget, _ := os.Readlink(filepath.Join(dir, atomicDataLink))

	// The same content again changes nothing, not even the data directory.
	changed, err = writeAtomicDir(dir, files)
	if err != nil || changed {
		t.Fatalf("rewrite of same content: changed=%v err=%v", changed, err)
	}
	if target, _ := os.Readlink(filepath.Join(dir, atomicDataLink)); target != firstTarget {
		t.Fatalf("data link moved from %s to %s without a change", firstTarget, target)
	}

	// An update swaps the content, drops removed keys and old directories.
	changed, err = writeAtomicDir(dir, map[string]projectedFile{
		"config.json": {data: []byte(`{"a":2}`), mode: 0o644},
		"new":         {data: []byte("n"), mode: 0o600},
	})
	if err != nil || !changed {
		t.Fatalf("update: changed=%v err=%v", changed, err)
	}
	if got := read("config.json"); got != `{"a":2}` {
		t.Fatalf("config.json after update = %q", got)
	}
	if got := read("new"); got != "n" {
		t.Fatalf("new = %q", got)
	}
	if _, err := os.Lstat(filepath.Join(dir, "nested")); !os.IsNotExist(err) {
		t.Fatalf("removed key 'nested' still present: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, firstTarget)); !os.IsNotExist(err) {
		t.Fatalf("old data directory %s still present: %v", firstTarget, err)
	}
	// A mode change alone is a change.
	changed, err = writeAtomicDir(dir, map[string]projectedFile{
		"config.json": {data: []byte(`{"a":2}`), mode: 0o600},
		"new":         {data: []byte("n"), mode: 0o600},
	})
	if err != nil || !changed {
		t.Fatalf("mode change: changed=%v err=%v", changed, err)
	}

	for _, bad := range []string{"../x", "/abs", "..hidden", "a/../b", "a//b", ""} {
		if _, err := writeAtomicDir(dir, map[string]projectedFile{bad: {data: nil, mode: 0o644}}); err == nil {
			t.Errorf("path %q was accepted", bad)
		}
	}
}

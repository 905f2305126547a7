package fsync

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestPathSyncsFilesAndDirectories(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{file, dir} {
		if err := Path(p); err != nil {
			t.Errorf("Path(%s) = %v", p, err)
		}
	}
	if err := Path(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Path of a missing file = %v, want fs.ErrNotExist", err)
	}
}

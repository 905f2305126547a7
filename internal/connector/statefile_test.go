package connector

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteStateFileReplacesWholly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cursor.json")
	for _, content := range []string{`{"seq":1}`, `{"seq":22}`} {
		if err := WriteStateFile(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != content {
			t.Fatalf("read %q, %v; want %q", b, err, content)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	if err := WriteStateFile(filepath.Join(dir, "missing", "x"), nil); err == nil {
		t.Fatal("a missing directory must be an error")
	}
}

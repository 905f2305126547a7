package connector

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteDeadLetter(t *testing.T) {
	dir := t.TempDir()
	envs := envelopes(t, 3)
	path, err := writeDeadLetter(dir, envs, 400, time.Date(2026, 3, 1, 2, 3, 4, 5, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(path) != filepath.Join(dir, DeadLetterDir) || !strings.Contains(filepath.Base(path), "http400-"+envs[0].Record.ID) {
		t.Fatalf("path %s", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(b), "\n"); lines != 3 {
		t.Fatalf("%d lines, want 3", lines)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, DeadLetterDir))
	if len(entries) != 1 {
		t.Fatalf("%d files in dead-letter dir (temporary file left?)", len(entries))
	}
}

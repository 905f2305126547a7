package connector

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
)

// DeadLetterDir is the subdirectory of the spool directory that holds batches
// the archive refused as bad. Operators inspect and, once the cause is fixed,
// re-ingest them; nothing deletes them automatically.
const DeadLetterDir = "deadletter"

// writeDeadLetter durably stores envs as NDJSON in spoolDir/deadletter and
// returns the file's path. The file appears whole or not at all (temporary
// file, fsync, rename, directory fsync), so the spool entries can be
// acknowledged as soon as this returns.
func writeDeadLetter(spoolDir string, envs []capture.Envelope, status int, now time.Time) (string, error) {
	dir := filepath.Join(spoolDir, DeadLetterDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("while creating dead-letter directory: %w", err)
	}
	first := "empty"
	if len(envs) > 0 && envs[0].Record != nil && capture.IsULID(envs[0].Record.ID) {
		first = envs[0].Record.ID
	}
	name := fmt.Sprintf("%s-http%03d-%s.ndjson", now.UTC().Format("20060102T150405.000000000Z"), status, first)
	final := filepath.Join(dir, name)
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("while creating dead-letter file: %w", err)
	}
	cleanup := func() { tmp.Close(); os.Remove(tmp.Name()) }
	enc := json.NewEncoder(tmp)
	enc.SetEscapeHTML(false)
	for i := range envs {
		if err := enc.Encode(&envs[i]); err != nil {
			cleanup()
			return "", fmt.Errorf("while writing dead-letter envelope %d: %w", i, err)
		}
	}
	if err := tmp.Sync(); err != nil {
		cleanup()
		return "", fmt.Errorf("while syncing dead-letter file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("while closing dead-letter file: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("while renaming dead-letter file into place: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return "", fmt.Errorf("while opening dead-letter directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return "", fmt.Errorf("while syncing dead-letter directory: %w", err)
	}
	return final, nil
}

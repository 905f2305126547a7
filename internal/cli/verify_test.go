package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/archive/store/sqlite"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/archive/verify"
	"github.com/vigil-operator/vigil/internal/capture"
)

// verifyArchiveDir writes a one-record archive and returns its folder and
// the record's id.
func verifyArchiveDir(t *testing.T) (string, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, dir, sqlite.Options{Logger: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	env := storetest.Envelope("v-1", time.Now(), "hello", 1)
	if _, err := st.Ingest(ctx, "desk/alice", "Alice", "connector", []capture.Envelope{env}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, env.Record.ID
}

// runVerifyCommand runs `vigil verify args…` and returns its exit status.
func runVerifyCommand(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := newVerifyCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	status := verifyExitOK
	var exit *exitStatus
	if err := cmd.ExecuteContext(context.Background()); errors.As(err, &exit) {
		status = exit.code
	} else if err != nil {
		t.Fatalf("verify failed without an exit status: %v", err)
	}
	return status, out.String()
}

func TestVerifyCommandExitStatus(t *testing.T) {
	clean, _ := verifyArchiveDir(t)
	tampered, recordID := verifyArchiveDir(t)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(tampered, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	// The last byte of the sealed record: its GCM tag.
	if _, err := db.Exec(`UPDATE records SET record = substr(record, 1, length(record) - 1) || CASE WHEN substr(record, -1) = x'00' THEN x'01' ELSE x'00' END`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	key := filepath.Join(clean, sqlite.VerifierKeyFile)
	saved := filepath.Join(t.TempDir(), "checkpoint.txt")

	for _, tc := range []struct {
		name    string
		args    []string
		status  int
		mention string
	}{
		{"a clean archive", []string{"--data-dir", clean, "--verifier-key", key, "--save-checkpoint", saved}, verifyExitOK, "OK"},
		{"a clean archive opened with its key", []string{"--data-dir", clean, "--verifier-key", key, "--kek-file", filepath.Join(clean, sqlite.KEKFile)}, verifyExitOK, "OK"},
		{"a changed record opened with its key", []string{"--data-dir", tampered, "--kek-file", filepath.Join(tampered, sqlite.KEKFile)}, verifyExitProblems, "cannot be decrypted"},
		{"a key of the wrong shape", []string{"--data-dir", clean, "--kek-file", key}, verifyExitError, "KEK secret rejected"},
		{"a changed record", []string{"--data-dir", tampered}, verifyExitProblems, recordID},
		{"no archive there", []string{"--data-dir", t.TempDir(), "--verifier-key", key}, verifyExitError, "archive database"},
		{"both modes", []string{"--data-dir", clean, "--url", "https://archive.example.com"}, verifyExitError, "exactly one"},
		{"an unknown flag", []string{"--data-dri", clean}, verifyExitError, "unknown flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := runVerifyCommand(t, tc.args...)
			if status != tc.status || !bytes.Contains([]byte(out), []byte(tc.mention)) {
				t.Fatalf("status %d, want %d; output:\n%s", status, tc.status, out)
			}
		})
	}
	if note, err := os.ReadFile(saved); err != nil || !bytes.HasPrefix(note, []byte(sqlite.DefaultLogOrigin+"\n")) {
		t.Fatalf("saved checkpoint %q, %v", note, err)
	}
	if status, out := runVerifyCommand(t, "--data-dir", clean, "--verifier-key", key, "--previous-checkpoint", saved); status != verifyExitOK {
		t.Fatalf("the saved checkpoint as previous: %d\n%s", status, out)
	}
}

func TestVerifyCommandJSON(t *testing.T) {
	dir, recordID := verifyArchiveDir(t)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM records`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	status, out := runVerifyCommand(t, "--data-dir", dir, "--json")
	var r verify.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil || status != verifyExitProblems {
		t.Fatalf("status %d, %v:\n%s", status, err, out)
	}
	// The record is gone, its words are still in the index, and its data
	// key still counts it.
	if len(r.Problems) != 3 || r.Kinds()[verify.KindIndex] != 1 || r.Kinds()[verify.KindDataKey] != 1 ||
		!slices.ContainsFunc(r.Problems, func(p verify.Problem) bool {
			return p.Kind == verify.KindRecordMissing && p.Where == "record "+recordID
		}) {
		t.Fatalf("problems %+v", r.Problems)
	}
}

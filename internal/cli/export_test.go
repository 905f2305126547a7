package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/archive/api"
	"github.com/vigil-operator/vigil/internal/archive/store/sqlite"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/capture"
)

// TestExportThenVerify runs `vigil export` against a running archive and
// `vigil verify --export` on what it wrote, then on a copy with one byte of
// one native changed.
func TestExportThenVerify(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, dir, sqlite.Options{Logger: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var envs []capture.Envelope
	for i := range 12 {
		envs = append(envs, storetest.Envelope("e-"+string(rune('a'+i)), time.Date(2026, 5, 1, 9, i, 0, 0, time.UTC), "聽日開會 meeting", i%2))
	}
	if _, err := st.Ingest(ctx, "desk/alice", "Alice", "connector", envs); err != nil {
		t.Fatal(err)
	}
	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte("reviewer-token-0123456789,legal@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	authn, err := api.LoadStaticTokens(tokens)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.NewServer(api.Options{Store: st, Authenticator: authn, Authorizer: api.NoAuthorizer{},
		AdminSubjects: []string{"legal@example.com"}, Logger: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("reviewer-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "prod.zip")
	cmd := newExportCommand()
	var stdout bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetArgs([]string{"--url", hs.URL, "--token-file", tokenFile, "--account", "desk/alice", "--out", out, "--matter", "case 42"})
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatalf("vigil export: %v", err)
	}
	if !strings.Contains(stdout.String(), "manifest sha256") {
		t.Fatalf("output: %s", stdout.String())
	}
	key := filepath.Join(dir, sqlite.VerifierKeyFile)
	if status, report := runVerifyCommand(t, "--export", out, "--verifier-key", key); status != verifyExitOK || !strings.Contains(report, "OK") {
		t.Fatalf("verify --export: %d\n%s", status, report)
	}
	if status, report := runVerifyCommand(t, "--export", out); status != verifyExitError || !strings.Contains(report, "pinned") {
		t.Fatalf("verify --export without a pinned key: %d\n%s", status, report)
	}

	tampered := filepath.Join(t.TempDir(), "tampered.zip")
	copyZipChangingOneByte(t, out, tampered, "natives/")
	if status, report := runVerifyCommand(t, "--export", tampered, "--verifier-key", key); status != verifyExitProblems {
		t.Fatalf("verify of a changed export: %d\n%s", status, report)
	}
}

// copyZipChangingOneByte copies a zip, flipping one byte of the first entry
// whose name starts with prefix.
func copyZipChangingOneByte(t *testing.T, src, dst, prefix string) {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	changed := false
	for _, e := range zr.File {
		rc, err := e.Open()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
		b := buf.Bytes()
		if !changed && strings.HasPrefix(e.Name, prefix) && len(b) > 0 {
			b[len(b)/2] ^= 1
			changed = true
		}
		w, err := zw.Create(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil || !changed {
		t.Fatalf("rewriting the zip: %v (changed %v)", err, changed)
	}
}

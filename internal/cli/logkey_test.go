package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

func TestLogKeyGeneratesAKeyTheArchiveLoads(t *testing.T) {
	out := filepath.Join(t.TempDir(), "signing.key")
	cmd := newLogKeyCommand()
	var stdout bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetArgs([]string{"--origin", "archive.example.com/prod", "--out", out})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	signer, err := loadLogSigner(out)
	if err != nil || signer.Name() != "archive.example.com/prod" {
		t.Fatalf("loadLogSigner = %v, %v", signer, err)
	}
	verifier, err := tlog.ParseVerifierKey(strings.TrimSpace(stdout.String()))
	if err != nil || verifier.KeyID() != signer.KeyID() {
		t.Fatalf("printed verifier %q: %v", stdout.String(), err)
	}
	if strings.Contains(stdout.String(), "PRIVATE") {
		t.Fatal("the private key must not be printed")
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", st.Mode())
	}
	cmd = newLogKeyCommand()
	cmd.SetArgs([]string{"--out", out})
	if err := cmd.Execute(); err == nil {
		t.Fatal("an existing key file must never be overwritten")
	}
	if err := os.WriteFile(out, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadLogSigner(out); err == nil || strings.Contains(err.Error(), "not a key") {
		t.Fatalf("a bad key file: %v", err)
	}
}

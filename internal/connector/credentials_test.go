package connector

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLoadCredentialsKubernetesLayout builds the layout the kubelet uses for
// Secret volumes: a timestamped directory, a "..data" symlink to it, and one
// symlink per key.
func TestLoadCredentialsKubernetesLayout(t *testing.T) {
	dir := t.TempDir()
	ts := filepath.Join(dir, "..2026_03_01_00_00_00.123")
	os.Mkdir(ts, 0o700)
	os.WriteFile(filepath.Join(ts, "hmacSecret"), []byte("s3cret-bytes"), 0o600)
	os.WriteFile(filepath.Join(ts, "corpId"), []byte("ww123"), 0o600)
	os.Symlink(filepath.Base(ts), filepath.Join(dir, "..data"))
	os.Symlink(filepath.Join("..data", "hmacSecret"), filepath.Join(dir, "hmacSecret"))
	os.Symlink(filepath.Join("..data", "corpId"), filepath.Join(dir, "corpId"))
	os.Mkdir(filepath.Join(dir, "subdir"), 0o700)

	creds, err := LoadCredentials(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(creds) != 2 || string(creds["hmacSecret"]) != "s3cret-bytes" || string(creds["corpId"]) != "ww123" {
		t.Fatalf("got keys %d", len(creds))
	}
}

func TestLoadCredentialsErrors(t *testing.T) {
	if _, err := LoadCredentials(filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Fatal("missing directory accepted")
	}
	dir := t.TempDir()
	os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "dangling"))
	if _, err := LoadCredentials(dir); err == nil {
		t.Fatal("dangling key accepted")
	}
}

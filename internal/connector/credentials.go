package connector

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// maxCredentialFile bounds one Secret key; Kubernetes Secrets are at most
// 1 MiB in total.
const maxCredentialFile = 1 << 20

// LoadCredentials reads an account's Secret as mounted in a directory: one
// file per key. Kubernetes mounts keys as symlinks into a hidden "..data"
// directory that it swaps atomically on update; names starting with ".." are
// that machinery and are skipped, and symlinks are followed.
func LoadCredentials(dir string) (map[string][]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("while listing credentials directory: %w", err)
	}
	creds := make(map[string][]byte, len(entries))
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, "..") {
			continue
		}
		path := filepath.Join(dir, name)
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("while inspecting credential %q: %w", name, err)
		}
		if !st.Mode().IsRegular() {
			continue
		}
		if st.Size() > maxCredentialFile {
			return nil, fmt.Errorf("credential %q is %d bytes; the limit is %d", name, st.Size(), maxCredentialFile)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("while reading credential %q: %w", name, err)
		}
		creds[name] = b
	}
	return creds, nil
}

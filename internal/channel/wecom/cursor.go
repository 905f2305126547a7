package wecom

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/vigil-operator/vigil/internal/connector"
)

// cursorStore keeps each customer-service account's kf/sync_msg next_cursor
// in its own file under the channel's state directory, so a restart resumes
// where the last accepted batch ended.
type cursorStore struct {
	dir string
}

type cursorFile struct {
	OpenKfID string `json:"openKfID"`
	Cursor   string `json:"cursor"`
}

// maxCursorFileBytes bounds what load reads; cursors are short tokens.
const maxCursorFileBytes = 64 << 10

func newCursorStore(dir string) (*cursorStore, error) {
	if dir == "" {
		return nil, errors.New("a state directory is required to keep the customer-service sync cursor")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the cursor directory: %w", err)
	}
	return &cursorStore{dir: dir}, nil
}

// path names the file by a hash of the open_kfid, which is vendor input and
// must not choose a path.
func (s *cursorStore) path(openKfID string) string {
	sum := sha256.Sum256([]byte(openKfID))
	return filepath.Join(s.dir, "wecom-kf-cursor-"+hex.EncodeToString(sum[:16])+".json")
}

// load returns the saved cursor, or "" when there is none yet.
func (s *cursorStore) load(openKfID string) (string, error) {
	f, err := os.Open(s.path(openKfID))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the kf cursor: %w", err)
	}
	defer func() { _ = f.Close() }()
	var c cursorFile
	dec := json.NewDecoder(&limitedReader{f: f, n: maxCursorFileBytes})
	if err := dec.Decode(&c); err != nil {
		return "", fmt.Errorf("reading the kf cursor %s: %w", filepath.Base(f.Name()), err)
	}
	if c.OpenKfID != openKfID {
		return "", fmt.Errorf("kf cursor file %s belongs to another account", filepath.Base(f.Name()))
	}
	return c.Cursor, nil
}

// save replaces the cursor atomically: write a temporary file, fsync it,
// rename it over the old one, fsync the directory. A crash leaves the old
// cursor or the new one, never a torn file.
func (s *cursorStore) save(openKfID, cursor string) error {
	b, err := json.Marshal(cursorFile{OpenKfID: openKfID, Cursor: cursor})
	if err != nil {
		return fmt.Errorf("encoding the kf cursor: %w", err)
	}
	if err := connector.WriteStateFile(s.path(openKfID), b); err != nil {
		return fmt.Errorf("saving the kf cursor: %w", err)
	}
	return nil
}

// limitedReader fails, rather than truncates, past n bytes.
type limitedReader struct {
	f *os.File
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("cursor file is too large")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.f.Read(p)
	l.n -= int64(n)
	return n, err
}

package wecomarchive

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vigil-operator/vigil/internal/connector"
)

// cursorFileName is the channel's state file in ChannelParams.StateDir.
const cursorFileName = "wecom-archive-cursor.json"

// cursorState is what survives a restart: the highest seq the sink has
// accepted, and the times the window estimate and checkpoints need.
type cursorState struct {
	Seq uint64 `json:"seq"`
	// CaughtUpAt is the last time a pull returned everything there was.
	CaughtUpAt time.Time `json:"caughtUpAt,omitzero"`
	// LastCheckpoint is when the last capture_checkpoint was captured.
	LastCheckpoint time.Time `json:"lastCheckpoint,omitzero"`
}

// cursorStore reads and atomically replaces the state file.
type cursorStore struct {
	path string
}

func newCursorStore(dir string) (*cursorStore, error) {
	if dir == "" {
		return nil, errors.New("the archive channel needs a state directory for its cursor")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	return &cursorStore{path: filepath.Join(dir, cursorFileName)}, nil
}

// load returns the saved state, or the zero state when none was saved.
func (s *cursorStore) load() (cursorState, error) {
	var st cursorState
	b, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read cursor: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("cursor file %s is corrupt; fix or remove it (removing re-pulls the last 5 days): %w", s.path, err)
	}
	return st, nil
}

// save writes the state to a temporary file, fsyncs it, renames it over
// the old one and fsyncs the directory, so a crash leaves either the old or
// the new cursor, never a torn one.
func (s *cursorStore) save(st cursorState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode cursor: %w", err)
	}
	if err := connector.WriteStateFile(s.path, b); err != nil {
		return fmt.Errorf("save cursor: %w", err)
	}
	return nil
}

package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/vigil-operator/vigil/internal/fsync"
)

// The cursor file records the position up to which the archive has
// acknowledged the spool. It is replaced atomically (write a temporary file,
// fsync it, rename it over the old one, fsync the directory), so after a crash
// it holds either the old or the new position, never a mix.
const (
	cursorFileName = "cursor"
	cursorTempName = "cursor.tmp"
	cursorMagic    = "VGC1"
	cursorSize     = 4 + 8 + 8 + 4
)

var errBadCursor = errors.New("cursor file is corrupt")

func encodeCursor(p Position) []byte {
	b := make([]byte, cursorSize)
	copy(b[0:4], cursorMagic)
	binary.BigEndian.PutUint64(b[4:12], p.Segment)
	binary.BigEndian.PutUint64(b[12:20], uint64(p.Offset))
	binary.BigEndian.PutUint32(b[20:24], crc32.Checksum(b[:20], castagnoli))
	return b
}

func decodeCursor(b []byte) (Position, error) {
	if len(b) != cursorSize {
		return Position{}, fmt.Errorf("%w: %d bytes, want %d", errBadCursor, len(b), cursorSize)
	}
	if string(b[0:4]) != cursorMagic {
		return Position{}, fmt.Errorf("%w: bad magic", errBadCursor)
	}
	if crc32.Checksum(b[:20], castagnoli) != binary.BigEndian.Uint32(b[20:24]) {
		return Position{}, fmt.Errorf("%w: checksum mismatch", errBadCursor)
	}
	off := binary.BigEndian.Uint64(b[12:20])
	if off > 1<<62 {
		return Position{}, fmt.Errorf("%w: offset %d out of range", errBadCursor, off)
	}
	return Position{Segment: binary.BigEndian.Uint64(b[4:12]), Offset: int64(off)}, nil
}

// readCursor returns the stored cursor; found is false when there is none yet.
func readCursor(dir string) (p Position, found bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, cursorFileName))
	if errors.Is(err, os.ErrNotExist) {
		return Position{}, false, nil
	}
	if err != nil {
		return Position{}, false, fmt.Errorf("while reading the spool cursor: %w", err)
	}
	p, err = decodeCursor(b)
	if err != nil {
		return Position{}, false, err
	}
	return p, true, nil
}

// writeCursor durably replaces the cursor file.
func writeCursor(dir string, p Position) error {
	tmp := filepath.Join(dir, cursorTempName)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("while creating the temporary cursor: %w", err)
	}
	if _, err := f.Write(encodeCursor(p)); err != nil {
		f.Close()
		return fmt.Errorf("while writing the temporary cursor: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("while syncing the temporary cursor: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("while closing the temporary cursor: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, cursorFileName)); err != nil {
		return fmt.Errorf("while renaming the cursor into place: %w", err)
	}
	return syncDir(dir)
}

// syncDir makes directory entries (created, renamed or removed files) durable.
func syncDir(dir string) error {
	if err := fsync.Path(dir); err != nil {
		return fmt.Errorf("while syncing spool directory: %w", err)
	}
	return nil
}

package spool

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestCursorRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if _, found, err := readCursor(dir); err != nil || found {
		t.Fatalf("empty dir: found=%v err=%v", found, err)
	}
	for _, p := range []Position{{1, 0}, {7, 12345}, {1 << 40, 1 << 30}} {
		if err := writeCursor(dir, p); err != nil {
			t.Fatalf("writeCursor(%v): %v", p, err)
		}
		got, found, err := readCursor(dir)
		if err != nil || !found || got != p {
			t.Fatalf("readCursor = %v %v %v, want %v", got, found, err, p)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, cursorTempName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary cursor left behind: %v", err)
	}
}

func TestDecodeCursorRejectsDamage(t *testing.T) {
	good := encodeCursor(Position{Segment: 3, Offset: 99})
	tests := []struct {
		name string
		in   []byte
	}{
		{"short", good[:10]},
		{"long", append(append([]byte{}, good...), 0)},
		{"magic", append([]byte("XXXX"), good[4:]...)},
		{"flipped offset", func() []byte { b := append([]byte{}, good...); b[15] ^= 1; return b }()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeCursor(tc.in); !errors.Is(err, errBadCursor) {
				t.Fatalf("decodeCursor error = %v, want errBadCursor", err)
			}
		})
	}
}

// FuzzDecodeCursor checks that any accepted cursor file re-encodes to itself.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(Position{Segment: 1}))
	f.Add(encodeCursor(Position{Segment: 9, Offset: 4096}))
	f.Add([]byte("VGC1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodeCursor(b)
		if err != nil {
			if !errors.Is(err, errBadCursor) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if p.Offset < 0 {
			t.Fatalf("negative offset accepted: %v", p)
		}
		if string(encodeCursor(p)) != string(b) {
			t.Fatalf("round trip differs for %v", p)
		}
	})
}

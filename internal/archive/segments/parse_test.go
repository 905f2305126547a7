package segments

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// TestParseIsStrict: every way to damage a segment is caught, with an
// error that says what is wrong.
func TestParseIsStrict(t *testing.T) {
	good, _ := buildSegment(t, []byte("first"), []byte("second record"), []byte("3"))
	hs := testHeader.Size()
	idx := len(good) - TrailerSize - 3*IndexEntrySize
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	cases := map[string]struct {
		data []byte
		want string
	}{
		"empty":            {nil, "shorter than the fixed"},
		"bad magic":        {edit(func(b []byte) []byte { b[0] = 'X'; return b }), "magic"},
		"version 2":        {edit(func(b []byte) []byte { b[8] = 2; return b }), "format version 2"},
		"flags":            {edit(func(b []byte) []byte { b[9] = 1; return b }), "flags"},
		"zero id":          {edit(func(b []byte) []byte { copy(b[10:26], make([]byte, 16)); return b }), "segment id is zero"},
		"month 0":          {edit(func(b []byte) []byte { b[28] = 0; return b }), "month 0"},
		"account too long": {edit(func(b []byte) []byte { b[29] = 200; return b }), ""},
		"header only":      {good[:hs], "cannot hold"},
		"truncated":        {good[:len(good)-1], ""},
		"extra byte":       {append(bytes.Clone(good), 0), ""},
		"end magic":        {edit(func(b []byte) []byte { b[len(b)-TrailerSize+12] = 'X'; return b }), "trailer magic"},
		"count 0":          {edit(func(b []byte) []byte { binary.BigEndian.PutUint32(b[len(b)-TrailerSize+8:], 0); return b }), "no records"},
		"count 4":          {edit(func(b []byte) []byte { binary.BigEndian.PutUint32(b[len(b)-TrailerSize+8:], 4); return b }), "does not end where"},
		"index offset":     {edit(func(b []byte) []byte { binary.BigEndian.PutUint64(b[len(b)-TrailerSize:], 1<<63); return b }), "does not end where"},
		"entry offset": {edit(func(b []byte) []byte {
			binary.BigEndian.PutUint64(b[idx+IndexEntrySize:], uint64(hs+4+5+1))
			return b
		}), "index entry 1: offset"},
		"entry length": {edit(func(b []byte) []byte { binary.BigEndian.PutUint32(b[idx+8:], 6); return b }), ""},
		"length prefix": {edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[hs:], 6)
			return b
		}), "length prefix 6"},
		"blob flipped":   {edit(func(b []byte) []byte { b[hs+4] ^= 1; return b }), "record 0 at offset"},
		"hash flipped":   {edit(func(b []byte) []byte { b[idx+12] ^= 1; return b }), "record 0 at offset"},
		"trailer hash":   {edit(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), "SHA-256 of the segment"},
		"entry too long": {edit(func(b []byte) []byte { binary.BigEndian.PutUint32(b[idx+8:], MaxBlobSize+1); return b }), "want 1 to"},
	}
	for name, c := range cases {
		_, err := Parse(c.data)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Parse returned %v; want ErrCorrupt", name, err)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not say %q", name, err, c.want)
		}
	}
}

func TestParseHeaderFromPrefix(t *testing.T) {
	data, _ := buildSegment(t, []byte("x"))
	h, err := ParseHeader(data[:min(len(data), MaxHeaderSize)])
	if err != nil || h != testHeader {
		t.Fatalf("ParseHeader = %+v, %v", h, err)
	}
	if _, err := ParseHeader(data[:testHeader.Size()-1]); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("ParseHeader of a cut header: %v", err)
	}
}

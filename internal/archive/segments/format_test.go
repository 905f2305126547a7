package segments

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/vigil-operator/vigil/internal/archive/keys"
)

var testHeader = Header{
	ID:      ulid.MustParse("01JBZ3K4Q8W9E7R6T5Y4V3X2Z1"),
	Account: "desk/alice",
	Bucket:  keys.Bucket{Year: 2033, Month: time.May},
	KeyID:   "dek-01JBZ3K4Q8",
}

// buildSegment seals blobs under testHeader.
func buildSegment(t testing.TB, blobs ...[]byte) ([]byte, Summary) {
	t.Helper()
	b, err := NewBuilder(testHeader)
	if err != nil {
		t.Fatal(err)
	}
	for _, blob := range blobs {
		if _, err := b.Append(blob); err != nil {
			t.Fatal(err)
		}
	}
	data, sum, err := b.Seal()
	if err != nil {
		t.Fatal(err)
	}
	return data, sum
}

func TestMagicLengths(t *testing.T) {
	if len(magic) != magicLen || len(endMagic) != magicLen {
		t.Fatalf("magic lengths %d and %d; the layout assumes %d", len(magic), len(endMagic), magicLen)
	}
}

func TestRoundTrip(t *testing.T) {
	blobs := [][]byte{[]byte("a"), bytes.Repeat([]byte{0xA5}, 1024), []byte("内幕消息 sealed")}
	b, err := NewBuilder(testHeader)
	if err != nil {
		t.Fatal(err)
	}
	var entries []Entry
	for _, blob := range blobs {
		before := b.SealedSize()
		e, err := b.Append(blob)
		if err != nil {
			t.Fatal(err)
		}
		if grew := b.SealedSize() - before; grew != GrowthFor(len(blob)) {
			t.Fatalf("SealedSize grew by %d; GrowthFor says %d", grew, GrowthFor(len(blob)))
		}
		entries = append(entries, e)
	}
	predicted := b.SealedSize()
	data, sum, err := b.Seal()
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != predicted || sum.Size != int64(len(data)) {
		t.Fatalf("sealed %d bytes (summary %d); SealedSize predicted %d", len(data), sum.Size, predicted)
	}
	if sum.SHA256 != sha256.Sum256(data[:len(data)-sha256.Size]) || !bytes.Equal(data[len(data)-sha256.Size:], sum.SHA256[:]) {
		t.Fatal("the trailer's SHA-256 is not the hash of what precedes it")
	}
	seg, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if seg.Header != testHeader {
		t.Fatalf("header %+v; want %+v", seg.Header, testHeader)
	}
	for i, blob := range blobs {
		if seg.Entries[i] != entries[i] {
			t.Fatalf("entry %d parsed as %+v; appended as %+v", i, seg.Entries[i], entries[i])
		}
		if !bytes.Equal(seg.Blob(i), blob) {
			t.Fatalf("blob %d reads %q", i, seg.Blob(i))
		}
		// The entry is a range read: offset and length address the blob.
		if !bytes.Equal(data[entries[i].Offset:entries[i].Offset+int64(entries[i].Length)], blob) {
			t.Fatalf("entry %d does not address its blob", i)
		}
	}
	if _, _, err := b.Seal(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("sealing twice: %v", err)
	}
	if _, err := b.Append([]byte("late")); !errors.Is(err, ErrInvalid) {
		t.Fatalf("appending after Seal: %v", err)
	}
}

// TestLayout pins the byte layout docs/archive-segments.md describes.
func TestLayout(t *testing.T) {
	data, _ := buildSegment(t, []byte("xyz"))
	h := testHeader
	want := []byte("VIGILSEG\x01\x00")
	want = append(want, h.ID[:]...)
	want = append(want, 0x07, 0xF1, 0x05) // 2033, May
	want = append(want, byte(len(h.Account)))
	want = append(want, h.Account...)
	want = append(want, byte(len(h.KeyID)))
	want = append(want, h.KeyID...)
	if !bytes.HasPrefix(data, want) || h.Size() != len(want) {
		t.Fatalf("header bytes %x; want %x", data[:len(want)], want)
	}
	p := len(want)
	if !bytes.Equal(data[p:p+7], []byte("\x00\x00\x00\x03xyz")) {
		t.Fatalf("first frame %x", data[p:p+7])
	}
	idx := data[p+7:]
	if binary.BigEndian.Uint64(idx) != uint64(p+4) || binary.BigEndian.Uint32(idx[8:]) != 3 {
		t.Fatalf("index entry %x", idx[:12])
	}
	if sum := sha256.Sum256([]byte("xyz")); !bytes.Equal(idx[12:44], sum[:]) {
		t.Fatal("index entry hash is not the blob's SHA-256")
	}
	tr := data[len(data)-TrailerSize:]
	if binary.BigEndian.Uint64(tr) != uint64(p+7) || binary.BigEndian.Uint32(tr[8:]) != 1 || string(tr[12:20]) != "VIGILEND" {
		t.Fatalf("trailer %x", tr[:20])
	}
	if len(data) != p+7+IndexEntrySize+TrailerSize {
		t.Fatalf("segment of %d bytes", len(data))
	}
}

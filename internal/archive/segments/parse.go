package segments

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/vigil-operator/vigil/internal/archive/keys"
)

// Segment is a parsed segment whose structure and every hash have been
// checked. It keeps the bytes it was parsed from.
type Segment struct {
	Summary
	data []byte
}

// Parse checks a whole segment strictly: header fields, the index against
// the length prefixes, every blob's SHA-256 and the whole-segment SHA-256.
// Every encoding has exactly one valid byte form (no padding, no unused
// flags), so a parsed segment re-encodes to the same bytes. Errors wrap
// ErrCorrupt and say where the segment breaks.
func Parse(b []byte) (*Segment, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return nil, err
	}
	if len(b) < h.Size()+TrailerSize {
		return nil, corruptf(h, "%d bytes cannot hold a %d-byte header and the %d-byte trailer", len(b), h.Size(), TrailerSize)
	}
	indexOffset, count, sum, err := parseTrailer(h, b[len(b)-TrailerSize:], int64(len(b)))
	if err != nil {
		return nil, err
	}
	entries, err := parseIndex(h, b[indexOffset:len(b)-TrailerSize], count, indexOffset)
	if err != nil {
		return nil, err
	}
	for i, e := range entries {
		prefix := binary.BigEndian.Uint32(b[e.Offset-FrameOverhead : e.Offset])
		if int(prefix) != e.Length {
			return nil, corruptf(h, "record %d: length prefix %d but the index says %d", i, prefix, e.Length)
		}
		if sha256.Sum256(b[e.Offset:e.Offset+int64(e.Length)]) != e.SHA256 {
			return nil, corruptf(h, "record %d at offset %d: SHA-256 does not match the index", i, e.Offset)
		}
	}
	if sha256.Sum256(b[:len(b)-sha256.Size]) != sum {
		return nil, corruptf(h, "SHA-256 of the segment does not match its trailer")
	}
	return &Segment{Summary: Summary{Header: h, Entries: entries, Size: int64(len(b)), SHA256: sum}, data: b}, nil
}

// Blob returns record i. The slice shares the segment's bytes.
func (s *Segment) Blob(i int) []byte {
	e := s.Entries[i]
	return s.data[e.Offset : e.Offset+int64(e.Length)]
}

// Bytes is the encoded segment.
func (s *Segment) Bytes() []byte { return s.data }

// ParseHeader decodes the header at the start of b; b may run on past it
// (MaxHeaderSize leading bytes always hold the whole header).
func ParseHeader(b []byte) (Header, error) {
	if len(b) < fixedHeaderSize {
		return Header{}, fmt.Errorf("%w: header: %d bytes is shorter than the fixed %d-byte part", ErrCorrupt, len(b), fixedHeaderSize)
	}
	if !bytes.Equal(b[:len(magic)], []byte(magic)) {
		return Header{}, fmt.Errorf("%w: header: magic %q is not %q", ErrCorrupt, b[:len(magic)], magic)
	}
	p := len(magic)
	if v := b[p]; v != Version {
		return Header{}, fmt.Errorf("%w: header: format version %d; this reader knows only %d", ErrCorrupt, v, Version)
	}
	if f := b[p+1]; f != 0 {
		return Header{}, fmt.Errorf("%w: header: flags %#02x set; version %d defines none", ErrCorrupt, f, Version)
	}
	p += 2
	var h Header
	copy(h.ID[:], b[p:p+16])
	p += 16
	h.Bucket = keys.Bucket{Year: int(binary.BigEndian.Uint16(b[p:])), Month: time.Month(b[p+2])}
	p += 3
	account, p, err := readString(b, p, "account")
	if err != nil {
		return Header{}, err
	}
	h.Account = account
	keyID, _, err := readString(b, p, "key id")
	if err != nil {
		return Header{}, err
	}
	h.KeyID = keyID
	if err := h.Validate(); err != nil {
		return Header{}, fmt.Errorf("%w: header of segment %s: %v", ErrCorrupt, h.ID, err)
	}
	return h, nil
}

// readString reads a one-byte length and that many bytes at b[p:].
func readString(b []byte, p int, what string) (string, int, error) {
	if p >= len(b) {
		return "", 0, fmt.Errorf("%w: header: truncated before the %s length", ErrCorrupt, what)
	}
	n := int(b[p])
	p++
	if len(b)-p < n {
		return "", 0, fmt.Errorf("%w: header: %s of %d bytes is truncated after %d", ErrCorrupt, what, n, len(b)-p)
	}
	return string(b[p : p+n]), p + n, nil
}

// parseTrailer decodes the trailer of a segment of the given size and
// checks the index it points to fits exactly between the header and the
// trailer.
func parseTrailer(h Header, t []byte, size int64) (indexOffset int64, count int, sum [sha256.Size]byte, err error) {
	if len(t) != TrailerSize {
		return 0, 0, sum, corruptf(h, "trailer of %d bytes; want %d", len(t), TrailerSize)
	}
	if size < int64(h.Size()+TrailerSize) {
		return 0, 0, sum, corruptf(h, "%d bytes cannot hold a %d-byte header and the %d-byte trailer", size, h.Size(), TrailerSize)
	}
	rawOffset := binary.BigEndian.Uint64(t)
	rawCount := binary.BigEndian.Uint32(t[8:])
	if m := t[12 : 12+len(endMagic)]; !bytes.Equal(m, []byte(endMagic)) {
		return 0, 0, sum, corruptf(h, "trailer magic %q is not %q (truncated or not a segment)", m, endMagic)
	}
	copy(sum[:], t[12+len(endMagic):])
	if rawCount == 0 {
		return 0, 0, sum, corruptf(h, "no records")
	}
	// Compare in uint64 so that no field value can overflow the arithmetic.
	indexSize := uint64(rawCount) * IndexEntrySize
	body := uint64(size) - uint64(TrailerSize)
	if rawOffset < uint64(h.Size()) || rawOffset > body || body-rawOffset != indexSize {
		return 0, 0, sum, corruptf(h, "trailer puts a %d-entry index at offset %d, which does not end where the %d-byte trailer of a %d-byte segment starts", rawCount, rawOffset, TrailerSize, size)
	}
	return int64(rawOffset), int(rawCount), sum, nil
}

// parseIndex decodes count entries and checks they describe consecutive
// frames filling the space from the end of the header to indexOffset. It
// cannot see the frames themselves; Parse checks those.
func parseIndex(h Header, idx []byte, count int, indexOffset int64) ([]Entry, error) {
	if len(idx) != count*IndexEntrySize {
		return nil, corruptf(h, "index of %d bytes for %d entries", len(idx), count)
	}
	entries := make([]Entry, count)
	next := int64(h.Size())
	for i := range entries {
		raw := idx[i*IndexEntrySize:]
		e := Entry{
			Offset: int64(binary.BigEndian.Uint64(raw)),
			Length: int(binary.BigEndian.Uint32(raw[8:])),
		}
		copy(e.SHA256[:], raw[12:12+sha256.Size])
		if e.Offset != next+FrameOverhead {
			return nil, corruptf(h, "index entry %d: offset %d; the frame after the previous one starts at %d, so want %d", i, e.Offset, next, next+FrameOverhead)
		}
		if e.Length < 1 || e.Length > MaxBlobSize {
			return nil, corruptf(h, "index entry %d: length %d; want 1 to %d", i, e.Length, MaxBlobSize)
		}
		next = e.Offset + int64(e.Length)
		if next > indexOffset {
			return nil, corruptf(h, "index entry %d: record ends at %d, past the index at %d", i, next, indexOffset)
		}
		entries[i] = e
	}
	if next != indexOffset {
		return nil, corruptf(h, "records end at %d but the index starts at %d", next, indexOffset)
	}
	return entries, nil
}

func corruptf(h Header, format string, args ...any) error {
	return fmt.Errorf("%w: segment %s: %s", ErrCorrupt, segmentName(h.ID), fmt.Sprintf(format, args...))
}

func segmentName(id ulid.ULID) string {
	if id == (ulid.ULID{}) {
		return "(no id)"
	}
	return id.String()
}

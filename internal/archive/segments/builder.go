package segments

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// Builder encodes one segment in memory: the header, then each appended
// blob; Seal adds the index and trailer. It is not safe for concurrent use.
type Builder struct {
	header  Header
	buf     []byte
	entries []Entry
	sealed  bool
}

// NewBuilder starts a segment with the given header.
func NewBuilder(h Header) (*Builder, error) {
	if err := h.Validate(); err != nil {
		return nil, err
	}
	return &Builder{header: h, buf: h.appendTo(make([]byte, 0, 4096))}, nil
}

// Header is the segment's header.
func (b *Builder) Header() Header { return b.header }

// Count is the number of blobs appended.
func (b *Builder) Count() int { return len(b.entries) }

// SealedSize is the segment's size if sealed now.
func (b *Builder) SealedSize() int {
	return len(b.buf) + len(b.entries)*IndexEntrySize + TrailerSize
}

// GrowthFor is how much SealedSize grows when a blob of n bytes is added.
func GrowthFor(n int) int { return FrameOverhead + n + IndexEntrySize }

// Append adds a blob and returns its index entry. The blob is copied.
func (b *Builder) Append(blob []byte) (Entry, error) {
	if b.sealed {
		return Entry{}, fmt.Errorf("%w: segment %s is already sealed", ErrInvalid, b.header.ID)
	}
	if len(blob) == 0 || len(blob) > MaxBlobSize {
		return Entry{}, fmt.Errorf("%w: blob of %d bytes; want 1 to %d", ErrInvalid, len(blob), MaxBlobSize)
	}
	if len(b.entries) == maxCount {
		return Entry{}, fmt.Errorf("%w: segment %s holds the most records a segment can", ErrInvalid, b.header.ID)
	}
	b.buf = binary.BigEndian.AppendUint32(b.buf, uint32(len(blob)))
	e := Entry{Offset: int64(len(b.buf)), Length: len(blob), SHA256: sha256.Sum256(blob)}
	b.buf = append(b.buf, blob...)
	b.entries = append(b.entries, e)
	return e, nil
}

// maxCount is the record count the trailer's 32-bit field can hold.
const maxCount = 1<<32 - 1

// Summary describes a finished segment.
type Summary struct {
	Header  Header
	Entries []Entry
	// Size of the encoded segment in bytes.
	Size int64
	// SHA256 of every byte before the trailer's hash field: the value the
	// trailer ends with.
	SHA256 [sha256.Size]byte
}

// Seal appends the index and trailer and returns the finished segment. A
// segment needs at least one record. The Builder cannot be used afterwards.
func (b *Builder) Seal() ([]byte, Summary, error) {
	if b.sealed {
		return nil, Summary{}, fmt.Errorf("%w: segment %s is already sealed", ErrInvalid, b.header.ID)
	}
	if len(b.entries) == 0 {
		return nil, Summary{}, fmt.Errorf("%w: segment %s has no records", ErrInvalid, b.header.ID)
	}
	b.sealed = true
	indexOffset := len(b.buf)
	out := b.buf
	for _, e := range b.entries {
		out = e.appendTo(out)
	}
	out = binary.BigEndian.AppendUint64(out, uint64(indexOffset))
	out = binary.BigEndian.AppendUint32(out, uint32(len(b.entries)))
	out = append(out, endMagic...)
	sum := sha256.Sum256(out)
	out = append(out, sum[:]...)
	b.buf = nil
	return out, Summary{Header: b.header, Entries: b.entries, Size: int64(len(out)), SHA256: sum}, nil
}

package segments

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/oklog/ulid/v2"
)

// Ref locates one record in a stored segment; it is what a record's index
// row keeps. Writer.Append returns it. Together with the segment's version
// id (from the Sealed event) it is enough to read the record with one range
// request, and it carries the blob's SHA-256 so the read is checked without
// fetching the segment's index.
type Ref struct {
	// Key of the segment object.
	Key string
	// Segment is the segment's id, also the last part of Key.
	Segment ulid.ULID
	// Offset and Length of the blob in the segment (the length prefix is
	// the 4 bytes before Offset).
	Offset int64
	Length int
	SHA256 [sha256.Size]byte
}

// ReadRecord fetches one record with a single range read of its frame and
// checks the length prefix and the SHA-256 against the Ref.
func ReadRecord(ctx context.Context, b Backend, ref Ref, versionID string) ([]byte, error) {
	if ref.Length < 1 || ref.Length > MaxBlobSize || ref.Offset < fixedHeaderSize+FrameOverhead {
		return nil, fmt.Errorf("%w: record ref at offset %d length %d of %s", ErrInvalid, ref.Offset, ref.Length, ref.Key)
	}
	frame, err := b.GetRange(ctx, ref.Key, versionID, ref.Offset-FrameOverhead, int64(ref.Length)+FrameOverhead)
	if err != nil {
		return nil, fmt.Errorf("while reading the record at offset %d of %s: %w", ref.Offset, ref.Key, err)
	}
	if n := binary.BigEndian.Uint32(frame); int(n) != ref.Length {
		return nil, fmt.Errorf("%w: %s: the record at offset %d has length prefix %d; the ref says %d", ErrCorrupt, ref.Key, ref.Offset, n, ref.Length)
	}
	blob := frame[FrameOverhead:]
	if sha256.Sum256(blob) != ref.SHA256 {
		return nil, fmt.Errorf("%w: %s: the record at offset %d does not match its SHA-256", ErrCorrupt, ref.Key, ref.Offset)
	}
	return blob, nil
}

// ReadIndex fetches a stored segment's header, index and trailer with three
// range reads, without its records, and checks that they agree with each
// other, with size and with the key. It does not check hashes (that needs
// every byte; see Verify), so the Summary's SHA256 is the trailer's claim.
// size is the object's size (Sealed.Size, or ObjectInfo.Size from Stat or
// List).
func ReadIndex(ctx context.Context, b Backend, key, versionID string, size int64) (Summary, error) {
	if size < fixedHeaderSize+TrailerSize {
		return Summary{}, fmt.Errorf("%w: %s: %d bytes is too small for a segment", ErrCorrupt, key, size)
	}
	head, err := b.GetRange(ctx, key, versionID, 0, min(size, MaxHeaderSize))
	if err != nil {
		return Summary{}, fmt.Errorf("while reading the header of %s: %w", key, err)
	}
	h, err := ParseHeader(head)
	if err != nil {
		return Summary{}, fmt.Errorf("%s: %w", key, err)
	}
	if err := checkKey(key, h); err != nil {
		return Summary{}, err
	}
	tail, err := b.GetRange(ctx, key, versionID, size-TrailerSize, TrailerSize)
	if err != nil {
		return Summary{}, fmt.Errorf("while reading the trailer of %s: %w", key, err)
	}
	indexOffset, count, sum, err := parseTrailer(h, tail, size)
	if err != nil {
		return Summary{}, fmt.Errorf("%s: %w", key, err)
	}
	idx, err := b.GetRange(ctx, key, versionID, indexOffset, int64(count)*IndexEntrySize)
	if err != nil {
		return Summary{}, fmt.Errorf("while reading the index of %s: %w", key, err)
	}
	entries, err := parseIndex(h, idx, count, indexOffset)
	if err != nil {
		return Summary{}, fmt.Errorf("%s: %w", key, err)
	}
	return Summary{Header: h, Entries: entries, Size: size, SHA256: sum}, nil
}

// maxVerifySize bounds what Verify reads into memory: far above any segment
// the Writer makes (its target size plus one largest blob), far below what
// would hurt.
const maxVerifySize = 1 << 30

// Verify fetches a stored segment and checks it end to end: structure,
// every record's SHA-256, the whole-segment SHA-256, and that the header
// names the account, bucket and id its key does (so a segment copied to the
// wrong place is caught). Callers compare the result's SHA256 with the one
// they recorded at seal time to detect a substituted segment.
func Verify(ctx context.Context, b Backend, key, versionID string) (*Segment, error) {
	info, err := b.Stat(ctx, key, versionID)
	if err != nil {
		return nil, err
	}
	if info.Size > maxVerifySize {
		return nil, fmt.Errorf("%w: %s is %d bytes, larger than any segment", ErrCorrupt, key, info.Size)
	}
	r, err := b.Get(ctx, key, info.VersionID)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data := make([]byte, info.Size)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("while reading %s: %w", key, err)
	}
	if n, _ := r.Read(make([]byte, 1)); n != 0 {
		return nil, fmt.Errorf("%w: %s is longer than the %d bytes its metadata says", ErrCorrupt, key, info.Size)
	}
	seg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if err := checkKey(key, seg.Header); err != nil {
		return nil, err
	}
	return seg, nil
}

func checkKey(key string, h Header) error {
	if want := Key(h); key != want {
		return fmt.Errorf("%w: object %s holds segment %s, whose key is %s", ErrCorrupt, key, h.ID, want)
	}
	return nil
}

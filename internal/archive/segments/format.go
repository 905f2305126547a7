package segments

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/oklog/ulid/v2"

	"github.com/vigil-operator/vigil/internal/archive/keys"
)

// Format constants. docs/archive-segments.md describes the layout; change
// both together, and bump Version for anything a version-1 reader would
// misread.
const (
	// Version is the only format version this package writes and reads.
	Version = 1

	// MaxBlobSize bounds one record blob. Sealed messages are kilobytes;
	// attachments live elsewhere. The bound keeps a corrupt length prefix
	// from making a reader allocate gigabytes.
	MaxBlobSize = 64 << 20

	// MaxHeaderSize is the largest possible header (both strings at 255
	// bytes): a reader that fetches this many leading bytes has the header.
	MaxHeaderSize = fixedHeaderSize + 2*maxStringLen

	// TrailerSize is the fixed size of the trailer at the end of a segment.
	TrailerSize = 8 + 4 + magicLen + sha256.Size

	// IndexEntrySize is the size of one index entry.
	IndexEntrySize = 8 + 4 + sha256.Size

	// FrameOverhead is the length prefix before each blob.
	FrameOverhead = 4
)

const (
	magic    = "VIGILSEG"
	endMagic = "VIGILEND"
	// magicLen is len(magic) and len(endMagic), spelled as an untyped
	// constant so the sizes below mix with int64 offsets.
	magicLen     = 8
	maxStringLen = 255
	// magic, version, flags, segment id, year, month, account length, key
	// id length.
	fixedHeaderSize = magicLen + 1 + 1 + 16 + 2 + 1 + 1 + 1
)

// Errors callers tell apart with errors.Is.
var (
	// ErrCorrupt: bytes that should be a segment, or part of one, are not
	// (bad magic, wrong length, hash mismatch, truncation).
	ErrCorrupt = errors.New("corrupt segment")
	// ErrInvalid: a caller passed something this package does not accept.
	ErrInvalid = errors.New("invalid argument")
)

// Header identifies a segment and what its records share.
type Header struct {
	// ID is unique per segment; a ULID, so ids sort by creation time.
	ID ulid.ULID
	// Account is the archive account of every record, "namespace/name".
	Account string
	// Bucket is the expiry bucket of every record: the UTC month in which
	// their retention ends.
	Bucket keys.Bucket
	// KeyID is the data key (DEK) that sealed every blob.
	KeyID string
}

// Validate checks the header fits the format and the object key layout.
func (h Header) Validate() error {
	if h.ID == (ulid.ULID{}) {
		return fmt.Errorf("%w: segment id is zero", ErrInvalid)
	}
	if err := ValidateAccount(h.Account); err != nil {
		return err
	}
	if err := h.Bucket.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return validateKeyID(h.KeyID)
}

// ValidateAccount accepts 1 to 255 bytes of path segments made of ASCII
// letters, digits, '.', '_' and '-', separated by single slashes, none of
// them "." or "..". Archive accounts ("namespace/name", DNS names) fit; the
// rule exists because the account becomes part of object keys and file
// paths, where anything looser could escape the segment directory.
func ValidateAccount(account string) error {
	if len(account) == 0 || len(account) > maxStringLen {
		return fmt.Errorf("%w: account of %d bytes; want 1 to %d", ErrInvalid, len(account), maxStringLen)
	}
	if err := validatePath(account); err != nil {
		return fmt.Errorf("%w: account %q: %v", ErrInvalid, account, err)
	}
	return nil
}

// validatePath checks slash-separated components of safe characters. A
// component may not start with '.', which rules out "." and ".." and keeps
// the FS backend's temporary files (".tmp-…") apart from every key.
func validatePath(p string) error {
	for part := range strings.SplitSeq(p, "/") {
		if part == "" {
			return errors.New("empty path segment")
		}
		if part[0] == '.' {
			return fmt.Errorf("path segment %q starts with '.'", part)
		}
		for i := 0; i < len(part); i++ {
			if !isKeyByte(part[i]) {
				return fmt.Errorf("byte %#x is not a letter, digit, '.', '_' or '-'", part[i])
			}
		}
	}
	return nil
}

func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

// validateKeyID accepts 1 to 255 bytes of printable ASCII without spaces,
// which covers every DEK id internal/archive/keys issues.
func validateKeyID(id string) error {
	if len(id) == 0 || len(id) > maxStringLen {
		return fmt.Errorf("%w: key id of %d bytes; want 1 to %d", ErrInvalid, len(id), maxStringLen)
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return fmt.Errorf("%w: key id has byte %#x; want printable ASCII without spaces", ErrInvalid, id[i])
		}
	}
	return nil
}

// Size is the header's encoded length.
func (h Header) Size() int { return fixedHeaderSize + len(h.Account) + len(h.KeyID) }

// appendTo encodes a valid header.
func (h Header) appendTo(b []byte) []byte {
	b = append(b, magic...)
	b = append(b, Version, 0) // version, flags (none defined)
	b = append(b, h.ID[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(h.Bucket.Year))
	b = append(b, byte(h.Bucket.Month))
	b = append(b, byte(len(h.Account)))
	b = append(b, h.Account...)
	b = append(b, byte(len(h.KeyID)))
	b = append(b, h.KeyID...)
	return b
}

// Entry is one record in a segment's index.
type Entry struct {
	// Offset is where the blob starts in the segment, after its length
	// prefix: a range read of [Offset, Offset+Length) is the blob.
	Offset int64
	// Length of the blob in bytes.
	Length int
	// SHA256 of the blob.
	SHA256 [sha256.Size]byte
}

func (e Entry) appendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(e.Offset))
	b = binary.BigEndian.AppendUint32(b, uint32(e.Length))
	return append(b, e.SHA256[:]...)
}

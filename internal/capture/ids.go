package capture

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

var (
	entropyMu sync.Mutex
	// entropy is monotonic within a millisecond so IDs minted by one process
	// sort in the order they were minted.
	entropy = ulid.Monotonic(rand.Reader, 0)
)

// NewID returns a new ULID for a record captured at t.
func NewID(t time.Time) string {
	entropyMu.Lock()
	defer entropyMu.Unlock()
	return ulid.MustNew(ulid.Timestamp(t), entropy).String()
}

// NewIDFrom returns a ULID drawn from r; tests pass a deterministic reader.
func NewIDFrom(t time.Time, r io.Reader) (string, error) {
	id, err := ulid.New(ulid.Timestamp(t), r)
	if err != nil {
		return "", err
	}
	return id.String(), nil
}

// DedupKey is the idempotency key of an event: sha256 over
// channel|tenant|nativeID|kind|target, hex encoded. Separators cannot be forged
// by a field value because each field is length-prefixed before hashing.
func DedupKey(channel, tenant, nativeID string, kind Kind, target string) string {
	h := sha256.New()
	for _, part := range []string{channel, tenant, nativeID, string(kind), target} {
		var n [4]byte
		l := len(part)
		n[0], n[1], n[2], n[3] = byte(l>>24), byte(l>>16), byte(l>>8), byte(l)
		h.Write(n[:])
		h.Write([]byte(part))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// SetDedupKey fills r.DedupKey from the record's identifying fields.
func (r *Record) SetDedupKey() {
	r.DedupKey = DedupKey(r.Channel, r.Tenant, r.NativeID, r.Kind, r.Target)
}

// IsULID reports whether s is a canonical ULID string.
func IsULID(s string) bool {
	if len(s) != ulid.EncodedSize {
		return false
	}
	_, err := ulid.ParseStrict(strings.ToUpper(s))
	return err == nil
}

package segments

import (
	"context"
	"errors"
	"io"
	"iter"
	"time"
)

// Errors a Backend returns, for errors.Is.
var (
	// ErrNotFound: no such key, or no such version of it.
	ErrNotFound = errors.New("segment object not found")
	// ErrExists: Put to a key that already holds an object. Segment keys
	// are unique, so this means a retried upload or a bug, never a reason
	// to replace what is stored.
	ErrExists = errors.New("segment object already exists")
	// ErrLocked: the storage refused to delete an object, or to weaken its
	// retention, because a retain-until date in the future or a legal hold
	// protects it.
	ErrLocked = errors.New("segment object is locked")
)

// Backend stores sealed segments as immutable objects. Each Put creates one
// object version protected until RetainUntil, and by a legal hold while the
// hold is on; while either protects it, Delete fails with ErrLocked.
//
// Where that protection is enforced is what tells the implementations
// apart: S3 leaves it to the storage (Object Lock in COMPLIANCE mode, which
// nobody, the bucket owner and this code included, can lift), FS enforces it
// in this package's code and so guards against mistakes, not against
// someone with write access to the directory.
//
// Every implementation must pass the conformance suite in the backendtest
// package.
type Backend interface {
	// Put stores size bytes from body under key as a new object, protected
	// until lock.RetainUntil (which must be in the future) and under a
	// legal hold if lock.LegalHold. It returns the version id the other
	// methods name the object by. A key that already holds an object is
	// refused with ErrExists.
	Put(ctx context.Context, key string, body io.Reader, size int64, lock Lock) (versionID string, err error)

	// Get streams a whole object. An empty versionID means the current
	// version.
	Get(ctx context.Context, key, versionID string) (io.ReadCloser, error)

	// GetRange reads length bytes at offset. A range that runs past the
	// end of the object is an error, never a short read.
	GetRange(ctx context.Context, key, versionID string, offset, length int64) ([]byte, error)

	// Stat describes one object version, its protection included.
	Stat(ctx context.Context, key, versionID string) (ObjectInfo, error)

	// SetLegalHold places (on) or releases (off) a legal hold on one
	// version. A held object cannot be deleted whatever its retention.
	SetLegalHold(ctx context.Context, key, versionID string, on bool) error

	// ExtendRetention moves a version's retain-until later. An earlier date
	// is refused with ErrLocked: retention only ever grows.
	ExtendRetention(ctx context.Context, key, versionID string, until time.Time) error

	// Delete removes one object version for good. The version id is
	// required: on versioned object stores a delete without one only hides
	// the object behind a delete marker. Refused with ErrLocked before
	// retain-until or while a legal hold is on.
	Delete(ctx context.Context, key, versionID string) error

	// List yields every stored object version whose key starts with
	// prefix, in no particular order.
	List(ctx context.Context, prefix string) iter.Seq2[ObjectInfo, error]
}

// Lock is the protection a Put gives an object.
type Lock struct {
	// RetainUntil: the object cannot be deleted before this instant. For
	// a segment it is the end of its expiry bucket.
	RetainUntil time.Time
	// LegalHold: the object cannot be deleted until the hold is released.
	LegalHold bool
}

// ObjectInfo describes a stored object version. List fills Key, VersionID,
// Size and Modified; Stat fills every field.
type ObjectInfo struct {
	Key       string
	VersionID string
	Size      int64
	Modified  time.Time
	// RetainUntil is the version's current retain-until date, zero if it
	// has none.
	RetainUntil time.Time
	LegalHold   bool
}

package keys

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"time"
)

// maxNameLen bounds tenant, account, record id and schema strings: they are
// length-prefixed into additional data and stored beside every DEK.
const maxNameLen = 1024

// Scope is what one DEK covers: one account of one tenant, one expiry bucket.
type Scope struct {
	Tenant  string
	Account string
	Bucket  Bucket
}

// Validate checks that the scope names a tenant, an account and a valid bucket.
func (s Scope) Validate() error {
	if err := validateName("tenant", s.Tenant); err != nil {
		return err
	}
	if err := validateName("account", s.Account); err != nil {
		return err
	}
	return s.Bucket.Validate()
}

func (s Scope) String() string { return fmt.Sprintf("%s %s %s", s.Tenant, s.Account, s.Bucket) }

func validateName(what, v string) error {
	if v == "" || len(v) > maxNameLen {
		return fmt.Errorf("%w: %s must be 1 to %d bytes, got %d", ErrInvalid, what, maxNameLen, len(v))
	}
	return nil
}

// WrappedDEK is a DEK as the Store holds it. Once destroyed, Wrapped is nil
// and the entry stays as a tombstone: it records when the key went and a
// commitment to what was erased, and it stops a new key from being created
// for a bucket that was already purged.
type WrappedDEK struct {
	// ID is random ("dek-" and 26 base32 characters), so that DEK ids in the
	// tamper-evident log reveal nothing about the account.
	ID    string
	Scope Scope
	// KEKID names the KEK that wrapped it (also inside Wrapped's header);
	// kept as a column so rotation can find what is left under an old KEK.
	KEKID     string
	Wrapped   []byte
	CreatedAt time.Time
	// DestroyedAt is zero while the key lives.
	DestroyedAt time.Time
	// WrappedSHA256 is SHA-256 of Wrapped as it was when destroyed; zero
	// while the key lives.
	WrappedSHA256 [32]byte
}

// Destroyed reports whether the entry is a tombstone.
func (d WrappedDEK) Destroyed() bool { return !d.DestroyedAt.IsZero() }

// Tombstone returns the entry as Store.Destroy must leave it: Wrapped erased,
// DestroyedAt set, WrappedSHA256 committing to the erased bytes. A tombstone
// is returned unchanged, so destroying twice keeps the first time and hash.
// Backends call it so that every store commits the same way.
func (d WrappedDEK) Tombstone(at time.Time) WrappedDEK {
	if d.Destroyed() {
		return d
	}
	d.WrappedSHA256 = sha256.Sum256(d.Wrapped)
	d.Wrapped = nil
	d.DestroyedAt = at.UTC()
	return d
}

// String shows the id, scope and state; never the wrapped bytes, which are
// ciphertext but have no business in logs.
func (d WrappedDEK) String() string {
	state := "live"
	if d.Destroyed() {
		state = "destroyed " + d.DestroyedAt.Format(time.RFC3339)
	}
	return fmt.Sprintf("WrappedDEK(%s, %s, kek %s, %s, %d wrapped bytes redacted)", d.ID, d.Scope, d.KEKID, state, len(d.Wrapped))
}

// GoString is String.
func (d WrappedDEK) GoString() string { return d.String() }

// Format makes every fmt verb print String.
func (d WrappedDEK) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, d.String()) }

// ListQuery selects wrapped DEKs, ordered by ID.
type ListQuery struct {
	// Bucket, when not zero, restricts the list to one bucket.
	Bucket Bucket
	// After is the last ID of the previous page.
	After string
	// Limit is the page size, 1 to MaxListLimit.
	Limit int
}

// MaxListLimit bounds one page of Store.List.
const MaxListLimit = 1000

// Validate checks a list query.
func (q ListQuery) Validate() error {
	if q.Limit < 1 || q.Limit > MaxListLimit {
		return fmt.Errorf("%w: list limit must be 1 to %d, got %d", ErrInvalid, MaxListLimit, q.Limit)
	}
	if !q.Bucket.IsZero() {
		return q.Bucket.Validate()
	}
	return nil
}

// Store keeps wrapped DEKs. The SQLite and PostgreSQL archive backends
// implement it in their own transactions; MemoryStore is for tests. Every
// implementation must pass keystoretest.Run, be safe for concurrent use, and
// never return slices that alias its own storage.
type Store interface {
	// CreateIfAbsent stores dek unless an entry (live or tombstone) exists
	// for its scope, atomically, and returns the entry now stored for the
	// scope and whether it is dek. This is what keeps two replicas from
	// creating two keys for one bucket.
	CreateIfAbsent(ctx context.Context, dek WrappedDEK) (stored WrappedDEK, created bool, err error)
	// Get returns the entry with the id, or ErrKeyNotFound.
	Get(ctx context.Context, id string) (WrappedDEK, error)
	// Lookup returns the entry for the scope, or ErrKeyNotFound.
	Lookup(ctx context.Context, scope Scope) (WrappedDEK, error)
	// Destroy erases the wrapped key, leaving dek.Tombstone(at), and returns
	// the tombstone. Destroying a tombstone returns it unchanged. SQL
	// backends must make the erasure physical (SQLite secure_delete, then
	// VACUUM; PostgreSQL VACUUM) and keep it out of long-lived backups.
	Destroy(ctx context.Context, id string, at time.Time) (WrappedDEK, error)
	// Rewrap replaces the wrapped bytes if they still equal old: ErrConflict
	// if not, ErrShredded if the entry is a tombstone (a rewrap must never
	// resurrect a destroyed key), ErrKeyNotFound if absent.
	Rewrap(ctx context.Context, id string, old, rewrapped []byte, kekID string) error
	// List returns a page of entries, live and destroyed, ordered by ID.
	List(ctx context.Context, q ListQuery) ([]WrappedDEK, error)
}

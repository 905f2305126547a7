package keys

import "errors"

// Errors callers tell apart with errors.Is. Messages name keys by id, never
// by content.
var (
	// ErrShredded: the DEK was destroyed by a purge, so the content is gone
	// for good. Not an integrity failure.
	ErrShredded = errors.New("data key was destroyed (crypto-shredded)")
	// ErrTampered: authentication failed. The ciphertext, its metadata or a
	// wrapped key was altered or moved, or the KEK holds different key bytes
	// than the one that wrapped the DEK.
	ErrTampered = errors.New("authentication failed: tampered, moved, or wrong key")
	// ErrKeyNotFound: the store holds neither the DEK nor its tombstone.
	ErrKeyNotFound = errors.New("data key not found")
	// ErrUnknownKEK: a wrapped DEK names a KEK the ring does not hold, for
	// example one removed before every DEK was rewrapped.
	ErrUnknownKEK = errors.New("wrapped by a KEK that is not in the key ring")
	// ErrConflict: a compare-and-swap in the store lost a race.
	ErrConflict = errors.New("data key changed concurrently")
	// ErrWeakKEK: the KEK secret is the wrong size or not random-looking.
	ErrWeakKEK = errors.New("KEK secret rejected")
	// ErrInvalid: a malformed argument (empty scope, invalid bucket, ...).
	ErrInvalid = errors.New("invalid argument")
)

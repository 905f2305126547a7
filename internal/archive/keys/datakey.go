package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// dekIDPrefix starts every DEK id.
const dekIDPrefix = "dek-"

// newDEKID returns a random DEK id: 130 bits from crypto/rand as base32.
func newDEKID() string { return dekIDPrefix + rand.Text() }

// errRetired: the cached key was evicted between lookup and use; the caller
// loads it again.
var errRetired = errors.New("data key was evicted from the cache")

// DataKey is an unwrapped DEK held by the Manager's cache. It exposes only
// its id and scope; the key bytes never leave the package, and every fmt
// verb prints a redacted description.
type DataKey struct {
	id        string
	scope     Scope
	createdAt time.Time

	// mu is read-locked while the key encrypts or decrypts and write-locked
	// to retire it, so a key is never zeroed under a running operation.
	mu   sync.RWMutex
	raw  []byte
	aead cipher.AEAD
}

// newDataKey takes ownership of raw.
func newDataKey(stored WrappedDEK, raw []byte) (*DataKey, error) {
	if len(raw) != dekSize {
		clear(raw)
		return nil, fmt.Errorf("DEK %s unwrapped to %d bytes, want %d: %w", stored.ID, len(raw), dekSize, ErrTampered)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		clear(raw)
		return nil, fmt.Errorf("DEK %s: %w", stored.ID, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		clear(raw)
		return nil, fmt.Errorf("DEK %s: %w", stored.ID, err)
	}
	return &DataKey{id: stored.ID, scope: stored.Scope, createdAt: stored.CreatedAt, raw: raw, aead: aead}, nil
}

// ID is the DEK id recorded with every record sealed under it.
func (k *DataKey) ID() string { return k.id }

// Scope is the tenant, account and bucket the key covers.
func (k *DataKey) Scope() Scope { return k.scope }

// CreatedAt is when the key was created.
func (k *DataKey) CreatedAt() time.Time { return k.createdAt }

func (k *DataKey) seal(ref RecordRef, plaintext []byte) (Sealed, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.aead == nil {
		return Sealed{}, errRetired
	}
	nonce := make([]byte, nonceSize)
	rand.Read(nonce) // never fails since Go 1.24: it crashes the program instead
	ct := k.aead.Seal(nil, nonce, plaintext, recordAAD(ref, k.id))
	return Sealed{KeyID: k.id, Nonce: nonce, Ciphertext: ct}, nil
}

func (k *DataKey) open(ref RecordRef, s Sealed) ([]byte, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.aead == nil {
		return nil, errRetired
	}
	if len(s.Nonce) != nonceSize || len(s.Ciphertext) < tagSize {
		return nil, fmt.Errorf("record %s: %d-byte nonce, %d-byte ciphertext: %w", truncate(ref.ID), len(s.Nonce), len(s.Ciphertext), ErrTampered)
	}
	plain, err := k.aead.Open(nil, s.Nonce, s.Ciphertext, recordAAD(ref, k.id))
	if err != nil {
		return nil, fmt.Errorf("record %s under DEK %s: %w", truncate(ref.ID), k.id, ErrTampered)
	}
	return plain, nil
}

// retire zeroes the key bytes once no operation is using them. Go cannot
// reach the AES key schedule inside crypto/aes; dropping the AEAD lets the
// garbage collector reclaim it, which is the most the language allows.
func (k *DataKey) retire() {
	k.mu.Lock()
	defer k.mu.Unlock()
	clear(k.raw)
	k.raw, k.aead = nil, nil
}

// String never shows key material.
func (k *DataKey) String() string {
	return fmt.Sprintf("DataKey(%s, %s, key redacted)", k.id, k.scope)
}

// GoString never shows key material.
func (k *DataKey) GoString() string { return k.String() }

// Format makes every fmt verb print String.
func (k *DataKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

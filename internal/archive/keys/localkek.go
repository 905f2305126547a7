package keys

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
)

// kekSize is the only KEK size accepted: AES-256.
const kekSize = 32

// LocalKEK is a 256-bit KEK held in process memory, read from a Kubernetes
// Secret mounted as a file. It wraps with AES-256-GCM and a random 96-bit
// nonce: the blob is nonce(12) ‖ ciphertext ‖ tag(16).
//
// Why GCM and not AES-KW (RFC 3394): the standard library has no AES-KW, and
// hand-written key wrap is its own risk; GCM authenticates additional data,
// which binds a wrapped DEK to its id and scope so that rows swapped in the
// key store fail to unwrap (AES-KW has no associated data); and GCM is what
// KMSs and Vault Transit use, so local and remote KEKs behave alike. The cost
// is 28 bytes per wrapped DEK. Random nonces are safe for 2^32 wraps under one
// KEK (NIST SP 800-38D); one DEK per account per month is far below that.
type LocalKEK struct {
	id   string
	aead cipher.AEAD
}

// LoadLocalKEK reads a KEK from a mounted Secret file. See ParseLocalKEK for
// the accepted encodings.
func LoadLocalKEK(id, path string) (*LocalKEK, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("while opening KEK %q file: %w", id, err)
	}
	defer f.Close()
	// A KEK file is at most a few dozen bytes; refuse to slurp anything big
	// that was mounted by mistake.
	secret, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return nil, fmt.Errorf("while reading KEK %q file: %w", id, err)
	}
	defer clear(secret)
	return ParseLocalKEK(id, secret)
}

// ParseLocalKEK builds a LocalKEK from secret, which is either exactly 32
// raw bytes (what `openssl rand 32` writes and the natural content of a
// Secret key mounted as a file) or the standard base64 encoding of 32 bytes
// with optional surrounding whitespace (what `openssl rand -base64 32`
// writes). Nothing else: a 64-character hex string or a passphrase is
// refused, because silently hashing it into a key would hide a weak root.
//
// Keys that do not look random are refused: every byte printable (a
// passphrase; a random 32-byte key is all printable with probability about
// 10^-14) or fewer than 16 distinct byte values (zeros, repeated patterns;
// a random key has about 30). Errors describe the shape, never the bytes.
// The caller may clear secret afterwards; the LocalKEK keeps no reference.
func ParseLocalKEK(id string, secret []byte) (*LocalKEK, error) {
	if err := ValidateKEKID(id); err != nil {
		return nil, err
	}
	key, err := decodeKEKSecret(secret)
	if err != nil {
		return nil, fmt.Errorf("KEK %q: %w", id, err)
	}
	defer clear(key)
	if err := checkKEKRandomness(key); err != nil {
		return nil, fmt.Errorf("KEK %q: %w", id, err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("KEK %q: %w", id, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("KEK %q: %w", id, err)
	}
	return &LocalKEK{id: id, aead: aead}, nil
}

// decodeKEKSecret returns a fresh 32-byte copy of the key in secret.
func decodeKEKSecret(secret []byte) ([]byte, error) {
	if len(secret) == kekSize {
		return bytes.Clone(secret), nil
	}
	trimmed := bytes.TrimSpace(secret)
	if len(trimmed) == base64.StdEncoding.EncodedLen(kekSize) {
		key := make([]byte, base64.StdEncoding.DecodedLen(len(trimmed)))
		n, err := base64.StdEncoding.Decode(key, trimmed)
		if err == nil && n == kekSize {
			return key[:n], nil
		}
		clear(key)
		return nil, fmt.Errorf("%w: %d bytes that are not the base64 of 32 bytes", ErrWeakKEK, len(trimmed))
	}
	hint := ""
	if len(trimmed) == 2*kekSize {
		hint = " (hex is not accepted: write raw bytes with `openssl rand 32`)"
	}
	return nil, fmt.Errorf("%w: %d bytes; want exactly 32 raw bytes or their base64 encoding (44 characters)%s",
		ErrWeakKEK, len(secret), hint)
}

func checkKEKRandomness(key []byte) error {
	var seen [256]bool
	distinct, printable := 0, 0
	for _, c := range key {
		if !seen[c] {
			seen[c] = true
			distinct++
		}
		if c >= 0x20 && c < 0x7f {
			printable++
		}
	}
	switch {
	case printable == len(key):
		return fmt.Errorf("%w: all 32 bytes are printable characters, which looks like a passphrase, not random bytes; use `openssl rand 32`", ErrWeakKEK)
	case distinct < 16:
		return fmt.Errorf("%w: only %d distinct byte values in 32 bytes; a random key has about 30; use `openssl rand 32`", ErrWeakKEK, distinct)
	}
	return nil
}

// ID is the name given at load time.
func (k *LocalKEK) ID() string { return k.id }

// Wrap encrypts a DEK under the KEK, authenticating aad.
func (k *LocalKEK) Wrap(_ context.Context, plaintextDEK, aad []byte) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintextDEK)+k.aead.Overhead())
	rand.Read(nonce) // never fails since Go 1.24: it crashes the program instead
	return k.aead.Seal(nonce, nonce, plaintextDEK, aad), nil
}

// Unwrap decrypts a blob from Wrap, failing with ErrTampered if it or aad
// changed, or if this KEK is not the one that wrapped it.
func (k *LocalKEK) Unwrap(_ context.Context, wrapped, aad []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(wrapped) < ns+k.aead.Overhead() {
		return nil, fmt.Errorf("KEK %q: wrapped key of %d bytes is too short: %w", k.id, len(wrapped), ErrTampered)
	}
	plain, err := k.aead.Open(nil, wrapped[:ns], wrapped[ns:], aad)
	if err != nil {
		return nil, fmt.Errorf("KEK %q could not authenticate the wrapped key (altered, moved to another scope, or wrapped by a different key under this id): %w", k.id, ErrTampered)
	}
	return plain, nil
}

// String never shows key material.
func (k *LocalKEK) String() string { return fmt.Sprintf("LocalKEK(%s, key redacted)", k.id) }

// GoString never shows key material.
func (k *LocalKEK) GoString() string { return k.String() }

// Format makes every fmt verb print String: without it %#v and %+v would
// walk into the cipher's expanded key schedule.
func (k *LocalKEK) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// LoadOrCreateLocalKEK reads the KEK in the file at path, or creates it (32
// random bytes, base64, mode 0600) when there is none. generated says it was
// just created. It is the default of an archive given no KEK Secret: the
// database file and its backups are then unreadable on their own, though a
// copy of the whole volume is not.
func LoadOrCreateLocalKEK(id, path string) (kek *LocalKEK, generated bool, err error) {
	if _, err := os.Stat(path); err == nil {
		kek, err := LoadLocalKEK(id, path)
		return kek, false, err
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("while reading the key-encryption key: %w", err)
	}
	raw := make([]byte, kekSize)
	rand.Read(raw)
	defer clear(raw)
	encoded := []byte(base64.StdEncoding.EncodeToString(raw) + "\n")
	defer clear(encoded)
	if err := os.WriteFile(path, encoded, 0o600); err != nil {
		return nil, false, fmt.Errorf("while saving the key-encryption key: %w", err)
	}
	kek, err = ParseLocalKEK(id, encoded)
	return kek, true, err
}

package keys

import (
	"encoding/binary"
	"fmt"
	"time"
)

// sealedFormatV1 is the first byte of a marshalled Sealed:
//
//	version(1) = 0x01 ‖ keyIDLen(1) ‖ DEK id ‖ nonce(12) ‖ ciphertext ‖ tag(16)
//
// The version and DEK id are also in the additional data, so they are
// authenticated.
const sealedFormatV1 = 0x01

const (
	nonceSize = 12
	tagSize   = 16
	dekSize   = 32
)

// recordAADLabel separates record additional data from DEK-wrapping data.
const recordAADLabel = "vigil/archive/record/v1\x00"

// RecordRef is the metadata a record's ciphertext is bound to. Moving a
// ciphertext to another record id, tenant, account or schema version makes
// Open fail with ErrTampered.
type RecordRef struct {
	// ID is the record id (a ULID).
	ID     string
	Tenant string
	// Account may be the raw account key or its pseudonymous HMAC; whichever
	// is used, Seal and Open must use the same.
	Account string
	// Schema is the record's schema version, e.g. "capture.v1", so that a
	// ciphertext cannot be reinterpreted under another schema.
	Schema string
	// ExpiresAt picks the DEK (its expiry bucket) at Seal. Open ignores it:
	// the key is found by Sealed.KeyID, so a later change of retention does
	// not orphan records sealed under the old one.
	ExpiresAt time.Time
}

// Validate checks that every field Seal needs is set.
func (r RecordRef) Validate() error {
	for _, f := range []struct{ name, v string }{{"record id", r.ID}, {"tenant", r.Tenant}, {"account", r.Account}, {"schema", r.Schema}} {
		if err := validateName(f.name, f.v); err != nil {
			return err
		}
	}
	return nil
}

// Sealed is one encrypted record. Store it as the three fields or as
// MarshalBinary's bytes.
type Sealed struct {
	// KeyID is the DEK id, also recorded in the tamper-evident log.
	KeyID      string
	Nonce      []byte
	Ciphertext []byte
}

// MarshalBinary encodes s in the v1 format.
func (s Sealed) MarshalBinary() ([]byte, error) {
	if len(s.KeyID) == 0 || len(s.KeyID) > 255 {
		return nil, fmt.Errorf("%w: key id of %d bytes does not fit the sealed format", ErrInvalid, len(s.KeyID))
	}
	if len(s.Nonce) != nonceSize || len(s.Ciphertext) < tagSize {
		return nil, fmt.Errorf("%w: sealed record has a %d-byte nonce and %d-byte ciphertext", ErrInvalid, len(s.Nonce), len(s.Ciphertext))
	}
	out := make([]byte, 0, 2+len(s.KeyID)+nonceSize+len(s.Ciphertext))
	out = append(out, sealedFormatV1, byte(len(s.KeyID)))
	out = append(out, s.KeyID...)
	out = append(out, s.Nonce...)
	return append(out, s.Ciphertext...), nil
}

// ParseSealed decodes MarshalBinary's bytes. Malformed input fails with
// ErrTampered. The result aliases b.
func ParseSealed(b []byte) (Sealed, error) {
	switch {
	case len(b) < 2:
		return Sealed{}, fmt.Errorf("sealed record of %d bytes has no header: %w", len(b), ErrTampered)
	case b[0] != sealedFormatV1:
		return Sealed{}, fmt.Errorf("sealed record format version %d is unknown: %w", b[0], ErrTampered)
	case b[1] == 0:
		return Sealed{}, fmt.Errorf("sealed record names no key: %w", ErrTampered)
	}
	idEnd := 2 + int(b[1])
	if len(b) < idEnd+nonceSize+tagSize {
		return Sealed{}, fmt.Errorf("sealed record of %d bytes is truncated: %w", len(b), ErrTampered)
	}
	return Sealed{
		KeyID:      string(b[2:idEnd]),
		Nonce:      b[idEnd : idEnd+nonceSize],
		Ciphertext: b[idEnd+nonceSize:],
	}, nil
}

// recordAAD is label ‖ version ‖ each of record id, tenant, account, schema
// and DEK id prefixed by its 4-byte big-endian length, so that no two
// different field lists give the same bytes.
func recordAAD(ref RecordRef, keyID string) []byte {
	fields := [...]string{ref.ID, ref.Tenant, ref.Account, ref.Schema, keyID}
	n := len(recordAADLabel) + 1
	for _, f := range fields {
		n += 4 + len(f)
	}
	out := make([]byte, 0, n)
	out = append(out, recordAADLabel...)
	out = append(out, sealedFormatV1)
	for _, f := range fields {
		out = binary.BigEndian.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	return out
}

// dekAADLabel separates DEK-wrapping additional data from record data.
const dekAADLabel = "vigil/archive/dek/v1\x00"

// dekAAD binds a wrapped DEK to its id and scope: a wrapped key copied to
// another row of the key store does not unwrap.
func dekAAD(id string, scope Scope) []byte {
	fields := [...]string{id, scope.Tenant, scope.Account, scope.Bucket.String()}
	out := []byte(dekAADLabel)
	for _, f := range fields {
		out = binary.BigEndian.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	return out
}

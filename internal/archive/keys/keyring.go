package keys

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// wrappedFormatV1 is the first byte of every wrapped DEK:
//
//	version(1) = 0x01 ‖ idLen(1) ‖ KEK id (idLen bytes) ‖ KEK blob
//
// The KEK blob is whatever the KEK's Wrap returned (LocalKEK: nonce(12) ‖
// encrypted DEK(32) ‖ tag(16)). The header is authenticated: it is part of
// the additional data passed to the KEK, so changing the id or version makes
// the unwrap fail.
const wrappedFormatV1 = 0x01

// kekAADLabel separates KEK additional data from every other use of a key.
const kekAADLabel = "vigil/archive/kek/v1\x00"

// KeyRing holds the KEKs of a deployment: the current one wraps new DEKs,
// all of them unwrap. To rotate, load the new KEK as current with the old
// one as previous, run Manager.Rotate, then drop the old KEK.
type KeyRing struct {
	current KEK
	byID    map[string]KEK
}

// NewKeyRing builds a ring. KEK ids must be valid and distinct.
func NewKeyRing(current KEK, previous ...KEK) (*KeyRing, error) {
	if current == nil {
		return nil, fmt.Errorf("%w: a key ring needs a current KEK", ErrInvalid)
	}
	r := &KeyRing{current: current, byID: map[string]KEK{}}
	for i, k := range append([]KEK{current}, previous...) {
		if k == nil {
			return nil, fmt.Errorf("%w: KEK %d of the ring is nil", ErrInvalid, i)
		}
		if err := ValidateKEKID(k.ID()); err != nil {
			return nil, err
		}
		if _, dup := r.byID[k.ID()]; dup {
			return nil, fmt.Errorf("%w: KEK id %q appears twice in the ring", ErrInvalid, k.ID())
		}
		r.byID[k.ID()] = k
	}
	return r, nil
}

// CurrentID is the id of the KEK that wraps new DEKs.
func (r *KeyRing) CurrentID() string { return r.current.ID() }

// IDs lists every KEK in the ring, current first.
func (r *KeyRing) IDs() []string {
	var previous []string
	for id := range r.byID {
		if id != r.current.ID() {
			previous = append(previous, id)
		}
	}
	slices.Sort(previous)
	return append([]string{r.current.ID()}, previous...)
}

// Wrap wraps a DEK under the current KEK, authenticating aad and the header.
func (r *KeyRing) Wrap(ctx context.Context, plaintextDEK, aad []byte) ([]byte, error) {
	header := wrappedHeader(r.current.ID())
	blob, err := r.current.Wrap(ctx, plaintextDEK, kekAAD(header, aad))
	if err != nil {
		return nil, fmt.Errorf("while wrapping with KEK %q: %w", r.current.ID(), err)
	}
	return append(header, blob...), nil
}

// Unwrap finds the KEK named in wrapped and unwraps with it.
func (r *KeyRing) Unwrap(ctx context.Context, wrapped, aad []byte) ([]byte, error) {
	id, blob, err := parseWrapped(wrapped)
	if err != nil {
		return nil, err
	}
	kek, ok := r.byID[id]
	if !ok {
		return nil, fmt.Errorf("KEK %q: %w (ring holds %s)", id, ErrUnknownKEK, strings.Join(r.IDs(), ", "))
	}
	plain, err := kek.Unwrap(ctx, blob, kekAAD(wrapped[:len(wrapped)-len(blob)], aad))
	if err != nil {
		return nil, fmt.Errorf("while unwrapping with KEK %q: %w", id, err)
	}
	return plain, nil
}

// Rewrap returns wrapped re-wrapped under the current KEK, and whether it
// changed. A DEK already under the current KEK is returned as it is.
func (r *KeyRing) Rewrap(ctx context.Context, wrapped, aad []byte) ([]byte, bool, error) {
	id, err := WrappedKEKID(wrapped)
	if err != nil {
		return nil, false, err
	}
	if id == r.current.ID() {
		return wrapped, false, nil
	}
	plain, err := r.Unwrap(ctx, wrapped, aad)
	if err != nil {
		return nil, false, err
	}
	defer clear(plain)
	rewrapped, err := r.Wrap(ctx, plain, aad)
	if err != nil {
		return nil, false, err
	}
	return rewrapped, true, nil
}

// WrappedKEKID reads the KEK id from a wrapped DEK's header, unauthenticated.
func WrappedKEKID(wrapped []byte) (string, error) {
	id, _, err := parseWrapped(wrapped)
	return id, err
}

func wrappedHeader(kekID string) []byte {
	h := make([]byte, 0, 2+len(kekID)+64)
	h = append(h, wrappedFormatV1, byte(len(kekID)))
	return append(h, kekID...)
}

func parseWrapped(wrapped []byte) (kekID string, blob []byte, err error) {
	switch {
	case len(wrapped) < 2:
		return "", nil, fmt.Errorf("wrapped key of %d bytes has no header: %w", len(wrapped), ErrTampered)
	case wrapped[0] != wrappedFormatV1:
		return "", nil, fmt.Errorf("wrapped key format version %d is unknown: %w", wrapped[0], ErrTampered)
	case len(wrapped) < 2+int(wrapped[1]):
		return "", nil, fmt.Errorf("wrapped key header is truncated: %w", ErrTampered)
	}
	id := string(wrapped[2 : 2+int(wrapped[1])])
	if err := ValidateKEKID(id); err != nil {
		return "", nil, errors.Join(ErrTampered, err)
	}
	return id, wrapped[2+len(id):], nil
}

func kekAAD(header, aad []byte) []byte {
	out := make([]byte, 0, len(kekAADLabel)+len(header)+len(aad))
	out = append(out, kekAADLabel...)
	out = append(out, header...)
	return append(out, aad...)
}

// String never shows key material.
func (r *KeyRing) String() string {
	return fmt.Sprintf("KeyRing(current %s, holds %s)", r.current.ID(), strings.Join(r.IDs(), ", "))
}

// GoString never shows key material.
func (r *KeyRing) GoString() string { return r.String() }

// Format makes every fmt verb print String.
func (r *KeyRing) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, r.String()) }

package keys

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

func TestKeyRingFormat(t *testing.T) {
	kek, _ := testKEK(t, "kek-2026-11")
	ring, err := NewKeyRing(kek)
	if err != nil {
		t.Fatal(err)
	}
	dek := make([]byte, dekSize)
	rand.Read(dek)
	wrapped, err := ring.Wrap(t.Context(), dek, []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := append([]byte{wrappedFormatV1, byte(len("kek-2026-11"))}, "kek-2026-11"...)
	if !bytes.HasPrefix(wrapped, wantHeader) || len(wrapped) != len(wantHeader)+nonceSize+dekSize+tagSize {
		t.Fatalf("wrapped = %x, want header %x and a %d-byte blob", wrapped, wantHeader, nonceSize+dekSize+tagSize)
	}
	if id, err := WrappedKEKID(wrapped); err != nil || id != "kek-2026-11" {
		t.Fatalf("WrappedKEKID = %q, %v", id, err)
	}
	got, err := ring.Unwrap(t.Context(), wrapped, []byte("aad"))
	if err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("Unwrap = %v", err)
	}
	// The header is authenticated: a forged version or id fails even when
	// it still parses.
	forged := bytes.Clone(wrapped)
	forged[2] = 'K'
	other, _ := testKEK(t, "Kek-2026-11")
	ring2, _ := NewKeyRing(kek, other)
	if _, err := ring2.Unwrap(t.Context(), forged, []byte("aad")); !errors.Is(err, ErrTampered) {
		t.Fatalf("renamed KEK id: %v, want ErrTampered", err)
	}
	for i := range len(wrapped) * 8 {
		if _, err := ring.Unwrap(t.Context(), flipBit(wrapped, i), []byte("aad")); err == nil {
			t.Fatalf("bit %d flipped still unwraps", i)
		}
	}
}

func TestKeyRingRotation(t *testing.T) {
	oldKEK, _ := testKEK(t, "kek-old")
	newKEK, _ := testKEK(t, "kek-new")
	before, _ := NewKeyRing(oldKEK)
	during, err := NewKeyRing(newKEK, oldKEK)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := NewKeyRing(newKEK)
	dek := make([]byte, dekSize)
	rand.Read(dek)
	wrapped, _ := before.Wrap(t.Context(), dek, []byte("aad"))

	if _, err := after.Unwrap(t.Context(), wrapped, []byte("aad")); !errors.Is(err, ErrUnknownKEK) {
		t.Fatalf("unwrap without the old KEK: %v, want ErrUnknownKEK", err)
	}
	if got, err := during.Unwrap(t.Context(), wrapped, []byte("aad")); err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("previous KEKs must unwrap: %v", err)
	}
	rewrapped, changed, err := during.Rewrap(t.Context(), wrapped, []byte("aad"))
	if err != nil || !changed {
		t.Fatalf("Rewrap = changed %v, %v", changed, err)
	}
	if id, _ := WrappedKEKID(rewrapped); id != "kek-new" {
		t.Fatalf("rewrapped under %q, want kek-new", id)
	}
	if got, err := after.Unwrap(t.Context(), rewrapped, []byte("aad")); err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("rewrapped DEK does not unwrap with the new KEK alone: %v", err)
	}
	same, changed, err := during.Rewrap(t.Context(), rewrapped, []byte("aad"))
	if err != nil || changed || !bytes.Equal(same, rewrapped) {
		t.Fatalf("rewrap of a current DEK = changed %v, %v; want it untouched", changed, err)
	}
	if _, _, err := during.Rewrap(t.Context(), wrapped, []byte("other aad")); !errors.Is(err, ErrTampered) {
		t.Fatalf("rewrap with the wrong aad: %v, want ErrTampered", err)
	}
}

func TestWrongKEKFailsCleanly(t *testing.T) {
	// Same id, different bytes: what a Secret replaced in place looks like.
	right, _ := testKEK(t, "kek-1")
	wrong, _ := testKEK(t, "kek-1")
	r1, _ := NewKeyRing(right)
	r2, _ := NewKeyRing(wrong)
	dek := make([]byte, dekSize)
	rand.Read(dek)
	wrapped, _ := r1.Wrap(t.Context(), dek, []byte("aad"))
	got, err := r2.Unwrap(t.Context(), wrapped, []byte("aad"))
	if !errors.Is(err, ErrTampered) || got != nil {
		t.Fatalf("unwrap with the wrong key bytes = %x, %v; want nil and ErrTampered", got, err)
	}
}

func TestNewKeyRingValidates(t *testing.T) {
	a, _ := testKEK(t, "kek-a")
	a2, _ := testKEK(t, "kek-a")
	if _, err := NewKeyRing(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil current: %v", err)
	}
	if _, err := NewKeyRing(a, a2); !errors.Is(err, ErrInvalid) {
		t.Errorf("duplicate id: %v", err)
	}
	if _, err := NewKeyRing(a, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil previous: %v", err)
	}
}

func TestParseWrappedRejectsMalformedHeaders(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":          nil,
		"one byte":       {wrappedFormatV1},
		"version 2":      {0x02, 1, 'k', 0},
		"id overruns":    {wrappedFormatV1, 9, 'k'},
		"empty id":       {wrappedFormatV1, 0, 1, 2, 3},
		"id with spaces": append([]byte{wrappedFormatV1, 3}, "a b"...),
	} {
		if _, err := WrappedKEKID(b); !errors.Is(err, ErrTampered) {
			t.Errorf("%s: %v, want ErrTampered", name, err)
		}
	}
}

package keys

import (
	"bytes"
	"context"
	"testing"
)

// FuzzOpen: arbitrary sealed blobs never panic and never open, except the
// one genuine blob; the format is canonical, so no other encoding of it
// exists.
func FuzzOpen(f *testing.F) {
	m, _ := testManager(f, Options{})
	ref := testRef("01JFUZZ")
	sealed, err := m.Seal(context.Background(), ref, []byte("genuine record"))
	if err != nil {
		f.Fatal(err)
	}
	genuine, _ := sealed.MarshalBinary()
	f.Add(genuine)
	f.Add(genuine[:len(genuine)-1])
	f.Add(append(bytes.Clone(genuine), 0))
	f.Add([]byte{sealedFormatV1, 4, 'd', 'e', 'k', '-'})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, blob []byte) {
		s, err := ParseSealed(blob)
		if err != nil {
			return
		}
		got, err := m.Open(context.Background(), ref, s)
		if err == nil && !bytes.Equal(blob, genuine) {
			t.Fatalf("a forged blob opened to %q", got)
		}
	})
}

// FuzzUnwrap: arbitrary wrapped DEKs never panic and never unwrap, except
// the genuine one.
func FuzzUnwrap(f *testing.F) {
	kek, _ := testKEK(f, "kek-1")
	ring, _ := NewKeyRing(kek)
	aad := dekAAD("dek-X", testScope())
	genuine, err := ring.Wrap(context.Background(), make([]byte, dekSize), aad)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(genuine)
	f.Add(genuine[:10])
	f.Add([]byte{wrappedFormatV1, 5, 'k', 'e', 'k', '-', '1'})
	f.Add([]byte{wrappedFormatV1, 255})
	f.Fuzz(func(t *testing.T, wrapped []byte) {
		got, err := ring.Unwrap(context.Background(), wrapped, aad)
		if err == nil && !bytes.Equal(wrapped, genuine) {
			t.Fatalf("a forged wrapped key unwrapped to %d bytes", len(got))
		}
		if _, _, err := ring.Rewrap(context.Background(), wrapped, aad); err == nil && !bytes.Equal(wrapped, genuine) {
			// Rewrap passes current-KEK blobs through untouched without
			// authenticating them; it must not turn a forgery into a
			// valid wrapping under the current KEK.
			if _, err := ring.Unwrap(context.Background(), wrapped, aad); err == nil {
				t.Fatal("a forged wrapped key survived Rewrap and unwraps")
			}
		}
	})
}

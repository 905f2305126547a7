package keys

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealedFormat(t *testing.T) {
	s := Sealed{KeyID: "dek-ABC", Nonce: bytes.Repeat([]byte{7}, nonceSize), Ciphertext: bytes.Repeat([]byte{9}, tagSize+3)}
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := append(append(append([]byte{sealedFormatV1, 7}, "dek-ABC"...), s.Nonce...), s.Ciphertext...)
	if !bytes.Equal(b, want) {
		t.Fatalf("MarshalBinary = %x, want %x", b, want)
	}
	back, err := ParseSealed(b)
	if err != nil || back.KeyID != s.KeyID || !bytes.Equal(back.Nonce, s.Nonce) || !bytes.Equal(back.Ciphertext, s.Ciphertext) {
		t.Fatalf("ParseSealed = %+v, %v", back, err)
	}
	for name, bad := range map[string][]byte{
		"empty":        nil,
		"version 2":    append([]byte{2}, b[1:]...),
		"no key id":    append([]byte{sealedFormatV1, 0}, b[9:]...),
		"no tag":       b[:2+7+nonceSize+tagSize-1],
		"id overflows": {sealedFormatV1, 200, 'd'},
	} {
		if _, err := ParseSealed(bad); !errors.Is(err, ErrTampered) {
			t.Errorf("%s: %v, want ErrTampered", name, err)
		}
	}
	for name, bad := range map[string]Sealed{
		"no key id":   {Nonce: s.Nonce, Ciphertext: s.Ciphertext},
		"short nonce": {KeyID: "k", Nonce: s.Nonce[:8], Ciphertext: s.Ciphertext},
		"no tag":      {KeyID: "k", Nonce: s.Nonce, Ciphertext: s.Ciphertext[:tagSize-1]},
	} {
		if _, err := bad.MarshalBinary(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

func TestRecordAADIsUnambiguous(t *testing.T) {
	// Shifting a byte between adjacent fields must change the data.
	a := recordAAD(RecordRef{ID: "ab", Tenant: "c", Account: "d", Schema: "e"}, "k")
	b := recordAAD(RecordRef{ID: "a", Tenant: "bc", Account: "d", Schema: "e"}, "k")
	if bytes.Equal(a, b) {
		t.Fatal("field boundaries are not encoded")
	}
	if bytes.Equal(dekAAD("dek-1", Scope{Tenant: "ab", Account: "c", Bucket: BucketOf(testExpiry)}),
		dekAAD("dek-1", Scope{Tenant: "a", Account: "bc", Bucket: BucketOf(testExpiry)})) {
		t.Fatal("DEK field boundaries are not encoded")
	}
}

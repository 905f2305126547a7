package keys

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseLocalKEKEncodings(t *testing.T) {
	secret := make([]byte, kekSize)
	rand.Read(secret)
	b64 := base64.StdEncoding.EncodeToString(secret)
	for name, content := range map[string][]byte{
		"raw":                     secret,
		"base64":                  []byte(b64),
		"base64 with newline":     []byte(b64 + "\n"),
		"base64 with CRLF spaces": []byte("  " + b64 + "\r\n"),
	} {
		t.Run(name, func(t *testing.T) {
			k, err := ParseLocalKEK("kek-1", content)
			if err != nil {
				t.Fatal(err)
			}
			// Same key whatever the encoding: a raw-key KEK unwraps it.
			ref, _ := ParseLocalKEK("kek-1", secret)
			wrapped, _ := k.Wrap(t.Context(), []byte("0123456789abcdef0123456789abcdef"), []byte("aad"))
			if _, err := ref.Unwrap(t.Context(), wrapped, []byte("aad")); err != nil {
				t.Fatalf("%s decoded to a different key: %v", name, err)
			}
		})
	}
}

func TestParseLocalKEKRefusesWeakKeys(t *testing.T) {
	random := make([]byte, kekSize)
	rand.Read(random)
	cases := map[string][]byte{
		"empty":             nil,
		"short":             random[:16],
		"33 bytes":          append(bytes.Clone(random), '\n'),
		"hex":               []byte(hex.EncodeToString(random)),
		"base64 of 24":      []byte(base64.StdEncoding.EncodeToString(random[:24]) + "AAAAAAAAAAAA"),
		"44 non-base64":     []byte(strings.Repeat("!", 44)),
		"zeros":             make([]byte, kekSize),
		"repeated pattern":  bytes.Repeat([]byte{0x01, 0x02, 0x83, 0xf4}, 8),
		"passphrase":        []byte("correct horse battery staple 123"),
		"base64 of zeros":   []byte(base64.StdEncoding.EncodeToString(make([]byte, kekSize))),
		"base64 passphrase": []byte(base64.StdEncoding.EncodeToString([]byte("correct horse battery staple 123"))),
	}
	for name, secret := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseLocalKEK("kek-1", secret)
			if !errors.Is(err, ErrWeakKEK) {
				t.Fatalf("err = %v, want ErrWeakKEK", err)
			}
			assertNoSecretIn(t, err.Error(), secret)
			if !strings.Contains(err.Error(), `"kek-1"`) {
				t.Errorf("error %q does not name the KEK", err)
			}
		})
	}
	if _, err := ParseLocalKEK("bad id", random); !errors.Is(err, ErrInvalid) {
		t.Fatalf("invalid id: %v", err)
	}
}

func TestLoadLocalKEK(t *testing.T) {
	dir := t.TempDir()
	secret := make([]byte, kekSize)
	rand.Read(secret)
	path := filepath.Join(dir, "kek")
	if err := os.WriteFile(path, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := LoadLocalKEK("kek-1", path)
	if err != nil || k.ID() != "kek-1" {
		t.Fatalf("LoadLocalKEK = %v, %v", k, err)
	}
	if _, err := LoadLocalKEK("kek-1", filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, bytes.Repeat(secret, 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadLocalKEK("kek-1", big); !errors.Is(err, ErrWeakKEK) {
		t.Fatalf("oversized file: %v", err)
	}
}

func TestLocalKEKWrap(t *testing.T) {
	k, _ := testKEK(t, "kek-1")
	other, _ := testKEK(t, "kek-1")
	dek := make([]byte, dekSize)
	rand.Read(dek)
	wrapped, err := k.Wrap(t.Context(), dek, []byte("scope A"))
	if err != nil {
		t.Fatal(err)
	}
	if len(wrapped) != nonceSize+dekSize+tagSize {
		t.Fatalf("wrapped DEK is %d bytes, want %d", len(wrapped), nonceSize+dekSize+tagSize)
	}
	if bytes.Contains(wrapped, dek) {
		t.Fatal("the DEK appears in clear in its wrapping")
	}
	got, err := k.Unwrap(t.Context(), wrapped, []byte("scope A"))
	if err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("Unwrap = %v", err)
	}
	again, _ := k.Wrap(t.Context(), dek, []byte("scope A"))
	if bytes.Equal(again, wrapped) {
		t.Fatal("two wraps of one DEK are identical: the nonce is not random")
	}
	for name, try := range map[string]func() ([]byte, error){
		"other aad":       func() ([]byte, error) { return k.Unwrap(t.Context(), wrapped, []byte("scope B")) },
		"other key bytes": func() ([]byte, error) { return other.Unwrap(t.Context(), wrapped, []byte("scope A")) },
		"truncated":       func() ([]byte, error) { return k.Unwrap(t.Context(), wrapped[:20], []byte("scope A")) },
		"empty":           func() ([]byte, error) { return k.Unwrap(t.Context(), nil, []byte("scope A")) },
		"last bit flipped": func() ([]byte, error) {
			return k.Unwrap(t.Context(), flipBit(wrapped, len(wrapped)*8-1), []byte("scope A"))
		},
	} {
		if _, err := try(); !errors.Is(err, ErrTampered) {
			t.Errorf("%s: err = %v, want ErrTampered", name, err)
		}
	}
}

func flipBit(b []byte, bit int) []byte {
	out := bytes.Clone(b)
	out[bit/8] ^= 1 << (bit % 8)
	return out
}

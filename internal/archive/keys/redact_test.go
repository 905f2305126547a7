package keys

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// assertNoSecretIn fails if s holds secret in any encoding a log line or a
// formatted struct could carry it in.
func assertNoSecretIn(t *testing.T, s string, secret []byte) {
	t.Helper()
	if len(secret) < 8 {
		return // too short to search for without false hits
	}
	forms := map[string]string{
		"raw":        string(secret),
		"hex":        hex.EncodeToString(secret),
		"HEX":        strings.ToUpper(hex.EncodeToString(secret)),
		"base64":     base64.StdEncoding.EncodeToString(secret[:6]),
		"base64url":  base64.URLEncoding.EncodeToString(secret[:6]),
		"byte list":  strings.Trim(fmt.Sprint(secret[:8]), "[]"),
		"hex prefix": hex.EncodeToString(secret[:8]),
	}
	for form, needle := range forms {
		if strings.Contains(s, needle) {
			t.Fatalf("key material (%s) found in %q", form, s)
		}
	}
}

var formatVerbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"}

func TestNoKeyMaterialInFormattedTypes(t *testing.T) {
	kek, kekBytes := testKEK(t, "kek-1")
	ring, err := NewKeyRing(kek)
	if err != nil {
		t.Fatal(err)
	}
	store := NewMemoryStore()
	m, err := NewManager(ring, store, Options{})
	if err != nil {
		t.Fatal(err)
	}
	k, err := m.DEKFor(t.Context(), testScope())
	if err != nil {
		t.Fatal(err)
	}
	dekBytes := bytes.Clone(k.raw)
	if len(dekBytes) != dekSize {
		t.Fatalf("cached DEK holds %d bytes; the search below would prove nothing", len(dekBytes))
	}
	sealed, err := m.Seal(t.Context(), testRef("r1"), []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := store.Lookup(t.Context(), testScope())
	// Destroy another scope: destroying this one would zero the key bytes
	// the test looks for.
	other := testScope()
	other.Bucket = other.Bucket.Next()
	if _, err := m.DEKFor(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	destroyed, err := m.Destroy(t.Context(), other)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]any{
		"LocalKEK":    kek,
		"KeyRing":     ring,
		"Manager":     m,
		"DataKey":     k,
		"WrappedDEK":  stored,
		"Sealed":      sealed,
		"Destruction": destroyed,
		"struct holding all": struct {
			K *DataKey
			L *LocalKEK
			R *KeyRing
			M *Manager
		}{k, kek, ring, m},
	}
	for name, v := range values {
		for _, verb := range formatVerbs {
			out := fmt.Sprintf(verb, v)
			assertNoSecretIn(t, out, kekBytes)
			assertNoSecretIn(t, out, dekBytes)
			if name != "Sealed" && name != "Destruction" {
				// Wrapped keys are ciphertext, but they stay out of logs too.
				assertNoSecretIn(t, out, stored.Wrapped)
			}
		}
	}
}

func TestNoKeyMaterialInErrors(t *testing.T) {
	kek, kekBytes := testKEK(t, "kek-1")
	other, otherBytes := testKEK(t, "kek-1")
	r1, _ := NewKeyRing(kek)
	r2, _ := NewKeyRing(other)
	store := NewMemoryStore()
	m1, _ := NewManager(r1, store, Options{})
	m2, _ := NewManager(r2, store, Options{})
	k, err := m1.DEKFor(t.Context(), testScope())
	if err != nil {
		t.Fatal(err)
	}
	dekBytes := bytes.Clone(k.raw)
	sealed, _ := m1.Seal(t.Context(), testRef("r1"), []byte("hello"))
	stored, _ := store.Lookup(t.Context(), testScope())

	var errs []error
	_, err = m2.Open(t.Context(), testRef("r1"), sealed) // wrong KEK
	errs = append(errs, err)
	_, err = m1.Open(t.Context(), testRef("r2"), sealed) // moved
	errs = append(errs, err)
	_, err = r1.Unwrap(t.Context(), stored.Wrapped, []byte("x"))
	errs = append(errs, err)
	if _, err := m1.Destroy(t.Context(), testScope()); err != nil {
		t.Fatal(err)
	}
	_, err = m1.Open(t.Context(), testRef("r1"), sealed) // shredded
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil {
			t.Fatalf("case %d did not fail", i)
		}
		for _, secret := range [][]byte{kekBytes, otherBytes, dekBytes, stored.Wrapped} {
			assertNoSecretIn(t, err.Error(), secret)
			assertNoSecretIn(t, fmt.Sprintf("%+v", err), secret)
		}
	}
	if !errors.Is(errs[0], ErrTampered) || !errors.Is(errs[1], ErrTampered) || !errors.Is(errs[3], ErrShredded) {
		t.Fatalf("unexpected error kinds: %v", errs)
	}
}

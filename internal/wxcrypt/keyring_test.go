package wxcrypt

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"
)

var (
	testKeysOnce sync.Once
	testKeys     [2]*rsa.PrivateKey
)

// archiveTestKeys generates two 2048-bit keys once per test binary.
func archiveTestKeys(t testing.TB) [2]*rsa.PrivateKey {
	testKeysOnce.Do(func() {
		for i := range testKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				t.Fatal(err)
			}
			testKeys[i] = k
		}
	})
	return testKeys
}

func TestKeyRingUnwrapsByVersion(t *testing.T) {
	keys := archiveTestKeys(t)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(keys[1])
	if err != nil {
		t.Fatal(err)
	}
	bundle := string(EncodeKey(2, keys[0])) +
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: map[string]string{HeaderKeyVersion: "3"}, Bytes: pkcs8}))
	ring, err := ParseKeyRing([]byte(bundle))
	if err != nil {
		t.Fatal(err)
	}
	if got := ring.Versions(); len(got) != 2 || got[0] != 2 || got[1] != 3 {
		t.Fatalf("versions = %v", got)
	}
	wrap := func(k *rsa.PrivateKey, secret string) string {
		ct, err := rsa.EncryptPKCS1v15(rand.Reader, &k.PublicKey, []byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(ct)
	}
	got, err := ring.UnwrapRandomKey(3, wrap(keys[1], "k3-secret"))
	if err != nil || string(got) != "k3-secret" {
		t.Fatalf("unwrap v3 = %q, %v", got, err)
	}
	if _, err := ring.UnwrapRandomKey(2, wrap(keys[1], "k3-secret")); err == nil {
		t.Fatal("a key wrapped for v3 must not open with v2's key")
	}
	if _, err := ring.UnwrapRandomKey(7, wrap(keys[0], "x")); !errors.Is(err, ErrNoKeyForVersion) {
		t.Fatalf("missing version: %v", err)
	}
	if _, err := ring.UnwrapRandomKey(2, "%%"); err == nil {
		t.Fatal("non-base64 accepted")
	}
}

func TestKeyRingRefusals(t *testing.T) {
	keys := archiveTestKeys(t)
	good := string(EncodeKey(1, keys[0]))
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	for name, bundle := range map[string]string{
		"no version":    strings.Replace(good, HeaderKeyVersion+": 1\n", "", 1),
		"bad version":   strings.Replace(good, HeaderKeyVersion+": 1", HeaderKeyVersion+": x", 1),
		"duplicate":     good + good,
		"not a key":     string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Headers: map[string]string{HeaderKeyVersion: "1"}, Bytes: []byte{1}})),
		"too small":     string(EncodeKey(1, small)),
		"garbage":       "not pem at all",
		"corrupt bytes": string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{HeaderKeyVersion: "1"}, Bytes: []byte("xx")})),
	} {
		if _, err := ParseKeyRing([]byte(bundle)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "MII") {
			t.Errorf("%s: error quotes key material: %v", name, err)
		}
	}
}

package wxcrypt

import (
	"bytes"
	"testing"
)

// FuzzDecrypt feeds arbitrary ciphertexts: Decrypt must refuse or succeed,
// never panic; and whatever it is given to encrypt must come back intact.
func FuzzDecrypt(f *testing.F) {
	envA, _ := ParseEnvelope([]byte(vecABody))
	f.Add(envA.Encrypt, []byte("hello"))
	f.Add("", []byte{})
	f.Add("AAAA", []byte("你好"))
	c := mustNew(f, setAToken, setAKey, setAReceiv)
	f.Fuzz(func(t *testing.T, encrypted string, msg []byte) {
		_, _, _ = c.Decrypt(encrypted)
		sealed, err := c.Encrypt(msg)
		if err != nil {
			t.Fatal(err)
		}
		back, rid, err := c.Decrypt(sealed)
		if err != nil || !bytes.Equal(back, msg) || rid != setAReceiv {
			t.Fatalf("round trip lost the message: %q %q %v", back, rid, err)
		}
	})
}

// FuzzParseEnvelope checks the unauthenticated envelope parser never panics
// and never returns an envelope without ciphertext.
func FuzzParseEnvelope(f *testing.F) {
	f.Add([]byte(vecABody))
	f.Add([]byte(vecBJSONBody))
	f.Add([]byte(`{"Encrypt":"x","agentid":"7"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := ParseEnvelope(body)
		if err == nil && env.Encrypt == "" {
			t.Fatal("envelope without Encrypt accepted")
		}
	})
}

package fakesdk

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"

	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

// GenerateKeys makes a 2048-bit archive key per version and returns them
// with the PEM bundle (Publickey-Ver headers) the channel's privateKeys
// credential takes.
func GenerateKeys(versions ...int) (map[int]*rsa.PrivateKey, []byte, error) {
	keys := map[int]*rsa.PrivateKey{}
	var bundle []byte
	for _, v := range versions {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, nil, fmt.Errorf("fakesdk: generate key %d: %w", v, err)
		}
		keys[v] = k
		bundle = append(bundle, wxcrypt.EncodeKey(v, k)...)
	}
	return keys, bundle, nil
}

// PublicKeys returns the public halves, by version.
func PublicKeys(keys map[int]*rsa.PrivateKey) map[int]*rsa.PublicKey {
	out := make(map[int]*rsa.PublicKey, len(keys))
	for v, k := range keys {
		out[v] = &k.PublicKey
	}
	return out
}

// NewWithGeneratedKeys returns an empty fake with fresh keys for the given
// versions, and the privateKeys PEM bundle to give the channel.
func NewWithGeneratedKeys(versions ...int) (*SDK, []byte, error) {
	keys, bundle, err := GenerateKeys(versions...)
	if err != nil {
		return nil, nil, err
	}
	s, err := New(PublicKeys(keys))
	if err != nil {
		return nil, nil, err
	}
	return s, bundle, nil
}

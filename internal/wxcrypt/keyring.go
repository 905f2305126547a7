package wxcrypt

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// HeaderKeyVersion is the PEM header that says which publickey_ver a private
// key belongs to: WeCom bumps the version each time the enterprise uploads a
// new archive public key, and messages name the version they were wrapped for.
const HeaderKeyVersion = "Publickey-Ver"

// minRSABits is the smallest archive key accepted; WeCom asks for 2048.
const minRSABits = 2048

// ErrNoKeyForVersion means a message was wrapped for a key the ring lacks
// (the Finance SDK's error 10007).
var ErrNoKeyForVersion = errors.New("no private key for this publickey_ver")

// KeyRing holds every archive private key the enterprise has used, by
// publickey_ver. Old keys must stay: messages keep the version they were
// encrypted for.
type KeyRing struct {
	keys map[int]*rsa.PrivateKey
}

// ParseKeyRing reads a PEM bundle of RSA private keys (PKCS#1 "RSA PRIVATE
// KEY" or PKCS#8 "PRIVATE KEY"), each with a Publickey-Ver header. Errors
// name the block, never key material.
func ParseKeyRing(bundle []byte) (*KeyRing, error) {
	ring := &KeyRing{keys: map[int]*rsa.PrivateKey{}}
	rest := bundle
	for i := 1; ; i++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		verText, ok := block.Headers[HeaderKeyVersion]
		if !ok {
			return nil, fmt.Errorf("PEM block %d has no %s header", i, HeaderKeyVersion)
		}
		ver, err := strconv.Atoi(strings.TrimSpace(verText))
		if err != nil || ver < 0 {
			return nil, fmt.Errorf("PEM block %d: %s must be a non-negative integer", i, HeaderKeyVersion)
		}
		if _, dup := ring.keys[ver]; dup {
			return nil, fmt.Errorf("PEM block %d: %s %d appears twice", i, HeaderKeyVersion, ver)
		}
		key, err := parseRSAPrivateKey(block)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d (%s %d): %w", i, HeaderKeyVersion, ver, err)
		}
		ring.keys[ver] = key
	}
	if len(strings.TrimSpace(string(rest))) > 0 && len(ring.keys) == 0 {
		return nil, errors.New("no PEM block found")
	}
	return ring, nil
}

func parseRSAPrivateKey(block *pem.Block) (*rsa.PrivateKey, error) {
	var key *rsa.PrivateKey
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("is not a PKCS#1 RSA private key")
		}
		key = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("is not a PKCS#8 private key")
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("is not an RSA key")
		}
		key = rk
	default:
		return nil, fmt.Errorf("has type %q; want RSA PRIVATE KEY or PRIVATE KEY", block.Type)
	}
	if key.N.BitLen() < minRSABits {
		return nil, fmt.Errorf("is %d bits; WeCom archive keys are at least %d", key.N.BitLen(), minRSABits)
	}
	return key, nil
}

// Len is the number of keys.
func (r *KeyRing) Len() int { return len(r.keys) }

// Versions lists the key versions held, ascending.
func (r *KeyRing) Versions() []int {
	v := make([]int, 0, len(r.keys))
	for k := range r.keys {
		v = append(v, k)
	}
	sort.Ints(v)
	return v
}

// Add puts a key in the ring (tests and tools build rings in memory).
func (r *KeyRing) Add(version int, key *rsa.PrivateKey) {
	if r.keys == nil {
		r.keys = map[int]*rsa.PrivateKey{}
	}
	r.keys[version] = key
}

// UnwrapRandomKey turns a chatdata element's encrypt_random_key (base64 of
// RSA PKCS#1 v1.5) into the encrypt_key the SDK's DecryptData takes.
func (r *KeyRing) UnwrapRandomKey(version int, encryptRandomKey string) ([]byte, error) {
	key, ok := r.keys[version]
	if !ok {
		return nil, fmt.Errorf("%w (%d)", ErrNoKeyForVersion, version)
	}
	ct, err := base64.StdEncoding.DecodeString(encryptRandomKey)
	if err != nil {
		return nil, errors.New("encrypt_random_key is not base64")
	}
	pt, err := rsa.DecryptPKCS1v15(nil, key, ct)
	if err != nil {
		return nil, errors.New("encrypt_random_key does not decrypt with the key for its publickey_ver")
	}
	return pt, nil
}

// EncodeKey writes a private key as a PKCS#1 PEM block with its version
// header, the format ParseKeyRing reads (for tools and tests).
func EncodeKey(version int, key *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{
		Type:    "RSA PRIVATE KEY",
		Headers: map[string]string{HeaderKeyVersion: strconv.Itoa(version)},
		Bytes:   x509.MarshalPKCS1PrivateKey(key),
	})
}

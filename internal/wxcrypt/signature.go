package wxcrypt

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"sort"
	"strings"
)

// Signature is hex(SHA1(concat(sort(parts)))), lowercase. With three parts
// (token, timestamp, nonce) it is an Official Account's plain `signature`;
// with the ciphertext as a fourth it is `msg_signature`.
func Signature(parts ...string) string {
	sorted := append([]string(nil), parts...)
	sort.Strings(sorted)
	sum := sha1.Sum([]byte(strings.Join(sorted, "")))
	return hex.EncodeToString(sum[:])
}

// VerifySignature compares a received signature with the one computed from
// parts, in constant time and ignoring hex case.
func VerifySignature(got string, parts ...string) error {
	want := Signature(parts...)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(want)) != 1 {
		return ErrValidateSignature
	}
	return nil
}

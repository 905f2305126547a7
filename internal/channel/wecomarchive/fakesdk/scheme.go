package fakesdk

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
)

// The vendor's DecryptData algorithm is not public (it lives inside
// libWeWorkFinanceSdk_C.so), so the fake uses its own scheme, which is NOT
// the vendor's:
//
//	key              = SHA-256(encrypt_key)
//	encrypt_chat_msg = base64(nonce[12] ‖ AES-256-GCM(key, nonce, plaintext))
//
// Only the RSA step in front of it (encrypt_random_key = RSA PKCS#1 v1.5 of
// encrypt_key under the public key of publickey_ver) is the vendor's.

var errOpen = errors.New("fake scheme: ciphertext does not open")

func sealMessage(rnd io.Reader, encryptKey, plain []byte) (string, error) {
	aead, err := newAEAD(encryptKey)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := io.ReadFull(rnd, nonce); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, nil)), nil
}

func openMessage(encryptKey []byte, msg string) ([]byte, error) {
	ct, err := base64.StdEncoding.DecodeString(msg)
	if err != nil {
		return nil, errOpen
	}
	aead, err := newAEAD(encryptKey)
	if err != nil {
		return nil, err
	}
	if len(ct) < aead.NonceSize()+aead.Overhead() {
		return nil, errOpen
	}
	pt, err := aead.Open(nil, ct[:aead.NonceSize()], ct[aead.NonceSize():], nil)
	if err != nil {
		return nil, errOpen
	}
	return pt, nil
}

func newAEAD(encryptKey []byte) (cipher.AEAD, error) {
	k := sha256.Sum256(encryptKey)
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

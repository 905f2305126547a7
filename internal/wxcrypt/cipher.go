package wxcrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"io"
)

const (
	// KeyLength is the length of an EncodingAESKey.
	KeyLength = 43
	// padBlock is the PKCS#7 block the vendor pads to: 32, not AES's 16.
	padBlock = 32
	// randomLen and lenLen are the plaintext's random prefix and length field.
	randomLen = 16
	lenLen    = 4
	// MaxMessageBytes bounds a decrypted message; callers also bound the
	// request body, this guards direct users of Decrypt.
	MaxMessageBytes = 16 << 20
)

// Crypter encrypts and decrypts for one account: its token, AES key and
// receive id (corp id, suite id or app id; empty to skip the check, as for
// WeCom smart-robot callbacks).
type Crypter struct {
	token     string
	key       []byte
	block     cipher.Block
	receiveID string
	// Rand supplies the 16-byte random prefix of encrypted messages;
	// crypto/rand unless a test injects a fixed source to reproduce vectors.
	Rand io.Reader
}

// DecodeKey turns an EncodingAESKey into the 32-byte AES key.
func DecodeKey(encodingAESKey string) ([]byte, error) {
	if len(encodingAESKey) != KeyLength {
		return nil, ErrIllegalAESKey
	}
	for i := 0; i < len(encodingAESKey); i++ {
		c := encodingAESKey[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return nil, ErrIllegalAESKey
		}
	}
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, ErrIllegalAESKey
	}
	return key, nil
}

// New builds a Crypter. The token may be empty only for callers that never
// sign or verify.
func New(token, encodingAESKey, receiveID string) (*Crypter, error) {
	key, err := DecodeKey(encodingAESKey)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, ErrIllegalAESKey
	}
	return &Crypter{token: token, key: key, block: block, receiveID: receiveID, Rand: rand.Reader}, nil
}

// ReceiveID is the id messages must be addressed to ("" means unchecked).
func (c *Crypter) ReceiveID() string { return c.receiveID }

// Decrypt opens a base64 ciphertext. It checks length, padding, the length
// field and, when the Crypter has one, the receive id; it returns the message
// and the receive id found in it.
func (c *Crypter) Decrypt(encrypted string) (msg []byte, receiveID string, err error) {
	if len(encrypted) > base64.StdEncoding.EncodedLen(MaxMessageBytes+randomLen+lenLen+1024) {
		return nil, "", detail(ErrIllegalBuffer, "ciphertext is too large")
	}
	ct, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil {
		return nil, "", ErrDecodeBase64
	}
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, "", detail(ErrDecryptAES, "ciphertext is %d bytes, not a non-zero multiple of %d", len(ct), aes.BlockSize)
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(c.block, c.key[:aes.BlockSize]).CryptBlocks(pt, ct)
	pt, err = unpad(pt)
	if err != nil {
		return nil, "", err
	}
	if len(pt) < randomLen+lenLen {
		return nil, "", detail(ErrIllegalBuffer, "plaintext is shorter than its header")
	}
	n := binary.BigEndian.Uint32(pt[randomLen : randomLen+lenLen])
	body := pt[randomLen+lenLen:]
	if uint64(n) > uint64(len(body)) {
		return nil, "", detail(ErrIllegalBuffer, "length field %d exceeds the %d bytes present", n, len(body))
	}
	msg, rid := body[:n], string(body[n:])
	if c.receiveID != "" && subtle.ConstantTimeCompare([]byte(rid), []byte(c.receiveID)) != 1 {
		return nil, rid, ErrValidateReceiver
	}
	return msg, rid, nil
}

// unpad removes PKCS#7 padding to 32-byte blocks, refusing anything that is
// not exactly that (a wrong key shows up here).
func unpad(pt []byte) ([]byte, error) {
	n := int(pt[len(pt)-1])
	if n < 1 || n > padBlock || n > len(pt) {
		return nil, detail(ErrDecryptAES, "bad padding")
	}
	var bad byte
	for _, b := range pt[len(pt)-n:] {
		bad |= b ^ byte(n)
	}
	if bad != 0 {
		return nil, detail(ErrDecryptAES, "bad padding")
	}
	return pt[:len(pt)-n], nil
}

// Encrypt seals msg for the Crypter's receive id with a fresh random prefix.
func (c *Crypter) Encrypt(msg []byte) (string, error) {
	if len(msg) > MaxMessageBytes {
		return "", detail(ErrEncryptAES, "message is over %d bytes", MaxMessageBytes)
	}
	plainLen := randomLen + lenLen + len(msg) + len(c.receiveID)
	pad := padBlock - plainLen%padBlock
	pt := make([]byte, plainLen+pad)
	r := c.Rand
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, pt[:randomLen]); err != nil {
		return "", detail(ErrEncryptAES, "reading random prefix: %v", err)
	}
	binary.BigEndian.PutUint32(pt[randomLen:], uint32(len(msg)))
	copy(pt[randomLen+lenLen:], msg)
	copy(pt[randomLen+lenLen+len(msg):], c.receiveID)
	for i := plainLen; i < len(pt); i++ {
		pt[i] = byte(pad)
	}
	cbcEncrypt(c, pt, pt)
	return base64.StdEncoding.EncodeToString(pt), nil
}

// cbcEncrypt encrypts whole blocks with the Crypter's key and IV.
func cbcEncrypt(c *Crypter, dst, src []byte) {
	cipher.NewCBCEncrypter(c.block, c.key[:aes.BlockSize]).CryptBlocks(dst, src)
}

package inbound

import (
	"crypto/hmac"
	"crypto/sha256"
)

// MAC is HMAC-SHA256 under secret over the concatenation of parts: the
// scheme behind the WhatsApp, Slack, LINE and Vigil webhook signatures,
// which differ only in what they sign and how they encode the result.
func MAC(secret []byte, parts ...[]byte) [sha256.Size]byte {
	m := hmac.New(sha256.New, secret)
	for _, p := range parts {
		m.Write(p)
	}
	var out [sha256.Size]byte
	m.Sum(out[:0])
	return out
}

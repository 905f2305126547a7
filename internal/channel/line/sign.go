// Package line receives LINE Messaging API webhooks for one official account
// and captures its messages, unsends and membership events.
// docs/channels/line.md documents the setup and mapping.
package line

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"

	"github.com/vigil-operator/vigil/internal/channel/inbound"
)

// Header name and the signature scheme.
const (
	// HeaderSignature carries base64(HMAC-SHA256(channel secret, body)).
	HeaderSignature = "X-Line-Signature"
	// SigScheme is recorded in every record's provenance.sigScheme.
	SigScheme = "line-signature"
)

var (
	errMissingSignature = errors.New("missing " + HeaderSignature + " header")
	errBadSignature     = errors.New("signature does not verify")
)

// Sign returns the X-Line-Signature value LINE sends with body.
func Sign(channelSecret, body []byte) string {
	mac := inbound.MAC(channelSecret, body)
	return base64.StdEncoding.EncodeToString(mac[:])
}

// SignedRequest builds a POST of body to url signed as LINE signs it, for
// end-to-end tests and local tools.
func SignedRequest(url string, channelSecret, body []byte) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("while building the LINE request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderSignature, Sign(channelSecret, body))
	return req, nil
}

// verifySignature checks the header against the raw body in constant time.
func verifySignature(secret []byte, header string, body []byte) error {
	if header == "" {
		return errMissingSignature
	}
	got, err := base64.StdEncoding.Strict().DecodeString(header)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: the signature must be %d bytes in standard base64", errBadSignature, sha256.Size)
	}
	want := inbound.MAC(secret, body)
	if !hmac.Equal(got, want[:]) {
		return errBadSignature
	}
	return nil
}

// Package whatsapp receives WhatsApp Business Platform (Cloud API) webhooks
// for one business phone number and captures its messages, statuses and
// message echoes. docs/channels/whatsapp.md documents the setup and mapping.
package whatsapp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/vigil-operator/vigil/internal/channel/inbound"
)

// Header names and the signature scheme.
const (
	// HeaderSignature carries "sha256=" + hex(HMAC-SHA256(app secret, body)).
	HeaderSignature = "X-Hub-Signature-256"
	// SigScheme is recorded in every record's provenance.sigScheme.
	SigScheme       = "meta-x-hub-signature-256"
	signaturePrefix = "sha256="
)

var (
	errMissingSignature = errors.New("missing " + HeaderSignature + " header")
	errBadSignature     = errors.New("signature does not verify")
)

// Sign returns the X-Hub-Signature-256 value Meta sends with body: "sha256="
// and the lowercase hex HMAC-SHA256 of the raw body keyed with the app secret.
func Sign(appSecret, body []byte) string {
	mac := inbound.MAC(appSecret, body)
	return signaturePrefix + hex.EncodeToString(mac[:])
}

// SignedRequest builds a POST of body to url signed as Meta signs it, for
// end-to-end tests and local tools.
func SignedRequest(url string, appSecret, body []byte) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("while building the WhatsApp request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderSignature, Sign(appSecret, body))
	return req, nil
}

// verifySignature checks the header against the raw body in constant time.
func verifySignature(secret []byte, header string, body []byte) error {
	if header == "" {
		return errMissingSignature
	}
	hexPart, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok || len(hexPart) != 2*sha256.Size {
		return fmt.Errorf("%w: the header must be %q and %d hex digits", errBadSignature, signaturePrefix, 2*sha256.Size)
	}
	var got [sha256.Size]byte
	if _, err := hex.Decode(got[:], []byte(hexPart)); err != nil {
		return fmt.Errorf("%w: the signature is not hex", errBadSignature)
	}
	want := inbound.MAC(secret, body)
	if !hmac.Equal(got[:], want[:]) {
		return errBadSignature
	}
	return nil
}

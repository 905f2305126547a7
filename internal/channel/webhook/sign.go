// Package webhook is the generic JSON webhook channel: any system that can
// sign a POST with a shared secret can feed messages into Vigil. The wire
// format is documented in docs/channels/webhook.md.
package webhook

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-operator/vigil/internal/channel/inbound"
)

// Header names and the signature scheme.
const (
	HeaderTimestamp = "X-Vigil-Timestamp"
	HeaderSignature = "X-Vigil-Signature"
	// SigScheme is recorded in every record's provenance.sigScheme.
	SigScheme       = "hmac-sha256-v1"
	signaturePrefix = "v1="
	// MinSecretBytes is the shortest accepted HMAC secret.
	MinSecretBytes = 32
)

var (
	errMissingSignature = errors.New("missing signature or timestamp header")
	errBadSignature     = errors.New("signature does not verify")
)

// Sign returns the two header values that authenticate body sent at ts:
// X-Vigil-Timestamp is ts in unix seconds and X-Vigil-Signature is
// "v1=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
func Sign(secret []byte, ts time.Time, body []byte) (headerTimestamp, headerSignature string) {
	headerTimestamp = strconv.FormatInt(ts.Unix(), 10)
	mac := computeMAC(secret, headerTimestamp, body)
	return headerTimestamp, signaturePrefix + hex.EncodeToString(mac[:])
}

// parseSignatureHeader decodes "v1=<64 hex digits>".
func parseSignatureHeader(h string) ([sha256.Size]byte, error) {
	var sig [sha256.Size]byte
	if h == "" {
		return sig, errMissingSignature
	}
	hexPart, ok := strings.CutPrefix(h, signaturePrefix)
	if !ok {
		return sig, fmt.Errorf("%w: signature must start with %q", errBadSignature, signaturePrefix)
	}
	if len(hexPart) != 2*sha256.Size {
		return sig, fmt.Errorf("%w: signature must be %d hex digits", errBadSignature, 2*sha256.Size)
	}
	if _, err := hex.Decode(sig[:], []byte(hexPart)); err != nil {
		return sig, fmt.Errorf("%w: signature is not hex", errBadSignature)
	}
	return sig, nil
}

// parseTimestampHeader decodes unix seconds (see inbound.ParseUnixSeconds).
func parseTimestampHeader(h string) (time.Time, error) {
	if h == "" {
		return time.Time{}, errMissingSignature
	}
	ts, err := inbound.ParseUnixSeconds(h)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %v", errBadSignature, err)
	}
	return ts, nil
}

// computeMAC is HMAC-SHA256 over timestamp "." body, binding the timestamp so
// that it cannot be moved to escape the freshness window.
func computeMAC(secret []byte, timestamp string, body []byte) [sha256.Size]byte {
	return inbound.MAC(secret, []byte(timestamp+"."), body)
}

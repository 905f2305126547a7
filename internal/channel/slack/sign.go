// Package slack receives Slack Events API requests for one workspace and
// captures its messages, edits, deletions, reactions and membership changes.
// docs/channels/slack.md documents the setup and mapping.
package slack

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-operator/vigil/internal/channel/inbound"
)

// Header names and the signature scheme.
const (
	HeaderTimestamp = "X-Slack-Request-Timestamp"
	HeaderSignature = "X-Slack-Signature"
	// HeaderRetryNum is set on Slack's retries of an undelivered event.
	HeaderRetryNum = "X-Slack-Retry-Num"
	// SigScheme is recorded in every record's provenance.sigScheme.
	SigScheme       = "slack-v0"
	signaturePrefix = "v0="
	// Window is how far the signed timestamp may be from the connector's
	// clock, as Slack recommends.
	Window = 5 * time.Minute
)

var (
	errMissingSignature = errors.New("missing " + HeaderSignature + " or " + HeaderTimestamp + " header")
	errBadSignature     = errors.New("signature does not verify")
)

// Sign returns the X-Slack-Request-Timestamp and X-Slack-Signature values
// Slack sends with body at ts: "v0=" + hex(HMAC-SHA256(signing secret,
// "v0:" + timestamp + ":" + body)).
func Sign(signingSecret []byte, ts time.Time, body []byte) (headerTimestamp, headerSignature string) {
	headerTimestamp = strconv.FormatInt(ts.Unix(), 10)
	mac := computeMAC(signingSecret, headerTimestamp, body)
	return headerTimestamp, signaturePrefix + hex.EncodeToString(mac[:])
}

// SignedRequest builds a POST of body to url signed as Slack signs it at now,
// for end-to-end tests and local tools.
func SignedRequest(url string, signingSecret, body []byte, now time.Time) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("while building the Slack request: %w", err)
	}
	ts, sig := Sign(signingSecret, now, body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, sig)
	return req, nil
}

// verifySignature checks the headers against the raw body in constant time
// and returns the signed timestamp and the signature.
func verifySignature(secret []byte, tsHeader, sigHeader string, body []byte) (time.Time, [sha256.Size]byte, error) {
	var got [sha256.Size]byte
	if tsHeader == "" || sigHeader == "" {
		return time.Time{}, got, errMissingSignature
	}
	hexPart, ok := strings.CutPrefix(sigHeader, signaturePrefix)
	if !ok || len(hexPart) != 2*sha256.Size {
		return time.Time{}, got, fmt.Errorf("%w: the signature must be %q and %d hex digits", errBadSignature, signaturePrefix, 2*sha256.Size)
	}
	if _, err := hex.Decode(got[:], []byte(hexPart)); err != nil {
		return time.Time{}, got, fmt.Errorf("%w: the signature is not hex", errBadSignature)
	}
	ts, err := inbound.ParseUnixSeconds(tsHeader)
	if err != nil {
		return time.Time{}, got, fmt.Errorf("%w: %v", errBadSignature, err)
	}
	want := computeMAC(secret, tsHeader, body)
	if !hmac.Equal(got[:], want[:]) {
		return time.Time{}, got, errBadSignature
	}
	return ts, got, nil
}

// computeMAC is Slack's v0 scheme: HMAC-SHA256 over "v0:" + timestamp + ":" + body.
func computeMAC(secret []byte, timestamp string, body []byte) [sha256.Size]byte {
	return inbound.MAC(secret, []byte("v0:"+timestamp+":"), body)
}

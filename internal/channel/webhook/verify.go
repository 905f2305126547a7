package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"time"

	"github.com/vigil-operator/vigil/internal/channel/inbound"
)

// DefaultWindow is how far a request's timestamp may be from the connector's
// clock, in either direction.
const DefaultWindow = 5 * time.Minute

// verifier authenticates requests: HMAC over timestamp and body, freshness,
// and no replay.
type verifier struct {
	secret []byte
	window time.Duration
	replay *inbound.ReplayCache
}

// verify checks a request's headers against its body. On success it returns
// the signature, which is reserved in the replay cache; the caller releases it
// if it then fails to capture the request.
func (v *verifier) verify(tsHeader, sigHeader string, body []byte, now time.Time) ([sha256.Size]byte, *inbound.Rejection) {
	sig, err := parseSignatureHeader(sigHeader)
	if err != nil {
		return sig, inbound.Unauthorized(reasonFor(err), err)
	}
	ts, err := parseTimestampHeader(tsHeader)
	if err != nil {
		return sig, inbound.Unauthorized(reasonFor(err), err)
	}
	want := computeMAC(v.secret, tsHeader, body)
	if !hmac.Equal(sig[:], want[:]) {
		return sig, inbound.Unauthorized(inbound.ReasonBadSignature, errBadSignature)
	}
	// Checked after the MAC so that only authentic requests learn about the
	// clock, and the timestamp is known to be the one the sender signed.
	if rej := inbound.CheckFresh(ts, now, v.window); rej != nil {
		return sig, rej
	}
	return sig, v.replay.ReserveOrRefuse(sig, now)
}

func reasonFor(err error) string {
	if err == errMissingSignature {
		return inbound.ReasonMissingSignature
	}
	return inbound.ReasonBadSignature
}

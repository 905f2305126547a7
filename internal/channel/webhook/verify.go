package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"time"
)

// DefaultWindow is how far a request's timestamp may be from the connector's
// clock, in either direction.
const DefaultWindow = 5 * time.Minute

// rejection is a refused request: the HTTP status and the metric reason.
type rejection struct {
	status int
	reason string
	err    error
}

func (r *rejection) Error() string { return r.err.Error() }

// verifier authenticates requests: HMAC over timestamp and body, freshness,
// and no replay.
type verifier struct {
	secret []byte
	window time.Duration
	replay *replayCache
}

// verify checks a request's headers against its body. On success it returns
// the signature, which is reserved in the replay cache; the caller releases it
// if it then fails to capture the request.
func (v *verifier) verify(tsHeader, sigHeader string, body []byte, now time.Time) ([sha256.Size]byte, *rejection) {
	sig, err := parseSignatureHeader(sigHeader)
	if err != nil {
		return sig, &rejection{status: 401, reason: reasonFor(err), err: err}
	}
	ts, err := parseTimestampHeader(tsHeader)
	if err != nil {
		return sig, &rejection{status: 401, reason: reasonFor(err), err: err}
	}
	want := computeMAC(v.secret, tsHeader, body)
	if !hmac.Equal(sig[:], want[:]) {
		return sig, &rejection{status: 401, reason: "bad_signature", err: errBadSignature}
	}
	// Checked after the MAC so that only authentic requests learn about the
	// clock, and the timestamp is known to be the one the sender signed.
	if skew := now.Sub(ts); skew > v.window || skew < -v.window {
		return sig, &rejection{status: 401, reason: "stale_timestamp",
			err: fmt.Errorf("timestamp is %s away from the connector's clock; the window is %s", skew.Round(time.Second), v.window)}
	}
	switch v.replay.reserve(sig, now) {
	case replayed:
		return sig, &rejection{status: 409, reason: "replay", err: fmt.Errorf("this signed request was already received")}
	case cacheFull:
		return sig, &rejection{status: 503, reason: "replay_cache_full", err: fmt.Errorf("too many requests in the replay window; retry later")}
	}
	return sig, nil
}

func reasonFor(err error) string {
	if err == errMissingSignature {
		return "missing_signature"
	}
	return "bad_signature"
}

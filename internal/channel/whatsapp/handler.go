package whatsapp

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/vigil-operator/vigil/internal/channel/inbound"
	"github.com/vigil-operator/vigil/internal/connector"
)

// Labels of vigil_connector_whatsapp_skipped_changes_total.
const (
	skipOtherNumber = "other_phone_number"
	skipOtherField  = "other_field"
	// maxChallengeBytes bounds the echoed hub.challenge (Meta sends a
	// short number).
	maxChallengeBytes = 1024
)

// handler serves GET (subscription handshake) and POST (notifications).
type handler struct {
	ch   *Channel
	sink connector.Sink
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		h.verifySubscription(w, r)
	case http.MethodPost:
		h.notify(w, r)
	default:
		h.ch.metrics.Refuse(w, h.ch.log, inbound.MethodNotAllowed(w, "GET, POST"))
	}
}

// verifySubscription answers Meta's handshake: hub.challenge, exactly, when
// hub.verify_token is ours.
func (h *handler) verifySubscription(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	challenge := q.Get("hub.challenge")
	// Hashing first makes the comparison constant-time in the length too.
	got, want := sha256.Sum256([]byte(q.Get("hub.verify_token"))), sha256.Sum256(h.ch.verifyToken)
	tokenOK := subtle.ConstantTimeCompare(got[:], want[:]) == 1
	if q.Get("hub.mode") != "subscribe" || !tokenOK || challenge == "" || len(challenge) > maxChallengeBytes {
		h.ch.metrics.Refuse(w, h.ch.log, inbound.Refuse(http.StatusForbidden, ReasonBadVerifyToken,
			errors.New("hub.mode must be subscribe, with the configured hub.verify_token and a hub.challenge")))
		return
	}
	inbound.WriteText(w, http.StatusOK, challenge)
}

// notify captures a signed notification. Meta retries anything but 2xx, so
// only an authentic, understood and durably spooled notification gets 200.
func (h *handler) notify(w http.ResponseWriter, r *http.Request) {
	c := h.ch
	body, rej := inbound.ReadBody(w, r, MaxBodyBytes)
	if rej != nil {
		c.metrics.Refuse(w, c.log, rej)
		return
	}
	if err := verifySignature(c.appSecret, r.Header.Get(HeaderSignature), body); err != nil {
		reason := inbound.ReasonBadSignature
		if errors.Is(err, errMissingSignature) {
			reason = inbound.ReasonMissingSignature
		}
		c.metrics.Refuse(w, c.log, inbound.Unauthorized(reason, err))
		return
	}
	n, err := parseNotification(body)
	if err != nil {
		c.metrics.Refuse(w, c.log, inbound.Malformed("%v", err))
		return
	}
	b, err := c.mapper.toRecords(n, body)
	if err != nil {
		c.metrics.Refuse(w, c.log, inbound.Malformed("%v", err))
		return
	}
	recs, reserved, dups := c.dedupe.Filter(b.recs, b.keys, c.now())
	if rej := inbound.Capture(r.Context(), w, c.log, h.sink, recs); rej != nil {
		// Not captured, so Meta's retry must not look like a duplicate.
		c.dedupe.Release(reserved)
		c.metrics.Refuse(w, c.log, rej)
		return
	}
	c.metrics.Accepted.Add(float64(len(recs)))
	c.metrics.Duplicates.Add(float64(dups))
	c.skipped.WithLabelValues(skipOtherNumber).Add(float64(b.otherNumber))
	c.skipped.WithLabelValues(skipOtherField).Add(float64(b.otherField))
	inbound.WriteJSON(w, http.StatusOK, map[string]int{"accepted": len(recs), "duplicates": dups})
}

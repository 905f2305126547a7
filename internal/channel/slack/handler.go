package slack

import (
	"errors"
	"net/http"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/channel/inbound"
	"github.com/vigil-operator/vigil/internal/connector"
)

// handler serves POST /slack/events.
type handler struct {
	ch   *Channel
	sink connector.Sink
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := h.ch
	if r.Method != http.MethodPost {
		c.metrics.Refuse(w, c.log, inbound.MethodNotAllowed(w, http.MethodPost))
		return
	}
	body, rej := inbound.ReadBody(w, r, MaxBodyBytes)
	if rej != nil {
		c.metrics.Refuse(w, c.log, rej)
		return
	}
	now := c.now()
	ts, sig, err := verifySignature(c.secret, r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), body)
	if err != nil {
		reason := inbound.ReasonBadSignature
		if errors.Is(err, errMissingSignature) {
			reason = inbound.ReasonMissingSignature
		}
		c.metrics.Refuse(w, c.log, inbound.Unauthorized(reason, err))
		return
	}
	// After the signature, so only Slack learns about our clock.
	if rej := inbound.CheckFresh(ts, now, Window); rej != nil {
		c.metrics.Refuse(w, c.log, rej)
		return
	}
	sigKey := inbound.Key(string(sig[:]))
	if rej := c.replay.ReserveOrRefuse(sigKey, now); rej != nil {
		c.metrics.Refuse(w, c.log, rej)
		return
	}
	if rej := h.handle(w, r, body, now); rej != nil {
		// Not captured: the same signed request may come again and must get
		// the same answer, not "replay".
		c.replay.Release(sigKey)
		c.metrics.Refuse(w, c.log, rej)
	}
}

// handle answers an authentic, fresh request.
func (h *handler) handle(w http.ResponseWriter, r *http.Request, body []byte, now time.Time) *inbound.Rejection {
	c := h.ch
	env, err := parseEnvelope(body)
	if err != nil {
		return inbound.Malformed("%v", err)
	}
	switch env.Type {
	case typeURLVerification:
		if env.Challenge == "" {
			return inbound.Malformed("url_verification without challenge")
		}
		inbound.WriteJSON(w, http.StatusOK, map[string]string{"challenge": env.Challenge})
		return nil
	case typeEventCallback, typeAppRateLimited:
	default:
		return inbound.Malformed("unknown request type")
	}
	if env.TeamID != c.mapper.teamID {
		return inbound.Refuse(http.StatusForbidden, inbound.ReasonWrongReceiver, errors.New("team_id is not this account's workspace"))
	}
	rec, key, err := c.mapper.toRecord(env, body)
	if err != nil {
		return inbound.Malformed("%v", err)
	}
	rec.Provenance.Redelivery = r.Header.Get(HeaderRetryNum) != ""
	recs, reserved, dups := c.dedupe.Filter([]*capture.Record{rec}, []string{key}, now)
	if rej := inbound.Capture(r.Context(), w, c.log, h.sink, recs); rej != nil {
		c.dedupe.Release(reserved)
		return rej
	}
	c.metrics.Accepted.Add(float64(len(recs)))
	c.metrics.Duplicates.Add(float64(dups))
	inbound.WriteJSON(w, http.StatusOK, map[string]int{"accepted": len(recs), "duplicates": dups})
	return nil
}

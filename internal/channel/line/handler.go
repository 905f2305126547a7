package line

import (
	"errors"
	"net/http"

	"github.com/vigil-operator/vigil/internal/channel/inbound"
	"github.com/vigil-operator/vigil/internal/connector"
)

// handler serves POST /line.
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
	if err := verifySignature(c.secret, r.Header.Get(HeaderSignature), body); err != nil {
		reason := inbound.ReasonBadSignature
		if errors.Is(err, errMissingSignature) {
			reason = inbound.ReasonMissingSignature
		}
		c.metrics.Refuse(w, c.log, inbound.Unauthorized(reason, err))
		return
	}
	wh, err := parseWebhook(body)
	if err != nil {
		c.metrics.Refuse(w, c.log, inbound.Malformed("%v", err))
		return
	}
	if wh.Destination != c.mapper.botUserID {
		c.metrics.Refuse(w, c.log, inbound.Refuse(http.StatusForbidden, inbound.ReasonWrongReceiver,
			errors.New("destination is not this account's bot user id")))
		return
	}
	recs, keys, err := c.mapper.toRecords(wh, body)
	if err != nil {
		c.metrics.Refuse(w, c.log, inbound.Malformed("%v", err))
		return
	}
	// An empty events list is the console's "Verify" button: 200, nothing
	// stored.
	recs, reserved, dups := c.dedupe.Filter(recs, keys, c.now())
	if rej := inbound.Capture(r.Context(), w, c.log, h.sink, recs); rej != nil {
		c.dedupe.Release(reserved)
		c.metrics.Refuse(w, c.log, rej)
		return
	}
	c.metrics.Accepted.Add(float64(len(recs)))
	c.metrics.Duplicates.Add(float64(dups))
	inbound.WriteJSON(w, http.StatusOK, map[string]int{"accepted": len(recs), "duplicates": dups})
}

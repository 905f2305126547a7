package webhook

import (
	"net/http"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/channel/inbound"
	"github.com/vigil-operator/vigil/internal/connector"
)

// MaxBodyBytes is the largest accepted request body.
const MaxBodyBytes = 1 << 20

// handler serves POST /webhook.
type handler struct {
	verifier *verifier
	sink     connector.Sink
	metrics  *inbound.Metrics
	log      logr.Logger
	tenant   string
	account  string
	now      func() time.Time
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		h.metrics.Refuse(w, h.log, inbound.MethodNotAllowed(w, http.MethodPost))
		return
	}
	body, rej := inbound.ReadBody(w, r, MaxBodyBytes)
	if rej != nil {
		h.metrics.Refuse(w, h.log, rej)
		return
	}
	sig, rej := h.verifier.verify(r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), body, h.now())
	if rej != nil {
		h.metrics.Refuse(w, h.log, rej)
		return
	}
	msgs, sentAt, err := parseBody(body)
	if err != nil {
		// The signed request is bad for good; keeping its signature reserved
		// turns a resend into 409 instead of a second 400, which is also fine,
		// but releasing keeps the answer stable for the sender's debugging.
		h.verifier.replay.Release(sig)
		h.metrics.Refuse(w, h.log, inbound.Malformed("%v", err))
		return
	}
	recs := toRecords(msgs, sentAt, body, h.tenant, h.account)
	if rej := inbound.Capture(r.Context(), w, h.log, h.sink, recs); rej != nil {
		// Not captured, so the sender's retry of this very request must work.
		h.verifier.replay.Release(sig)
		h.metrics.Refuse(w, h.log, rej)
		return
	}
	h.metrics.Accepted.Add(float64(len(recs)))
	inbound.WriteJSON(w, http.StatusAccepted, map[string]int{"accepted": len(recs)})
}

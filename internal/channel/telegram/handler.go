package telegram

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"

	"github.com/vigil-operator/vigil/internal/channel/inbound"
	"github.com/vigil-operator/vigil/internal/connector"
)

// MaxBodyBytes is the largest accepted update; real ones are a few KiB.
const MaxBodyBytes = 1 << 20

// handler serves POST /telegram.
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
	if rej := c.checkSecret(r.Header.Values(HeaderSecretToken)); rej != nil {
		c.metrics.Refuse(w, c.log, rej)
		return
	}
	body, rej := inbound.ReadBody(w, r, MaxBodyBytes)
	if rej != nil {
		c.metrics.Refuse(w, c.log, rej)
		return
	}
	u, err := parseUpdate(body)
	if err != nil {
		c.metrics.Refuse(w, c.log, inbound.Malformed("%v", err))
		return
	}
	key := strconv.FormatInt(u.UpdateID, 10)
	if c.seen.Seen(key) {
		c.metrics.Duplicates.Inc()
		w.WriteHeader(http.StatusOK)
		return
	}
	if bc := u.BusinessConnection; bc != nil {
		// Remembered even if the capture below fails: it is a fact
		// Telegram stated, and the retry restates it.
		if err := c.business.Put(bc.ID, bc.User.ID); err != nil {
			// The update is still captured; only the attribution of later
			// business messages after a restart is at stake.
			c.log.Error(err, "Could not save a business connection")
		}
	}
	recs := newMapper(c.botID, c.business.User, body, u.UpdateID, c.now()).records(u)
	if rej := inbound.Capture(r.Context(), w, c.log, h.sink, recs); rej != nil {
		c.metrics.Refuse(w, c.log, rej)
		return
	}
	c.seen.Add(key)
	c.metrics.Accepted.Add(float64(len(recs)))
	w.WriteHeader(http.StatusOK)
}

// checkSecret compares the header with the secret token in constant time.
func (c *Channel) checkSecret(values []string) *inbound.Rejection {
	if len(values) == 0 || values[0] == "" {
		return inbound.Unauthorized(inbound.ReasonMissingSignature, errors.New(HeaderSecretToken+" is missing"))
	}
	got := sha256.Sum256([]byte(values[0]))
	if len(values) != 1 || subtle.ConstantTimeCompare(got[:], c.secretHash[:]) != 1 {
		return inbound.Unauthorized(inbound.ReasonBadSignature, errors.New(HeaderSecretToken+" does not match"))
	}
	return nil
}

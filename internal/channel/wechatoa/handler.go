package wechatoa

import (
	"net/http"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/channel/inbound"
	"github.com/vigil-operator/vigil/internal/connector"
)

// MaxBodyBytes is the largest accepted push. Pushes are a few KiB; a
// compatible-mode body is about three times its message.
const MaxBodyBytes = 1 << 20

// Reply is the body WeChat expects when a push needs no passive reply.
const Reply = "success"

// handler serves the push URL: GET is the console's URL verification,
// POST a message or event.
type handler struct {
	ch   *Channel
	sink connector.Sink
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		h.verifyURL(w, r)
	case http.MethodPost:
		h.push(w, r)
	default:
		h.ch.metrics.Refuse(w, h.ch.log, inbound.MethodNotAllowed(w, "GET, POST"))
	}
}

// verifyURL answers the admin console's check of the server URL: a valid
// signature gets echostr back unchanged. There is nothing to replay (the
// answer reveals only what the request holds), so neither freshness nor
// replay is checked; the console sends a fresh request each time.
func (h *handler) verifyURL(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if rej := h.ch.checkSignature(q); rej != nil {
		h.ch.metrics.Refuse(w, h.ch.log, rej)
		return
	}
	echo := q.Get(ParamEchostr)
	if echo == "" {
		h.ch.metrics.Refuse(w, h.ch.log, inbound.Malformed("echostr is missing"))
		return
	}
	inbound.WriteText(w, http.StatusOK, echo)
}

func (h *handler) push(w http.ResponseWriter, r *http.Request) {
	c := h.ch
	body, rej := inbound.ReadBody(w, r, MaxBodyBytes)
	if rej != nil {
		c.metrics.Refuse(w, c.log, rej)
		return
	}
	a, rej := c.authenticate(r.URL.Query(), body, c.now())
	if rej != nil {
		c.metrics.Refuse(w, c.log, rej)
		return
	}
	msg, rej := c.message(a, body)
	if rej != nil {
		c.replay.Release(a.replayKey)
		c.metrics.Refuse(w, c.log, rej)
		return
	}
	key := msg.DedupeKey()
	if c.seen.Seen(key) {
		c.metrics.Duplicates.Inc()
		inbound.WriteText(w, http.StatusOK, Reply)
		return
	}
	rec := toRecord(msg, a.plaintext, a.encrypted, c.appID)
	if rej := inbound.Capture(r.Context(), w, c.log, h.sink, []*capture.Record{rec}); rej != nil {
		// Not stored, so WeChat's retry of this very request must work.
		c.replay.Release(a.replayKey)
		c.metrics.Refuse(w, c.log, rej)
		return
	}
	c.seen.Add(key)
	c.metrics.Accepted.Inc()
	inbound.WriteText(w, http.StatusOK, Reply)
}

// message parses the authenticated plaintext and, for encrypted pushes,
// checks that the unauthenticated outer fields say the same: the envelope's
// ToUserName and, in compatible mode, the plaintext copy. The record is
// always made from the decrypted content.
func (c *Channel) message(a *authenticated, body []byte) (*Message, *inbound.Rejection) {
	msg, err := parseMessage(a.plaintext)
	if err != nil {
		return nil, inbound.Malformed("%v", err)
	}
	if !a.encrypted {
		return msg, nil
	}
	if a.envelope.ToUserName != "" && a.envelope.ToUserName != msg.ToUserName {
		return nil, inbound.Refuse(http.StatusBadRequest, ReasonPlaintextMismatch,
			errMismatch("the envelope's ToUserName differs from the encrypted one"))
	}
	if a.outerIsCopy {
		cp, err := parseMessage(body)
		if err != nil || !msg.agrees(cp) {
			return nil, inbound.Refuse(http.StatusBadRequest, ReasonPlaintextMismatch,
				errMismatch("the plaintext copy differs from the encrypted message"))
		}
	}
	return msg, nil
}

type errMismatch string

func (e errMismatch) Error() string { return string(e) }

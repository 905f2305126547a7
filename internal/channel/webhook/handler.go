package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/connector/spool"
)

// MaxBodyBytes is the largest accepted request body.
const MaxBodyBytes = 1 << 20

// handler serves POST /webhook.
type handler struct {
	verifier *verifier
	sink     connector.Sink
	metrics  *metrics
	log      logr.Logger
	tenant   string
	account  string
	now      func() time.Time
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(w, &rejection{status: http.StatusMethodNotAllowed, reason: "method", err: errors.New("only POST is accepted")})
		return
	}
	body, rej := readBody(w, r)
	if rej != nil {
		h.refuse(w, rej)
		return
	}
	sig, rej := h.verifier.verify(r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), body, h.now())
	if rej != nil {
		h.refuse(w, rej)
		return
	}
	msgs, sentAt, err := parseBody(body)
	if err != nil {
		// The signed request is bad for good; keeping its signature reserved
		// turns a resend into 409 instead of a second 400, which is also fine,
		// but releasing keeps the answer stable for the sender's debugging.
		h.verifier.replay.release(sig)
		h.refuse(w, &rejection{status: http.StatusBadRequest, reason: "malformed", err: err})
		return
	}
	recs := toRecords(msgs, sentAt, body, h.tenant, h.account)
	if err := h.sink.Capture(r.Context(), recs); err != nil {
		// Not captured, so the sender's retry of this very request must work.
		h.verifier.replay.release(sig)
		switch {
		case errors.Is(err, spool.ErrSpoolFull):
			w.Header().Set("Retry-After", "5")
			h.refuse(w, &rejection{status: http.StatusServiceUnavailable, reason: "spool_full", err: errors.New("the connector's spool is full; retry later")})
		case errors.Is(err, capture.ErrInvalid):
			h.refuse(w, &rejection{status: http.StatusBadRequest, reason: "malformed", err: err})
		default:
			h.log.Error(err, "capture failed", "messages", len(recs))
			h.refuse(w, &rejection{status: http.StatusInternalServerError, reason: "internal", err: errors.New("the request could not be stored; retry later")})
		}
		return
	}
	h.metrics.accepted.Add(float64(len(recs)))
	writeJSON(w, http.StatusAccepted, map[string]int{"accepted": len(recs)})
}

// readBody reads at most MaxBodyBytes; a larger body is refused whole.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *rejection) {
	if r.ContentLength > MaxBodyBytes {
		return nil, &rejection{status: http.StatusRequestEntityTooLarge, reason: "too_large", err: fmt.Errorf("body is over %d bytes", MaxBodyBytes)}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &rejection{status: http.StatusRequestEntityTooLarge, reason: "too_large", err: fmt.Errorf("body is over %d bytes", MaxBodyBytes)}
		}
		return nil, &rejection{status: http.StatusBadRequest, reason: "malformed", err: fmt.Errorf("while reading body: %w", err)}
	}
	return body, nil
}

func (h *handler) refuse(w http.ResponseWriter, rej *rejection) {
	h.metrics.rejected.WithLabelValues(rej.reason).Inc()
	// Only the reason is logged: error texts may echo field values.
	h.log.V(1).Info("webhook request refused", "reason", rej.reason, "status", rej.status)
	writeJSON(w, rej.status, map[string]string{"error": rej.err.Error()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

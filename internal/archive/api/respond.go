package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/vigil-operator/vigil/internal/archive/store"
)

// ErrorBody is every error answer: a reason to count and branch on, and a
// message for people.
type ErrorBody struct {
	Reason string `json:"reason"`
	Error  string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// refuse answers an error and counts it by reason.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, status int, reason, msg string) {
	s.metrics.rejected.WithLabelValues(reason).Inc()
	s.log.V(1).Info("Refused a request", "method", r.Method, "path", r.URL.Path, "status", status, "reason", reason, "message", msg)
	writeJSON(w, status, ErrorBody{Reason: reason, Error: msg})
}

// storeFailed maps a store error to an answer. Internal errors are logged in
// full and answered without detail.
func (s *Server) storeFailed(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, store.ErrInvalid):
		s.refuse(w, r, http.StatusBadRequest, "invalid", err.Error())
	case errors.Is(err, store.ErrNotFound):
		s.refuse(w, r, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, store.ErrClosed):
		s.refuse(w, r, http.StatusServiceUnavailable, "unavailable", "the archive is shutting down; retry")
	default:
		s.log.Error(err, "Archive request failed", "method", r.Method, "path", r.URL.Path)
		s.refuse(w, r, http.StatusInternalServerError, "internal", "the archive could not complete the request; retry")
	}
}

// decodeJSON reads one JSON value of at most maxJSONBody bytes, refusing
// unknown fields so a misspelt option is an error rather than ignored.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("while decoding the request body: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("the request body holds more than one JSON value")
	}
	return nil
}

package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"unicode"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/capture"
)

// maxCustodian bounds the custodian name a batch declares.
const maxCustodian = 256

// IngestResponse answers a batch once it is durable.
type IngestResponse = store.IngestResult

// ingest stores a connector's batch. The whole body is read and validated
// before anything is written, so a bad line refuses the batch and writes
// nothing; the answer comes after the store has made the batch durable, and
// a repeated batch is answered with its records counted as duplicates.
func (s *Server) ingest(w http.ResponseWriter, r *http.Request, id Identity) {
	account, err := store.ParseAccountKey(r.URL.Query().Get("account"))
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, "bad_account", err.Error())
		return
	}
	if !mayIngest(id, account) {
		s.refuse(w, r, http.StatusForbidden, "forbidden", fmt.Sprintf("%s may not write records of %s", id.Username, account))
		return
	}
	custodian := r.URL.Query().Get("custodian")
	if len(custodian) > maxCustodian || !printable(custodian) {
		s.refuse(w, r, http.StatusBadRequest, "bad_custodian", fmt.Sprintf("custodian must be at most %d printable bytes", maxCustodian))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/x-ndjson" {
			s.refuse(w, r, http.StatusUnsupportedMediaType, "bad_content_type", "the body must be application/x-ndjson")
			return
		}
	}
	// The batch is read whole before decoding: a body cut at the size limit
	// must be refused as too large, not parsed as a truncated last line.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		s.refuse(w, r, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the batch is larger than %d bytes", s.maxBody))
		return
	case err != nil:
		s.refuse(w, r, http.StatusBadRequest, "unreadable", "while reading the batch: "+err.Error())
		return
	}
	envs, err := capture.DecodeEnvelopes(bytes.NewReader(body), s.maxN)
	switch {
	case errors.Is(err, capture.ErrTooMany):
		s.refuse(w, r, http.StatusRequestEntityTooLarge, "too_many", err.Error())
		return
	case errors.Is(err, capture.ErrInvalid):
		s.refuse(w, r, http.StatusBadRequest, "malformed", err.Error())
		return
	case err != nil:
		s.refuse(w, r, http.StatusBadRequest, "unreadable", err.Error())
		return
	case len(envs) == 0:
		s.refuse(w, r, http.StatusBadRequest, "empty", "the batch holds no envelopes")
		return
	}
	res, err := s.store.Ingest(r.Context(), account, custodian, id.Username, envs)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	s.metrics.records.WithLabelValues("inserted").Add(float64(res.Inserted))
	s.metrics.records.WithLabelValues("duplicate").Add(float64(res.Duplicates))
	writeJSON(w, http.StatusOK, res)
}

func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

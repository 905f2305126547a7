package api

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

// The tamper-evident log's endpoints. They are for auditors (RBAC get
// audit.review.vigil.dev, like the audit trail) and expose identifiers and
// hashes only, never content.
//
//	GET /v1/log/checkpoint                       C2SP signed checkpoint (text/plain)
//	GET /v1/log/verifier                         the checkpoint key, vkey format (text/plain)
//	GET /v1/log/leaves?start=&count=             leaves' canonical bytes, one per line (NDJSON)
//	GET /v1/log/proof/inclusion?size=&index=|record=
//	GET /v1/log/proof/consistency?from=&to=

// InclusionProofResponse answers /v1/log/proof/inclusion.
type InclusionProofResponse struct {
	Index uint64      `json:"index"`
	Size  uint64      `json:"size"`
	Proof []tlog.Hash `json:"proof"`
}

// ConsistencyProofResponse answers /v1/log/proof/consistency.
type ConsistencyProofResponse struct {
	From  uint64      `json:"from"`
	To    uint64      `json:"to"`
	Proof []tlog.Hash `json:"proof"`
}

// logOf is the store's log, when it keeps one.
func (s *Server) logOf(w http.ResponseWriter, r *http.Request, id Identity) (store.Log, bool) {
	ok, err := s.allowed(r, id, "get", ResourceAudit, "")
	if err != nil {
		s.log.Error(err, "Cannot authorize a log read")
		s.refuse(w, r, http.StatusServiceUnavailable, "authz_unavailable", "cannot check permissions now; retry")
		return nil, false
	}
	if !ok {
		s.refuse(w, r, http.StatusForbidden, "forbidden", id.Username+" may not read the log")
		return nil, false
	}
	l, ok := s.store.(store.Log)
	if !ok {
		s.refuse(w, r, http.StatusNotImplemented, "no_log", "this archive backend keeps no log")
		return nil, false
	}
	return l, true
}

func writeText(w http.ResponseWriter, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func (s *Server) logCheckpoint(w http.ResponseWriter, r *http.Request, id Identity) {
	l, ok := s.logOf(w, r, id)
	if !ok {
		return
	}
	note, err := l.Checkpoint(r.Context())
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	writeText(w, "text/plain; charset=utf-8", note)
}

func (s *Server) logVerifier(w http.ResponseWriter, r *http.Request, id Identity) {
	l, ok := s.logOf(w, r, id)
	if !ok {
		return
	}
	writeText(w, "text/plain; charset=utf-8", []byte(l.Verifier().String()+"\n"))
}

// uintParam reads a non-negative integer query parameter.
func uintParam(r *http.Request, name string, required bool, def uint64) (uint64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		if required {
			return 0, errors.New(name + " is required")
		}
		return def, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, errors.New(name + " must be a non-negative integer")
	}
	return n, nil
}

func (s *Server) logLeaves(w http.ResponseWriter, r *http.Request, id Identity) {
	l, ok := s.logOf(w, r, id)
	if !ok {
		return
	}
	start, err := uintParam(r, "start", false, 0)
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	count, err := uintParam(r, "count", false, store.MaxListLimit)
	if err != nil || count == 0 || count > store.MaxListLimit {
		s.refuse(w, r, http.StatusBadRequest, "invalid", "count must be a number from 1 to "+strconv.Itoa(store.MaxListLimit))
		return
	}
	leaves, err := l.Leaves(r.Context(), start, int(count))
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	// The exact bytes each leaf hash covers, so auditors can rehash them.
	var buf bytes.Buffer
	for _, leaf := range leaves {
		buf.Write(leaf)
		buf.WriteByte('\n')
	}
	writeText(w, "application/x-ndjson", buf.Bytes())
}

func (s *Server) logInclusion(w http.ResponseWriter, r *http.Request, id Identity) {
	l, ok := s.logOf(w, r, id)
	if !ok {
		return
	}
	size, err := uintParam(r, "size", true, 0)
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	var index uint64
	if rec := r.URL.Query().Get("record"); rec != "" {
		if index, err = l.RecordLeafIndex(r.Context(), rec); err != nil {
			s.storeFailed(w, r, err)
			return
		}
	} else if index, err = uintParam(r, "index", true, 0); err != nil {
		s.refuse(w, r, http.StatusBadRequest, "invalid", "index or record is required")
		return
	}
	proof, err := l.InclusionProof(r.Context(), index, size)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, InclusionProofResponse{Index: index, Size: size, Proof: proof})
}

func (s *Server) logConsistency(w http.ResponseWriter, r *http.Request, id Identity) {
	l, ok := s.logOf(w, r, id)
	if !ok {
		return
	}
	from, err1 := uintParam(r, "from", true, 0)
	to, err2 := uintParam(r, "to", true, 0)
	if err := errors.Join(err1, err2); err != nil {
		s.refuse(w, r, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	proof, err := l.ConsistencyProof(r.Context(), from, to)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ConsistencyProofResponse{From: from, To: to, Proof: proof})
}

package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/search"
	"github.com/vigil-operator/vigil/internal/archive/store"
)

// pathAccount reads {namespace}/{name} from the URL.
func pathAccount(r *http.Request) (store.AccountKey, error) {
	return store.ParseAccountKey(r.PathValue("namespace") + "/" + r.PathValue("name"))
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request, _ Identity) {
	account, err := pathAccount(r)
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, "bad_account", err.Error())
		return
	}
	st, err := s.store.Stats(r.Context(), account)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// purge runs a retention purge. The actor recorded is the authenticated
// caller, whatever the request says.
func (s *Server) purge(w http.ResponseWriter, r *http.Request, id Identity) {
	var req store.PurgeRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.refuse(w, r, http.StatusBadRequest, "malformed", err.Error())
		return
	}
	req.Actor = id.Username
	if err := req.Validate(); err != nil {
		s.refuse(w, r, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	rep, err := s.store.Purge(r.Context(), req)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	s.log.Info("Purged", "rule", req.Rule, "accounts", len(req.Accounts), "cutoff", req.Cutoff,
		"purged", rep.Purged, "heldBack", rep.HeldBack, "dryRun", rep.DryRun, "certificate", rep.CertificateID)
	writeJSON(w, http.StatusOK, rep)
}

func holdID(r *http.Request) (string, error) {
	k, err := pathAccount(r)
	return string(k), err
}

func (s *Server) putHold(w http.ResponseWriter, r *http.Request, id Identity) {
	hid, err := holdID(r)
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, "bad_hold", err.Error())
		return
	}
	var h store.Hold
	if err := decodeJSON(w, r, &h); err != nil {
		s.refuse(w, r, http.StatusBadRequest, "malformed", err.Error())
		return
	}
	if h.ID == "" {
		h.ID = hid
	}
	if h.ID != hid {
		s.refuse(w, r, http.StatusBadRequest, "invalid", fmt.Sprintf("the body's id %q is not the path's %q", h.ID, hid))
		return
	}
	h.Actor = id.Username
	if err := h.Validate(); err != nil {
		s.refuse(w, r, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	st, err := s.store.PutHold(r.Context(), h)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) getHold(w http.ResponseWriter, r *http.Request, _ Identity) {
	hid, err := holdID(r)
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, "bad_hold", err.Error())
		return
	}
	st, err := s.store.GetHold(r.Context(), hid)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// ReleaseRequest is the body of DELETE /v1/holds/{namespace}/{name}.
type ReleaseRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) releaseHold(w http.ResponseWriter, r *http.Request, id Identity) {
	hid, err := holdID(r)
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, "bad_hold", err.Error())
		return
	}
	var req ReleaseRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.refuse(w, r, http.StatusBadRequest, "malformed", err.Error())
		return
	}
	if req.Reason == "" || len(req.Reason) > 1024 {
		s.refuse(w, r, http.StatusBadRequest, "invalid", "releasing a hold needs a reason of at most 1024 bytes")
		return
	}
	st, err := s.store.ReleaseHold(r.Context(), hid, req.Reason, id.Username)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// ListResponse is one page of records.
type ListResponse struct {
	Records []store.StoredRecord `json:"records"`
	// Next is the cursor of the next page; empty on the last.
	Next string `json:"next,omitempty"`
	// Highlights, for a text search, are the byte ranges of each record's
	// text that match, by record id, for the console to mark.
	Highlights map[string][]search.Range `json:"highlights,omitempty"`
}

// listRecords searches an account's records. A reviewer needs RBAC `list` on
// messages.review.vigil.dev in the account's namespace, and every read is
// audited before the content is sent.
func (s *Server) listRecords(w http.ResponseWriter, r *http.Request, id Identity) {
	q, err := parseQuery(r)
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	ok, err := s.allowed(r, id, "list", ResourceMessages, q.Account.Namespace())
	if err != nil {
		s.log.Error(err, "Cannot authorize a search")
		s.refuse(w, r, http.StatusServiceUnavailable, "authz_unavailable", "cannot check permissions now; retry")
		return
	}
	if !ok {
		s.refuse(w, r, http.StatusForbidden, "forbidden", fmt.Sprintf("%s may not list messages in namespace %s", id.Username, q.Account.Namespace()))
		return
	}
	if err := s.store.RecordAccess(r.Context(), id.Username, store.AuditRead, string(q.Account), r.URL.RawQuery); err != nil {
		s.storeFailed(w, r, err)
		return
	}
	recs, next, err := s.store.List(r.Context(), q)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	if recs == nil {
		recs = []store.StoredRecord{}
	}
	writeJSON(w, http.StatusOK, ListResponse{Records: recs, Next: next, Highlights: highlights(q.Text, recs)})
}

// highlights marks where each record's text matches the query.
func highlights(text string, recs []store.StoredRecord) map[string][]search.Range {
	if text == "" {
		return nil
	}
	q, err := search.Parse(text)
	if err != nil {
		return nil
	}
	out := map[string][]search.Range{}
	for _, r := range recs {
		if ranges := q.Highlight(r.Record.Text); len(ranges) > 0 {
			out[r.Record.ID] = ranges
		}
	}
	return out
}

func parseQuery(r *http.Request) (store.Query, error) {
	v := r.URL.Query()
	account, err := store.ParseAccountKey(v.Get("account"))
	if err != nil {
		return store.Query{}, err
	}
	q := store.Query{Account: account, Text: v.Get("q"), After: v.Get("after"), Limit: 100,
		Custodian: v.Get("custodian"), Conversation: v.Get("conversation"), Category: v.Get("category"), MinSeverity: v.Get("severity")}
	if err := q.ValidateFilters(); err != nil {
		return q, err
	}
	if len(q.Text) > 1024 || len(q.After) > 1024 {
		return q, fmt.Errorf("q and after must each be at most 1024 bytes")
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > store.MaxListLimit {
			return q, fmt.Errorf("limit must be a number from 1 to %d", store.MaxListLimit)
		}
		q.Limit = n
	}
	for name, dst := range map[string]**time.Time{"from": &q.From, "to": &q.To} {
		if s := v.Get(name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return q, fmt.Errorf("%s must be an RFC 3339 time: %v", name, err)
			}
			*dst = &t
		}
	}
	return q, nil
}

// AuditResponse is one page of the audit trail.
type AuditResponse struct {
	Events []store.AuditEvent `json:"events"`
	// Last is the sequence number to pass as after for the next page.
	Last int64 `json:"last"`
}

func (s *Server) audit(w http.ResponseWriter, r *http.Request, id Identity) {
	ok, err := s.allowed(r, id, "get", ResourceAudit, "")
	if err != nil {
		s.log.Error(err, "Cannot authorize an audit read")
		s.refuse(w, r, http.StatusServiceUnavailable, "authz_unavailable", "cannot check permissions now; retry")
		return
	}
	if !ok {
		s.refuse(w, r, http.StatusForbidden, "forbidden", id.Username+" may not read the audit trail")
		return
	}
	after, limit := int64(0), 500
	q := r.URL.Query()
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			s.refuse(w, r, http.StatusBadRequest, "invalid", "after must be a non-negative sequence number")
			return
		}
		after = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 5000 {
			s.refuse(w, r, http.StatusBadRequest, "invalid", "limit must be a number from 1 to 5000")
			return
		}
		limit = n
	}
	events, last, err := s.store.Audit(r.Context(), after, limit)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	if events == nil {
		events = []store.AuditEvent{}
	}
	writeJSON(w, http.StatusOK, AuditResponse{Events: events, Last: last})
}

package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/export"
	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
	"github.com/vigil-operator/vigil/internal/capture"
)

// ExportRequest asks for an eDiscovery export of one account's records: the
// records a search with the same query and range would list.
type ExportRequest struct {
	Account string     `json:"account"`
	Query   string     `json:"query,omitempty"`
	From    *time.Time `json:"from,omitempty"`
	To      *time.Time `json:"to,omitempty"`
	// Custodian, Conversation, Category and Severity filter as a search's.
	Custodian    string `json:"custodian,omitempty"`
	Conversation string `json:"conversation,omitempty"`
	Category     string `json:"category,omitempty"`
	Severity     string `json:"severity,omitempty"`
	// Formats: rsmf, eml, dat; all three when empty.
	Formats []export.Format `json:"formats,omitempty"`
	Matter  string          `json:"matter,omitempty"`
	// ExportID names the production; a new id when empty.
	ExportID    string `json:"exportID,omitempty"`
	BatesPrefix string `json:"batesPrefix,omitempty"`
}

// ExportStatusTrailer is sent after the zip: "ok" and the manifest's SHA-256,
// or the error that cut the export short. A client keeps the zip only on ok
// (and can check it with vigil verify --export): an export that failed
// midway has no manifest, so it can never verify.
const ExportStatusTrailer = "X-Vigil-Export-Status"

// maxExportRequestBytes bounds the request body.
const maxExportRequestBytes = 64 << 10

// exportPage is how many records an export reads from the store at a time.
const exportPage = 500

// exportDetail is what the audit trail records of an export: what was asked
// when it starts, and the manifest's hash once it is produced.
type exportDetail struct {
	ExportID       string          `json:"exportID"`
	Matter         string          `json:"matter,omitempty"`
	Query          string          `json:"query,omitempty"`
	From           *time.Time      `json:"from,omitempty"`
	To             *time.Time      `json:"to,omitempty"`
	Formats        []export.Format `json:"formats,omitempty"`
	ManifestSHA256 string          `json:"manifestSHA256,omitempty"`
	Records        int             `json:"records,omitempty"`
}

// createExport streams an export of an account's records as a zip: natives,
// the renditions asked for, and a manifest of SHA-256 hashes with each
// record's leaf and inclusion proof against a signed checkpoint. It needs
// RBAC `create` on exports.review.vigil.dev in the account's namespace. The
// export is audited (a records.export event) before any content is sent, and
// again with the manifest's hash once it is complete: the chain of custody.
func (s *Server) createExport(w http.ResponseWriter, r *http.Request, id Identity) {
	req, query, err := decodeExportRequest(r)
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	ok, err := s.allowed(r, id, "create", ResourceExports, query.Account.Namespace())
	if err != nil {
		s.log.Error(err, "Cannot authorize an export")
		s.refuse(w, r, http.StatusServiceUnavailable, "authz_unavailable", "cannot check permissions now; retry")
		return
	}
	if !ok {
		s.refuse(w, r, http.StatusForbidden, "forbidden", fmt.Sprintf("%s may not create exports in namespace %s", id.Username, query.Account.Namespace()))
		return
	}
	l, ok := s.store.(store.Log)
	if !ok {
		s.refuse(w, r, http.StatusNotImplemented, "no_log", "this archive backend keeps no log, so it cannot prove an export")
		return
	}
	ctx := r.Context()
	detail := exportDetail{ExportID: req.ExportID, Matter: req.Matter, Query: req.Query, From: req.From, To: req.To, Formats: req.Formats}
	if err := s.auditExport(ctx, id.Username, query.Account, detail); err != nil {
		s.storeFailed(w, r, err)
		return
	}
	// A checkpoint taken now covers every record the listing can return
	// (records stored later are left out) and the audit event above.
	note, err := l.Checkpoint(ctx)
	if err != nil {
		s.storeFailed(w, r, err)
		return
	}
	cp, _, err := tlog.OpenCheckpoint(note, l.Origin(), []*tlog.Verifier{l.Verifier()})
	if err != nil {
		s.storeFailed(w, r, fmt.Errorf("while reading the archive's own checkpoint: %w", err))
		return
	}
	opts := export.Options{
		Metadata: export.Metadata{ExportID: req.ExportID, Matter: req.Matter, Actor: id.Username,
			CreatedAt: time.Now().UTC().Truncate(time.Second), Query: req.Query},
		Formats: req.Formats, Origin: l.Origin(), Checkpoint: note, Verifiers: []*tlog.Verifier{l.Verifier()},
		Proofs: l, BatesPrefix: req.BatesPrefix,
	}
	// A production can stream for longer than the server's write timeout,
	// which is sized for ordinary answers.
	if err := http.NewResponseController(w).SetWriteDeadline(time.Time{}); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.log.Error(err, "Cannot lift the write deadline for an export")
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", req.ExportID+".zip"))
	w.Header().Set("Trailer", ExportStatusTrailer)
	w.WriteHeader(http.StatusOK)
	res, err := export.Export(ctx, export.NewZipSink(w), opts, s.exportItems(ctx, l, query, cp.Size))
	if err != nil {
		s.log.Error(err, "Export failed midway", "export", req.ExportID, "account", string(query.Account))
		w.Header().Set(ExportStatusTrailer, "failed: "+err.Error())
		return
	}
	detail.ManifestSHA256, detail.Records = res.ManifestSHA256, res.Records
	if err := s.auditExport(ctx, id.Username, query.Account, detail); err != nil {
		s.log.Error(err, "Export produced but its manifest could not be logged", "export", req.ExportID)
		w.Header().Set(ExportStatusTrailer, "failed: the manifest could not be logged: "+err.Error())
		return
	}
	w.Header().Set(ExportStatusTrailer, "ok "+res.ManifestSHA256)
}

func (s *Server) auditExport(ctx context.Context, actor string, account store.AccountKey, d exportDetail) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return s.store.RecordAccess(ctx, actor, store.AuditExport, string(account), string(b))
}

// decodeExportRequest reads and checks the request, filling in defaults.
func decodeExportRequest(r *http.Request) (ExportRequest, store.Query, error) {
	var req ExportRequest
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxExportRequestBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, store.Query{}, fmt.Errorf("the body must be an export request (JSON): %v", err)
	}
	account, err := store.ParseAccountKey(req.Account)
	if err != nil {
		return req, store.Query{}, err
	}
	if len(req.Query) > 1024 {
		return req, store.Query{}, errors.New("query must be at most 1024 bytes")
	}
	if req.From != nil && req.To != nil && req.From.After(*req.To) {
		return req, store.Query{}, errors.New("from is after to")
	}
	if len(req.Formats) == 0 {
		req.Formats = export.AllFormats
	}
	for _, f := range req.Formats {
		if !slices.Contains(export.AllFormats, f) {
			return req, store.Query{}, fmt.Errorf("format %q is not one of %v", f, export.AllFormats)
		}
	}
	if req.ExportID == "" {
		req.ExportID = "export-" + capture.NewID(time.Now())
	}
	q := store.Query{Account: account, Text: req.Query, From: req.From, To: req.To, Limit: exportPage,
		Custodian: req.Custodian, Conversation: req.Conversation, Category: req.Category, MinSeverity: req.Severity}
	if err := q.ValidateFilters(); err != nil {
		return req, q, err
	}
	return req, q, nil
}

// exportItems lists the records and pairs each with its log leaf. Records
// whose leaf the checkpoint does not cover arrived after the export began
// and are left out.
func (s *Server) exportItems(ctx context.Context, l store.Log, q store.Query, size uint64) iter.Seq2[export.Item, error] {
	return func(yield func(export.Item, error) bool) {
		for {
			page, next, err := s.store.List(ctx, q)
			if err != nil {
				yield(export.Item{}, err)
				return
			}
			for _, sr := range page {
				idx, err := l.RecordLeafIndex(ctx, sr.Record.ID)
				if err != nil {
					yield(export.Item{}, fmt.Errorf("while finding the leaf of record %s: %w", sr.Record.ID, err))
					return
				}
				if idx >= size {
					continue
				}
				leaves, err := l.Leaves(ctx, idx, 1)
				if err != nil || len(leaves) != 1 {
					yield(export.Item{}, fmt.Errorf("while reading leaf %d: %v", idx, err))
					return
				}
				item := export.Item{Record: sr, RecordBytes: sr.RecordBytes, FindingsBytes: sr.FindingsBytes, LeafIndex: idx, Leaf: leaves[0]}
				if !yield(item, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			q.After = next
		}
	}
}

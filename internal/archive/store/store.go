// Package store defines the archive's storage contract. The embedded SQLite
// backend implements it now; PostgreSQL, S3 content segments, the
// tamper-evident log and envelope encryption plug in behind the same
// interface, and every backend must pass the conformance suite in storetest.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/vigil-operator/vigil/internal/capture"
)

// AccountKey names a MonitoredAccount in the archive: "namespace/name". It
// outlives the MonitoredAccount: records stay under retention and holds after
// the account is deleted.
type AccountKey string

// ParseAccountKey validates "namespace/name".
func ParseAccountKey(s string) (AccountKey, error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok || strings.Contains(name, "/") {
		return "", fmt.Errorf("account %q must be namespace/name", truncate(s))
	}
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return "", fmt.Errorf("account namespace %q: %s", truncate(ns), errs[0])
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return "", fmt.Errorf("account name %q: %s", truncate(name), errs[0])
	}
	return AccountKey(s), nil
}

// Namespace of the account.
func (k AccountKey) Namespace() string { ns, _, _ := strings.Cut(string(k), "/"); return ns }

// Name of the account.
func (k AccountKey) Name() string { _, name, _ := strings.Cut(string(k), "/"); return name }

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// Errors callers tell apart.
var (
	ErrNotFound = errors.New("not found")
	ErrInvalid  = errors.New("invalid request")
	ErrClosed   = errors.New("store is closed")
)

// IngestResult counts what an ingest stored.
type IngestResult struct {
	Inserted   int `json:"inserted"`
	Duplicates int `json:"duplicates"`
}

// AccountStats summarises an account's archive.
type AccountStats struct {
	MessagesCaptured int64 `json:"messagesCaptured"`
	// LastMessageTime is the send time of the newest record.
	LastMessageTime *time.Time `json:"lastMessageTime,omitempty"`
	// LastCaptureTime is when the archive last stored a record for the account.
	LastCaptureTime *time.Time `json:"lastCaptureTime,omitempty"`
	FindingsTotal   int64      `json:"findingsTotal"`
	FindingsOpen    int64      `json:"findingsOpen"`
}

// PurgeRequest asks to delete records past retention.
type PurgeRequest struct {
	Accounts []AccountKey `json:"accounts"`
	// Cutoff: records sent strictly before it are eligible.
	Cutoff time.Time `json:"cutoff"`
	DryRun bool      `json:"dryRun,omitempty"`
	// MaxRecords caps the records deleted by one request.
	MaxRecords int `json:"maxRecords"`
	// Rule is the RetentionRule ("namespace/name") that asked.
	Rule string `json:"rule"`
	// Actor is who asked, for the audit trail.
	Actor string `json:"actor"`
}

// Validate checks a purge request.
func (r *PurgeRequest) Validate() error {
	switch {
	case len(r.Accounts) == 0:
		return fmt.Errorf("%w: a purge names at least one account", ErrInvalid)
	case r.Cutoff.IsZero():
		return fmt.Errorf("%w: a purge needs a cutoff", ErrInvalid)
	case r.MaxRecords <= 0:
		return fmt.Errorf("%w: maxRecords must be positive", ErrInvalid)
	case r.Rule == "":
		return fmt.Errorf("%w: a purge names the retention rule that asked for it", ErrInvalid)
	}
	for _, a := range r.Accounts {
		if _, err := ParseAccountKey(string(a)); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	return nil
}

// PurgeReport is what a purge did. The certificate is the archive's record of
// it: the request, the counts and a digest of the purged record ids.
type PurgeReport struct {
	Purged   int64 `json:"purged"`
	HeldBack int64 `json:"heldBack"`
	Eligible int64 `json:"eligible"`
	// KeysDestroyed counts the data keys crypto-shredded by the purge.
	KeysDestroyed     int       `json:"keysDestroyed,omitempty"`
	DryRun            bool      `json:"dryRun,omitempty"`
	CertificateID     string    `json:"certificateID"`
	CertificateSHA256 string    `json:"certificateSHA256"`
	Started           time.Time `json:"started"`
	Finished          time.Time `json:"finished"`
}

// Hold freezes matching records against purge. A record matches when its
// account is in Accounts or its custodian in Custodians, it was sent within
// From and To (when set, inclusive), and its text contains Query (when set).
type Hold struct {
	ID         string       `json:"id"`
	Accounts   []AccountKey `json:"accounts,omitempty"`
	Custodians []string     `json:"custodians,omitempty"`
	From       *time.Time   `json:"from,omitempty"`
	To         *time.Time   `json:"to,omitempty"`
	Query      string       `json:"query,omitempty"`
	Reason     string       `json:"reason"`
	Actor      string       `json:"actor"`
}

// Validate checks a hold.
func (h *Hold) Validate() error {
	switch {
	case h.ID == "" || len(h.ID) > 512:
		return fmt.Errorf("%w: a hold needs an id of at most 512 bytes", ErrInvalid)
	case len(h.Accounts) == 0 && len(h.Custodians) == 0:
		return fmt.Errorf("%w: a hold needs accounts or custodians", ErrInvalid)
	case h.From != nil && h.To != nil && h.From.After(*h.To):
		return fmt.Errorf("%w: from is after to", ErrInvalid)
	case strings.TrimSpace(h.Reason) == "":
		return fmt.Errorf("%w: a hold needs a reason", ErrInvalid)
	case len(h.Query) > 1024:
		return fmt.Errorf("%w: query is longer than 1024 bytes", ErrInvalid)
	}
	for _, a := range h.Accounts {
		if _, err := ParseAccountKey(string(a)); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	return nil
}

// HoldStatus reports a hold.
type HoldStatus struct {
	ID            string     `json:"id"`
	Active        bool       `json:"active"`
	RecordsHeld   int64      `json:"recordsHeld"`
	Accounts      int        `json:"accounts"`
	CreatedAt     time.Time  `json:"createdAt"`
	ReleasedAt    *time.Time `json:"releasedAt,omitempty"`
	ReleaseReason string     `json:"releaseReason,omitempty"`
}

// Query selects records to list.
type Query struct {
	Account AccountKey
	// Text is a search query (docs/search.md): words, Chinese runs matched
	// by character pairs in any script, "phrases", -exclusions and OR.
	Text string
	From *time.Time
	To   *time.Time
	// Custodian, Conversation and Category, when set, keep records with
	// that custodian, conversation id, or a finding of that category;
	// MinSeverity keeps records with a finding at least that severe.
	Custodian    string
	Conversation string
	Category     string
	MinSeverity  string
	Limit        int
	// After is the cursor returned by the previous page. Pages come in the
	// order the archive stored the records (the log's order).
	After string
}

// MaxListLimit bounds one page of List.
const MaxListLimit = 1000

// StoredRecord is a record as the archive holds it.
type StoredRecord struct {
	Record     capture.Record    `json:"record"`
	Findings   []capture.Finding `json:"findings,omitempty"`
	Account    AccountKey        `json:"account"`
	Custodian  string            `json:"custodian"`
	IngestedAt time.Time         `json:"ingestedAt"`
	// RecordBytes and FindingsBytes are the record and findings exactly as
	// the log's record leaf hashes them, for exports that prove each record.
	RecordBytes   []byte `json:"-"`
	FindingsBytes []byte `json:"-"`
}

// AuditEvent is one entry of the archive's audit trail. Every ingest batch,
// purge and hold change is one; the tamper-evident log will commit to them.
type AuditEvent struct {
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Subject string    `json:"subject"`
	Detail  string    `json:"detail,omitempty"`
}

// Audit actions.
const (
	AuditIngest      = "ingest"
	AuditPurge       = "purge"
	AuditHoldPut     = "hold.put"
	AuditHoldRelease = "hold.release"
	// AuditKeyDestroyed is the crypto-shred of a data key by a purge; the
	// subject is the key id and the detail its keys.Destruction.
	AuditKeyDestroyed = "key.destroyed"
	// AuditRead is a person's read of archived content (a listing or search).
	AuditRead = "records.read"
	// AuditExport is an export of archived content for eDiscovery.
	AuditExport = "records.export"
)

// ValidateAccess checks that action is one RecordAccess records.
func ValidateAccess(action string) error {
	if action != AuditRead && action != AuditExport {
		return fmt.Errorf("%w: %q is not an access to record (want %s or %s)", ErrInvalid, action, AuditRead, AuditExport)
	}
	return nil
}

// Store is the archive's storage. Every method is safe for concurrent use.
type Store interface {
	// Ingest stores envelopes for an account, idempotently on each record's
	// dedupKey, all or nothing, and returns only once they are durable.
	Ingest(ctx context.Context, account AccountKey, custodian, actor string, envs []capture.Envelope) (IngestResult, error)
	Stats(ctx context.Context, account AccountKey) (AccountStats, error)
	// Purge deletes eligible records not under any active hold, checking holds
	// in the same transaction as the deletes.
	Purge(ctx context.Context, req PurgeRequest) (PurgeReport, error)
	PutHold(ctx context.Context, h Hold) (HoldStatus, error)
	// ReleaseHold records the release; the hold's row is kept.
	ReleaseHold(ctx context.Context, id, reason, actor string) (HoldStatus, error)
	GetHold(ctx context.Context, id string) (HoldStatus, error)
	List(ctx context.Context, q Query) ([]StoredRecord, string, error)
	// Audit returns the audit trail after a sequence number, oldest first.
	Audit(ctx context.Context, after int64, limit int) ([]AuditEvent, int64, error)
	// RecordAccess appends a read or an export (AuditRead, AuditExport) to
	// the audit trail, durably, before the content is returned, so no read
	// of the archive goes unrecorded.
	RecordAccess(ctx context.Context, actor, action, subject, detail string) error
	Ping(ctx context.Context) error
	Close() error
}

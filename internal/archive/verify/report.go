// Package verify is the auditor's offline check that an archive has not been
// altered: it rehashes the tamper-evident log, checks its signed checkpoints
// against a pinned key, and checks that every stored record, audit event and
// purge certificate is the one the log committed to. It reads a data folder
// (read-only) or a served archive's log endpoints, and never writes to either.
package verify

import (
	"fmt"
	"io"
	"strings"
)

// Kind names a class of problem, stable for machines reading --json.
type Kind string

// The kinds of problem verify reports.
const (
	// KindLeafSequence: log_leaves indexes are not 0, 1, 2, … (a leaf was
	// deleted or inserted).
	KindLeafSequence Kind = "leaf-sequence"
	// KindLeafHash: a stored leaf hash is not the hash of the stored body.
	KindLeafHash Kind = "leaf-hash"
	// KindLeafFormat: a leaf body is not a canonical store.Leaf, or its
	// record_id column disagrees with it.
	KindLeafFormat Kind = "leaf-format"
	// KindCheckpointSignature: a checkpoint does not verify with the pinned
	// key and origin, or is not a well-formed checkpoint.
	KindCheckpointSignature Kind = "checkpoint-signature"
	// KindCheckpointRoot: a checkpoint's root is not the root of the leaves
	// at its size, or it claims more leaves than the log has.
	KindCheckpointRoot Kind = "checkpoint-root"
	// KindCheckpointMissing: the log has leaves but no checkpoint.
	KindCheckpointMissing Kind = "checkpoint-missing"
	// KindPreviousCheckpoint: the auditor's earlier checkpoint does not
	// verify, or the current log does not extend it.
	KindPreviousCheckpoint Kind = "previous-checkpoint"
	// KindRecord: a stored record differs from what its leaf commits to, or
	// has no leaf.
	KindRecord Kind = "record"
	// KindRecordMissing: a logged record is gone and no purge explains it.
	KindRecordMissing Kind = "record-missing"
	// KindAudit: the audit_events table differs from the audit leaves.
	KindAudit Kind = "audit"
	// KindPurgeCertificate: a purge certificate was altered, deleted, or is
	// not the one its purge logged.
	KindPurgeCertificate Kind = "purge-certificate"
	// KindPurgeEligibility: a purge removed a record that had not left
	// retention under its cutoff, or of an account it did not name.
	KindPurgeEligibility Kind = "purge-eligibility"
	// KindDataKey: the key store disagrees with the records and the log: a
	// record sealed under a missing or destroyed key, a destruction that
	// was not logged or certified, or a destroyed key that came back.
	KindDataKey Kind = "data-key"
	// KindIndex: the search index disagrees with the records: entries of a
	// record that is gone, or a record missing or altered in it.
	KindIndex Kind = "index"
	// KindSegment: the WORM copy in segments disagrees with the database,
	// or a segment does not verify.
	KindSegment Kind = "segment"
	// KindHold: the holds tables differ from the holds the audit trail
	// placed and released.
	KindHold Kind = "hold"
	// KindServedVerifier: the served verifier key is not the pinned one.
	KindServedVerifier Kind = "served-verifier"
	// KindServedLeaves: the server did not serve the leaves its checkpoint
	// covers.
	KindServedLeaves Kind = "served-leaves"
)

// Problem is one finding: what is wrong and where.
type Problem struct {
	Kind  Kind   `json:"kind"`
	Where string `json:"where"`
	What  string `json:"what"`
}

func (p Problem) String() string { return fmt.Sprintf("%s: %s: %s", p.Kind, p.Where, p.What) }

// Counts are what was examined.
type Counts struct {
	Leaves       uint64 `json:"leaves"`
	RecordLeaves uint64 `json:"recordLeaves"`
	AuditLeaves  uint64 `json:"auditLeaves"`
	Records      uint64 `json:"records"`
	// RecordsOpened were decrypted with the key-encryption key given.
	RecordsOpened     uint64 `json:"recordsOpened,omitempty"`
	AuditEvents       uint64 `json:"auditEvents"`
	Checkpoints       uint64 `json:"checkpoints"`
	PurgeCertificates uint64 `json:"purgeCertificates"`
	// PurgedRecords are logged records whose content a purge removed.
	PurgedRecords uint64 `json:"purgedRecords"`
	DataKeys      uint64 `json:"dataKeys"`
	// Segments are live segment objects; RecordsInSegments were read back
	// from them and matched the database.
	Segments          uint64 `json:"segments,omitempty"`
	RecordsInSegments uint64 `json:"recordsInSegments,omitempty"`
	// DestroyedKeys are data keys crypto-shredded by purges.
	DestroyedKeys uint64 `json:"destroyedKeys"`
}

// CheckpointSummary describes the newest checkpoint that verified.
type CheckpointSummary struct {
	Origin string `json:"origin"`
	Size   uint64 `json:"size"`
	Root   string `json:"root"`
}

// Report is the outcome of one verification.
type Report struct {
	// Source is the data folder or URL verified.
	Source string `json:"source"`
	// Verifier is the key checkpoints were verified with (vkey format).
	Verifier   string             `json:"verifier"`
	Counts     Counts             `json:"counts"`
	Checkpoint *CheckpointSummary `json:"checkpoint,omitempty"`
	Problems   []Problem          `json:"problems"`
	// Notes are warnings and what was not verified; they are not problems.
	Notes []string `json:"notes"`
	// NewestNote is the newest signed checkpoint that verified, to keep
	// for the next run's --previous-checkpoint.
	NewestNote []byte `json:"-"`
}

// OK reports whether no problem was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) problem(kind Kind, where, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Kind: kind, Where: where, What: fmt.Sprintf(format, args...)})
}

func (r *Report) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// Kinds is the set of problem kinds found.
func (r *Report) Kinds() map[Kind]int {
	kinds := map[Kind]int{}
	for _, p := range r.Problems {
		kinds[p.Kind]++
	}
	return kinds
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "vigil verify: %s\n", r.Source)
	fmt.Fprintf(&b, "verifier key:  %s\n", r.Verifier)
	if r.Checkpoint != nil {
		fmt.Fprintf(&b, "checkpoint:    %s, size %d, root %s\n", r.Checkpoint.Origin, r.Checkpoint.Size, r.Checkpoint.Root)
	}
	c := r.Counts
	fmt.Fprintf(&b, "leaves:        %d (%d record, %d audit)\n", c.Leaves, c.RecordLeaves, c.AuditLeaves)
	fmt.Fprintf(&b, "records:       %d stored, %d purged\n", c.Records, c.PurgedRecords)
	fmt.Fprintf(&b, "audit events:  %d\n", c.AuditEvents)
	fmt.Fprintf(&b, "checkpoints:   %d\n", c.Checkpoints)
	fmt.Fprintf(&b, "purge certificates: %d\n", c.PurgeCertificates)
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if r.OK() {
		b.WriteString("OK: no problem found\n")
	} else {
		fmt.Fprintf(&b, "%d PROBLEMS:\n", len(r.Problems))
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "  %s\n", p)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

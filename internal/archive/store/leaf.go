package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

// LeafVersion is the version of the leaf encoding below.
const LeafVersion = 1

// Leaf types. Every record the archive stores and every action taken on the
// archive (the audit trail: ingest batches, reads, holds, purges) is one leaf
// of the tamper-evident log, so the trail SEC 17a-4's audit-trail
// alternative asks for cannot be edited without breaking the log.
const (
	LeafRecord = "record"
	LeafAudit  = "audit"
)

// Leaf is what the log commits to. It holds identifiers and hashes, never
// message content: leaves stay after a purge, so inclusion and consistency
// proofs stay valid while the content is gone for good.
type Leaf struct {
	Version int    `json:"v"`
	Type    string `json:"type"`
	// At is when the archive appended the leaf, in unix nanoseconds.
	At int64 `json:"at"`
	// Record leaves.
	Account        string `json:"account,omitempty"`
	RecordID       string `json:"record,omitempty"`
	DedupKey       string `json:"dedupKey,omitempty"`
	RecordSHA256   string `json:"recordSHA256,omitempty"`
	FindingsSHA256 string `json:"findingsSHA256,omitempty"`
	// SentAt (unix nanoseconds) is what purges select on: committing to it
	// lets an auditor check, after a purge removed the record, that it had
	// left retention under the purge's cutoff.
	SentAt int64 `json:"sentAt,omitempty"`
	// KeyID is the data key the record is sealed under, and the SHA-256 of
	// the ciphertexts as stored: a verifier without the key still finds any
	// change to the stored bytes, and a destroyed key's records are known.
	KeyID                string `json:"keyID,omitempty"`
	SealedSHA256         string `json:"sealedSHA256,omitempty"`
	SealedFindingsSHA256 string `json:"sealedFindingsSHA256,omitempty"`
	// CustodianSHA256 commits to the custodian the record was filed under
	// (by hash: leaves are served to auditors, names need not be), which
	// custodian-scoped legal holds select on.
	CustodianSHA256 string `json:"custodianSHA256,omitempty"`
	// Audit leaves. The detail (a search query, say) is committed to by
	// hash only: it may itself be sensitive.
	Actor        string `json:"actor,omitempty"`
	Action       string `json:"action,omitempty"`
	Subject      string `json:"subject,omitempty"`
	DetailSHA256 string `json:"detailSHA256,omitempty"`
}

// RecordLeaf commits to a stored record: its identity and the SHA-256 of the
// exact bytes stored for the record and its findings.
func RecordLeaf(at time.Time, account AccountKey, recordID, dedupKey string, recordBytes, findingsBytes []byte) Leaf {
	l := Leaf{Version: LeafVersion, Type: LeafRecord, At: at.UTC().UnixNano(), Account: string(account),
		RecordID: recordID, DedupKey: dedupKey, RecordSHA256: sha256Hex(recordBytes)}
	if len(findingsBytes) > 0 {
		l.FindingsSHA256 = sha256Hex(findingsBytes)
	}
	return l
}

// Sealed adds to a record leaf the send time and the encrypted form in
// which the record is stored.
func (l Leaf) Sealed(sentAt time.Time, keyID string, sealedRecord, sealedFindings []byte) Leaf {
	l.SentAt = sentAt.UTC().UnixNano()
	l.KeyID = keyID
	l.SealedSHA256 = sha256Hex(sealedRecord)
	if len(sealedFindings) > 0 {
		l.SealedFindingsSHA256 = sha256Hex(sealedFindings)
	}
	return l
}

// FiledUnder adds to a record leaf the custodian the record is filed under.
func (l Leaf) FiledUnder(custodian string) Leaf {
	l.CustodianSHA256 = sha256Hex([]byte(custodian))
	return l
}

// AuditLeaf commits to one audit event.
func AuditLeaf(at time.Time, actor, action, subject, detail string) Leaf {
	return Leaf{Version: LeafVersion, Type: LeafAudit, At: at.UTC().UnixNano(), Actor: actor, Action: action,
		Subject: subject, DetailSHA256: sha256Hex([]byte(detail))}
}

// Encode is the leaf's canonical bytes: JSON with the fields in declaration
// order and empty ones omitted, which is what the leaf hash covers.
func (l Leaf) Encode() []byte {
	b, err := json.Marshal(l)
	if err != nil {
		// Only strings and integers: marshalling cannot fail.
		panic("store: encoding a log leaf: " + err.Error())
	}
	return b
}

// Hash is the RFC 6962 leaf hash of the canonical bytes.
func (l Leaf) Hash() tlog.Hash { return tlog.LeafHash(l.Encode()) }

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Log is the tamper-evident log a backend keeps beside its records.
type Log interface {
	// Checkpoint returns the newest signed checkpoint (a C2SP signed note).
	Checkpoint(ctx context.Context) ([]byte, error)
	// Leaves returns the canonical bytes of leaves [start, start+count).
	Leaves(ctx context.Context, start uint64, count int) ([][]byte, error)
	// InclusionProof proves leaf index is in the tree of the given size.
	InclusionProof(ctx context.Context, index, size uint64) ([]tlog.Hash, error)
	// ConsistencyProof proves the tree of size2 extends the tree of size1.
	ConsistencyProof(ctx context.Context, size1, size2 uint64) ([]tlog.Hash, error)
	// TreeHashes reads the perfect-subtree hashes of the tree of the given
	// size (at most the log's size), from which C2SP tlog-tiles hash tiles
	// are cut. The function refuses any subtree not complete within size,
	// so a tile built from it cannot carry a hash beyond the checkpoint it
	// is served for. It stays valid as the log grows: the tree is
	// append-only, so those hashes never change.
	TreeHashes(ctx context.Context, size uint64) (tlog.HashAtFunc, error)
	// RecordLeafIndex is the index of a record's leaf.
	RecordLeafIndex(ctx context.Context, recordID string) (uint64, error)
	// Origin is the first line of every checkpoint.
	Origin() string
	// Verifier checks the checkpoints' signatures.
	Verifier() *tlog.Verifier
}

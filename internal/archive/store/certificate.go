package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/capture"
)

// PurgeCertificate is the archive's record of one purge, the same in every
// backend: stored, and logged as the purge audit event's detail, so its
// SHA-256 is in the tamper-evident log. vigil verify reads it back.
type PurgeCertificate struct {
	ID       string       `json:"id"`
	Request  PurgeRequest `json:"request"`
	Eligible int64        `json:"eligible"`
	Purged   int64        `json:"purged"`
	HeldBack int64        `json:"heldBack"`
	DryRun   bool         `json:"dryRun"`
	// PurgedIDsSHA256 is sha256 over the purged record ids, sorted, one a line.
	PurgedIDsSHA256 string `json:"purgedIDsSHA256"`
	// PurgedRecords are those ids, so an auditor can check each against
	// its log leaf: sent before the cutoff, of an account named here.
	PurgedRecords []string `json:"purgedRecords,omitempty"`
	// DestroyedKeys are the data keys crypto-shredded because no record
	// sealed under them remained and their month had left retention.
	DestroyedKeys []keys.Destruction `json:"destroyedKeys,omitempty"`
	At            string             `json:"at"`
}

// NewPurgeCertificate certifies a purge of the records with the given ids
// (sorted here) and the keys it destroyed.
func NewPurgeCertificate(at time.Time, req PurgeRequest, report PurgeReport, ids []string, destroyed []keys.Destruction) PurgeCertificate {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return PurgeCertificate{
		ID: capture.NewID(at), Request: req, Eligible: report.Eligible, Purged: report.Purged,
		HeldBack: report.HeldBack, DryRun: req.DryRun, PurgedIDsSHA256: PurgedIDsDigest(ids),
		PurgedRecords: ids, DestroyedKeys: destroyed,
		At: at.UTC().Format("2006-01-02T15:04:05.000000000Z07:00"),
	}
}

// PurgedIDsDigest is the hex SHA-256 of sorted ids, one a line.
func PurgedIDsDigest(sortedIDs []string) string {
	sum := sha256.Sum256([]byte(strings.Join(sortedIDs, "\n")))
	return hex.EncodeToString(sum[:])
}

// Seal encodes the certificate and returns its bytes and their hex SHA-256.
func (c PurgeCertificate) Seal() ([]byte, string, error) {
	body, err := json.Marshal(c)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(body)
	return body, hex.EncodeToString(sum[:]), nil
}

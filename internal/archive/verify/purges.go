package verify

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/vigil-operator/vigil/internal/archive/store"
)

// purgeCertificate is the body the sqlite store writes for each purge
// (internal/archive/store/sqlite/purge.go). The store also logs the body as
// the purge audit event's detail, so the purge leaf's detailSHA256 is the
// certificate's SHA-256: that is what ties a certificate to the log.
type purgeCertificate struct {
	ID              string             `json:"id"`
	Request         store.PurgeRequest `json:"request"`
	Purged          int64              `json:"purged"`
	DryRun          bool               `json:"dryRun"`
	PurgedIDsSHA256 string             `json:"purgedIDsSHA256"`
}

// purgeLeaf is a purge audit leaf and the certificate it logged, when one
// is stored intact.
type purgeLeaf struct {
	pos  int
	cert *purgeCertificate
}

// purgeIndex answers which purges could have removed a record.
type purgeIndex struct {
	leaves []purgeLeaf
}

// explains reports whether a purge logged after position pos could have
// removed a record of account. A purge whose certificate is gone is given
// the benefit of the doubt here: its missing certificate is its own problem.
func (p *purgeIndex) explains(pos int, account string) bool {
	for _, l := range p.leaves {
		if l.pos <= pos {
			continue
		}
		if l.cert == nil {
			return true
		}
		if !l.cert.DryRun && slices.Contains(l.cert.Request.Accounts, store.AccountKey(account)) {
			return true
		}
	}
	return false
}

// purgedTotal is the number of records the certificates say were purged,
// and whether every purge leaf has its certificate (else the sum is short).
func (p *purgeIndex) purgedTotal() (uint64, bool) {
	var total uint64
	for _, l := range p.leaves {
		if l.cert == nil {
			return 0, false
		}
		if !l.cert.DryRun {
			total += uint64(l.cert.Purged)
		}
	}
	return total, true
}

// checkPurgeCertificates checks each stored certificate's SHA-256 against
// its body, and matches certificates and purge audit leaves one to one by
// that hash: an altered, deleted or forged certificate breaks the match.
func checkPurgeCertificates(ctx context.Context, tx *sql.Tx, r *Report, log *logView) (*purgeIndex, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, rule, body, sha256 FROM purge_certificates ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("while reading the purge certificates: %w", err)
	}
	defer rows.Close()
	type stored struct {
		id, rule string
		cert     *purgeCertificate
		logged   bool
	}
	byHash := map[string]*stored{}
	var order []string
	for rows.Next() {
		var id, rule, storedSHA string
		var body []byte
		if err := rows.Scan(&id, &rule, &body, &storedSHA); err != nil {
			return nil, fmt.Errorf("while reading the purge certificates: %w", err)
		}
		r.Counts.PurgeCertificates++
		where := "purge certificate " + id
		actual := sha256Hex(body)
		if actual != storedSHA {
			r.problem(KindPurgeCertificate, where, "its body hashes to %s but its recorded sha256 is %s: the certificate was altered", actual, storedSHA)
		}
		var cert purgeCertificate
		if err := json.Unmarshal(body, &cert); err != nil {
			r.problem(KindPurgeCertificate, where, "the body is not a purge certificate: %v", err)
			continue
		}
		if cert.ID != id || cert.Request.Rule != rule {
			r.problem(KindPurgeCertificate, where, "the row (id %q, rule %q) does not match its body (id %q, rule %q)", id, rule, cert.ID, cert.Request.Rule)
		}
		byHash[actual] = &stored{id: id, rule: rule, cert: &cert}
		order = append(order, actual)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("while reading the purge certificates: %w", err)
	}

	index := &purgeIndex{}
	for pos, l := range log.leaves {
		if !l.Valid || l.Leaf.Type != store.LeafAudit || l.Leaf.Action != store.AuditPurge {
			continue
		}
		pl := purgeLeaf{pos: pos}
		if s := byHash[l.Leaf.DetailSHA256]; s != nil && !s.logged {
			s.logged, pl.cert = true, s.cert
			if s.cert.Request.Rule != l.Leaf.Subject {
				r.problem(KindPurgeCertificate, "purge certificate "+s.id, "for rule %q but its purge was logged for %q", s.cert.Request.Rule, l.Leaf.Subject)
			}
		} else {
			r.problem(KindPurgeCertificate, l.Where, "the purge by %s for %s logged certificate hash %s, and no stored certificate has it (deleted or altered)",
				l.Leaf.Actor, l.Leaf.Subject, l.Leaf.DetailSHA256)
		}
		index.leaves = append(index.leaves, pl)
	}
	for _, h := range order {
		if s := byHash[h]; !s.logged {
			r.problem(KindPurgeCertificate, "purge certificate "+s.id, "no purge audit leaf logged a certificate with hash %s (altered or forged)", h)
		}
	}
	if len(index.leaves) > 0 {
		r.note("purge certificates carry only a digest of the purged record ids, not the ids: which purge removed which record is not verified, " +
			"only that a later purge covering the record's account exists and that the certificates' purged counts cover the missing records")
	}
	return index, nil
}

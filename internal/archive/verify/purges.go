package verify

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/store"
)

// purgeCertificate is the body the sqlite store writes for each purge
// (internal/archive/store/sqlite/purge.go). The store also logs the body as
// the purge audit event's detail, so the purge leaf's detailSHA256 is the
// certificate's SHA-256: that is what ties a certificate to the log.
type purgeCertificate struct {
	store.PurgeCertificate

	purged map[string]bool
}

// listsRecords says whether the certificate names the records it purged
// (certificates from before schema 5 hold only their digest).
func (c *purgeCertificate) listsRecords() bool { return c.PurgedRecords != nil || c.Purged == 0 }

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

// explains reports whether a purge logged after position pos removed the
// record with the given leaf, and reports a purge that did so although the
// record was not eligible. A purge whose certificate is gone, or predates
// the list of purged ids, is given the benefit of the doubt when it covers
// the account: its own problems are reported on their own.
func (p *purgeIndex) explains(r *Report, pos int, leaf store.Leaf) bool {
	for _, l := range p.leaves {
		if l.pos <= pos {
			continue
		}
		if l.cert == nil {
			return true
		}
		if l.cert.DryRun {
			continue
		}
		named := slices.Contains(l.cert.Request.Accounts, store.AccountKey(leaf.Account))
		if !l.cert.listsRecords() {
			if named {
				return true
			}
			continue
		}
		if !l.cert.purged[leaf.RecordID] {
			continue
		}
		where := "purge certificate " + l.cert.ID
		if !named {
			r.problem(KindPurgeEligibility, where, "purged record %s of account %s, which the purge did not name", leaf.RecordID, leaf.Account)
		}
		if leaf.SentAt != 0 && leaf.SentAt >= l.cert.Request.Cutoff.UnixNano() {
			r.problem(KindPurgeEligibility, where, "purged record %s, sent %s, which had not left retention (cutoff %s)",
				leaf.RecordID, time.Unix(0, leaf.SentAt).UTC().Format(time.RFC3339Nano), l.cert.Request.Cutoff.UTC().Format(time.RFC3339Nano))
		}
		return true
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
		checkPurgedList(r, where, &cert)
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
	for _, l := range index.leaves {
		if l.cert != nil && !l.cert.listsRecords() {
			r.note("purge certificates written before schema 5 carry only a digest of the purged record ids: for those, which purge removed which record is not verified, " +
				"only that a later purge covering the record's account exists and that the certificates' purged counts cover the missing records")
			break
		}
	}
	return index, nil
}

// checkPurgedList checks a certificate's list of purged ids against its
// count and digest, and indexes it.
func checkPurgedList(r *Report, where string, cert *purgeCertificate) {
	if !cert.listsRecords() {
		return
	}
	cert.purged = make(map[string]bool, len(cert.PurgedRecords))
	for _, id := range cert.PurgedRecords {
		cert.purged[id] = true
	}
	sorted := slices.Sorted(maps.Keys(cert.purged))
	if got := sha256Hex([]byte(strings.Join(sorted, "\n"))); got != cert.PurgedIDsSHA256 && len(cert.PurgedRecords) > 0 {
		r.problem(KindPurgeCertificate, where, "its list of purged ids hashes to %s but it records %s", got, cert.PurgedIDsSHA256)
	}
	if int64(len(cert.purged)) != cert.Purged || len(sorted) != len(cert.PurgedRecords) {
		r.problem(KindPurgeCertificate, where, "it lists %d purged ids (%d distinct) but says %d records were purged", len(cert.PurgedRecords), len(sorted), cert.Purged)
	}
}

package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/capture"
)

// heldClause is true for a record (alias r) that any active hold covers.
const heldClause = `EXISTS (SELECT 1 FROM holds h WHERE h.released_at IS NULL
	AND (EXISTS (SELECT 1 FROM hold_accounts ha WHERE ha.hold_id = h.id AND ha.account = r.account)
	     OR EXISTS (SELECT 1 FROM hold_custodians hc WHERE hc.hold_id = h.id AND hc.custodian = r.custodian))
	AND (h.from_ns IS NULL OR r.sent_at >= h.from_ns)
	AND (h.to_ns IS NULL OR r.sent_at <= h.to_ns)
	AND (h.query = '' OR instr(r.text, h.query) > 0))`

// certificate is the archive's record of one purge. Its SHA-256 is returned to
// the RetentionRule; the tamper-evident log will sign it.
type certificate struct {
	ID       string             `json:"id"`
	Request  store.PurgeRequest `json:"request"`
	Eligible int64              `json:"eligible"`
	Purged   int64              `json:"purged"`
	HeldBack int64              `json:"heldBack"`
	DryRun   bool               `json:"dryRun"`
	// PurgedIDsSHA256 is sha256 over the purged record ids, sorted, one a line.
	PurgedIDsSHA256 string `json:"purgedIDsSHA256"`
	At              string `json:"at"`
}

// Purge deletes records of the given accounts sent before the cutoff, except
// those under an active hold. The hold check, the deletes, the statistics and
// the certificate are one transaction on the single writer, so no hold placed
// concurrently can be missed.
func (s *Store) Purge(ctx context.Context, req store.PurgeRequest) (store.PurgeReport, error) {
	if err := req.Validate(); err != nil {
		return store.PurgeReport{}, err
	}
	report := store.PurgeReport{Started: s.now().UTC(), DryRun: req.DryRun}
	err := s.exclusive(ctx, func(ctx context.Context, tx *sql.Tx) error {
		report.Purged, report.HeldBack, report.Eligible = 0, 0, 0
		accounts := make([]any, len(req.Accounts))
		for i, a := range req.Accounts {
			accounts[i] = string(a)
		}
		in := "(" + strings.TrimSuffix(strings.Repeat("?,", len(accounts)), ",") + ")"
		base := `FROM records r WHERE r.account IN ` + in + ` AND r.sent_at < ?`
		args := append(append([]any{}, accounts...), nanos(req.Cutoff))

		if err := tx.QueryRowContext(ctx, `SELECT count(*) `+base, args...).Scan(&report.Eligible); err != nil {
			return fmt.Errorf("while counting eligible records: %w", err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) `+base+` AND `+heldClause, args...).Scan(&report.HeldBack); err != nil {
			return fmt.Errorf("while counting held records: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT r.seq, r.id, r.account, r.findings_count, `+kindIsSystem("r")+` `+base+` AND NOT `+heldClause+
			` ORDER BY r.seq LIMIT ?`, append(args, req.MaxRecords)...)
		if err != nil {
			return fmt.Errorf("while selecting records to purge: %w", err)
		}
		type victim struct {
			seq      int64
			id       string
			account  string
			findings int64
			system   bool
		}
		var victims []victim
		for rows.Next() {
			var v victim
			if err := rows.Scan(&v.seq, &v.id, &v.account, &v.findings, &v.system); err != nil {
				rows.Close()
				return err
			}
			victims = append(victims, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		report.Purged = int64(len(victims))

		ids := make([]string, len(victims))
		for i, v := range victims {
			ids[i] = v.id
		}
		sort.Strings(ids)
		idsDigest := sha256.Sum256([]byte(strings.Join(ids, "\n")))

		if !req.DryRun && len(victims) > 0 {
			perAccount := map[string][2]int64{}
			del, err := tx.PrepareContext(ctx, `DELETE FROM records WHERE seq = ?`)
			if err != nil {
				return err
			}
			for _, v := range victims {
				if _, err := del.ExecContext(ctx, v.seq); err != nil {
					del.Close()
					return fmt.Errorf("while deleting record %s: %w", v.id, err)
				}
				if err := unindexRecord(ctx, tx, v.seq); err != nil {
					del.Close()
					return err
				}
				c := perAccount[v.account]
				if !v.system {
					c[0]++
				}
				perAccount[v.account] = [2]int64{c[0], c[1] + v.findings}
			}
			del.Close()
			for account, c := range perAccount {
				if _, err := tx.ExecContext(ctx, `UPDATE account_stats SET
					messages = messages - ?, findings_total = findings_total - ?, findings_open = max(0, findings_open - ?),
					last_message = (SELECT max(sent_at) FROM records r WHERE r.account = ? AND NOT `+kindIsSystem("r")+`)
					WHERE account = ?`, c[0], c[1], c[1], account, account); err != nil {
					return fmt.Errorf("while updating statistics of %s: %w", account, err)
				}
			}
		}

		cert := certificate{
			ID: capture.NewID(s.now()), Request: req, Eligible: report.Eligible, Purged: report.Purged,
			HeldBack: report.HeldBack, DryRun: req.DryRun, PurgedIDsSHA256: hex.EncodeToString(idsDigest[:]),
			At: s.now().UTC().Format("2006-01-02T15:04:05.000000000Z07:00"),
		}
		body, err := json.Marshal(cert)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		report.CertificateID = cert.ID
		report.CertificateSHA256 = hex.EncodeToString(sum[:])
		if _, err := tx.ExecContext(ctx, `INSERT INTO purge_certificates (id, rule, body, sha256, created_at) VALUES (?, ?, ?, ?, ?)`,
			cert.ID, req.Rule, body, report.CertificateSHA256, nanos(s.now())); err != nil {
			return fmt.Errorf("while storing the purge certificate: %w", err)
		}
		return s.audit(ctx, tx, req.Actor, store.AuditPurge, req.Rule, string(body))
	})
	if err != nil {
		return store.PurgeReport{}, err
	}
	report.Finished = s.now().UTC()
	return report, nil
}

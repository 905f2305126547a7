package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/store"
)

// Purge deletes records of the given accounts sent before the cutoff, except
// those under an active hold. The hold check, the deletes, the statistics and
// the certificate are one transaction on the single writer, so no hold placed
// concurrently can be missed.
func (s *Store) Purge(ctx context.Context, req store.PurgeRequest) (store.PurgeReport, error) {
	if err := req.Validate(); err != nil {
		return store.PurgeReport{}, err
	}
	report := store.PurgeReport{Started: s.now().UTC(), DryRun: req.DryRun}
	var shredded []keys.Destruction
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
		rows, err := tx.QueryContext(ctx, `SELECT r.seq, r.id, r.account, r.findings_count, r.system, r.key_id `+base+` AND NOT `+heldClause+
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
			keyID    sql.NullString
		}
		var victims []victim
		for rows.Next() {
			var v victim
			if err := rows.Scan(&v.seq, &v.id, &v.account, &v.findings, &v.system, &v.keyID); err != nil {
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

		if !req.DryRun && len(victims) > 0 {
			perAccount := map[string][2]int64{}
			var unsealed keyCounts
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
				if v.keyID.Valid {
					unsealed.add(v.keyID.String, -1)
				}
				c := perAccount[v.account]
				if !v.system {
					c[0]++
				}
				perAccount[v.account] = [2]int64{c[0], c[1] + v.findings}
			}
			del.Close()
			if err := unsealed.apply(ctx, tx.StmtContext(ctx, s.stmts.countKeyRecords)); err != nil {
				return err
			}
			for account, c := range perAccount {
				if _, err := tx.ExecContext(ctx, `UPDATE account_stats SET
					messages = messages - ?, findings_total = findings_total - ?, findings_open = max(0, findings_open - ?),
					last_message = (SELECT max(sent_at) FROM records r WHERE r.account = ? AND NOT r.system)
					WHERE account = ?`, c[0], c[1], c[1], account, account); err != nil {
					return fmt.Errorf("while updating statistics of %s: %w", account, err)
				}
			}
		}

		var destroyed []keys.Destruction
		if !req.DryRun {
			if destroyed, err = s.destroyExpiredKeys(ctx, tx, req); err != nil {
				return err
			}
		}
		report.KeysDestroyed = len(destroyed)
		shredded = destroyed
		cert := store.NewPurgeCertificate(s.now(), req, report, ids, destroyed)
		body, sum, err := cert.Seal()
		if err != nil {
			return err
		}
		report.CertificateID = cert.ID
		report.CertificateSHA256 = sum
		if _, err := tx.ExecContext(ctx, `INSERT INTO purge_certificates (id, rule, body, sha256, created_at) VALUES (?, ?, ?, ?, ?)`,
			cert.ID, req.Rule, body, report.CertificateSHA256, nanos(s.now())); err != nil {
			return fmt.Errorf("while storing the purge certificate: %w", err)
		}
		return s.audit(ctx, tx, req.Actor, store.AuditPurge, req.Rule, string(body))
	})
	if err != nil {
		return store.PurgeReport{}, err
	}
	// The keys are gone from the database; drop the cached copies too.
	if err := s.sealer.Forget(ctx, shredded...); err != nil {
		return store.PurgeReport{}, err
	}
	report.Finished = s.now().UTC()
	return report, nil
}

// destroyExpiredKeys crypto-shreds, in the purge's transaction, every live
// data key of the purged accounts whose month lies wholly before the cutoff
// and under which no record remains: a record still held keeps its key, and
// so does a month that may still receive records within retention. Each
// destruction is an audit event (a leaf of the log) of its own.
func (s *Store) destroyExpiredKeys(ctx context.Context, tx *sql.Tx, req store.PurgeRequest) ([]keys.Destruction, error) {
	accounts := make([]any, 0, len(req.Accounts)+3)
	accounts = append(accounts, s.sealer.Tenant())
	for _, a := range req.Accounts {
		accounts = append(accounts, string(a))
	}
	in := "(" + strings.TrimSuffix(strings.Repeat("?,", len(req.Accounts)), ",") + ")"
	// "YYYY-MM" strings order like months; a month before the cutoff's own
	// month has ended by the cutoff.
	rows, err := tx.QueryContext(ctx, `SELECT id FROM data_keys k WHERE k.tenant = ? AND k.account IN `+in+`
		AND k.destroyed_at IS NULL AND k.bucket < ?
		AND k.records = 0 ORDER BY k.id`,
		append(accounts, keys.BucketOf(req.Cutoff).String())...)
	if err != nil {
		return nil, fmt.Errorf("while finding data keys to destroy: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]keys.Destruction, 0, len(ids))
	for _, id := range ids {
		tomb, err := destroyDataKey(ctx, tx, id, s.now())
		if err != nil {
			return nil, err
		}
		d := keys.DestructionOf(tomb)
		detail, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		if err := s.audit(ctx, tx, req.Actor, store.AuditKeyDestroyed, id, string(detail)); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

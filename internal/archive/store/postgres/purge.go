package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/store"
)

// victim is a record a purge deletes.
type victim struct {
	seq      int64
	id       string
	account  string
	findings int64
	system   bool
}

// Purge deletes records of the given accounts sent before the cutoff, except
// those under an active hold. The hold check, the deletes, the statistics,
// the key destructions and the certificate are one transaction. It holds
// the write lock every write takes (see inTx), PutHold's included, so a
// hold placed concurrently either committed before the purge's first
// statement, which then sees it, or waits for the purge to end. Explicit
// locking rather than SERIALIZABLE: serializable isolation may order the
// purge before a hold that committed while the purge ran, and aborts
// purges that overlap an ingest of old records; the log needs the lock
// anyway.
func (s *Store) Purge(ctx context.Context, req store.PurgeRequest) (store.PurgeReport, error) {
	if err := req.Validate(); err != nil {
		return store.PurgeReport{}, err
	}
	report := store.PurgeReport{Started: s.now().UTC(), DryRun: req.DryRun}
	var shredded []keys.Destruction
	err := s.exclusive(ctx, func(ctx context.Context, t *txn) error {
		var err error
		shredded, err = s.purge(ctx, t, req, &report)
		return err
	})
	if err != nil {
		return store.PurgeReport{}, err
	}
	// The keys are gone from the database; drop the cached copies too.
	if err := s.sealer.Forget(ctx, shredded...); err != nil {
		return store.PurgeReport{}, err
	}
	if len(shredded) > 0 {
		s.vacuumKeys(ctx)
	}
	report.Finished = s.now().UTC()
	return report, nil
}

// purge is Purge's transaction.
func (s *Store) purge(ctx context.Context, t *txn, req store.PurgeRequest, report *store.PurgeReport) ([]keys.Destruction, error) {
	accounts := accountStrings(req.Accounts)
	cutoff := nanos(req.Cutoff)
	base := `FROM records r WHERE r.account = ANY($1::text[]) AND r.sent_at < $2`
	if err := t.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE `+heldClause+`) `+base, accounts, cutoff).
		Scan(&report.Eligible, &report.HeldBack); err != nil {
		return nil, fmt.Errorf("while counting eligible records: %w", err)
	}
	victims, err := selectVictims(ctx, t, base, accounts, cutoff, req.MaxRecords)
	if err != nil {
		return nil, err
	}
	report.Purged = int64(len(victims))
	ids := make([]string, len(victims))
	for i, v := range victims {
		ids[i] = v.id
	}
	sort.Strings(ids)
	var destroyed []keys.Destruction
	if !req.DryRun {
		if err := deleteVictims(ctx, t, victims); err != nil {
			return nil, err
		}
		if destroyed, err = s.destroyExpiredKeys(ctx, t, req); err != nil {
			return nil, err
		}
	}
	report.KeysDestroyed = len(destroyed)
	return destroyed, s.certify(ctx, t, req, report, ids, destroyed)
}

func accountStrings(accounts []store.AccountKey) []string {
	out := make([]string, len(accounts))
	for i, a := range accounts {
		out[i] = string(a)
	}
	return out
}

func selectVictims(ctx context.Context, t *txn, base string, accounts []string, cutoff int64, limit int) ([]victim, error) {
	rows, err := t.Query(ctx, `SELECT r.seq, r.id, r.account, r.findings_count, r.system `+base+` AND NOT `+heldClause+
		` ORDER BY r.seq LIMIT $3`, accounts, cutoff, limit)
	if err != nil {
		return nil, fmt.Errorf("while selecting records to purge: %w", err)
	}
	victims, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (victim, error) {
		var v victim
		err := row.Scan(&v.seq, &v.id, &v.account, &v.findings, &v.system)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("while selecting records to purge: %w", err)
	}
	return victims, nil
}

// deleteVictims deletes the records (their search terms go with the row)
// and takes them out of their accounts' statistics.
func deleteVictims(ctx context.Context, t *txn, victims []victim) error {
	if len(victims) == 0 {
		return nil
	}
	seqs := make([]int64, len(victims))
	type counts struct{ messages, findings int64 }
	perAccount := map[string]counts{}
	for i, v := range victims {
		seqs[i] = v.seq
		c := perAccount[v.account]
		if !v.system {
			c.messages++
		}
		c.findings += v.findings
		perAccount[v.account] = c
	}
	if _, err := t.Exec(ctx, `DELETE FROM records WHERE seq = ANY($1::bigint[])`, seqs); err != nil {
		return fmt.Errorf("while deleting %d records: %w", len(seqs), err)
	}
	for account, c := range perAccount {
		if _, err := t.Exec(ctx, `UPDATE account_stats SET
			messages = messages - $1, findings_total = findings_total - $2, findings_open = greatest(0, findings_open - $2),
			last_message = (SELECT max(sent_at) FROM records r WHERE r.account = $3 AND NOT r.system)
			WHERE account = $3`, c.messages, c.findings, account); err != nil {
			return fmt.Errorf("while updating statistics of %s: %w", account, err)
		}
	}
	return nil
}

// certify stores the purge's certificate and audits the purge with it.
func (s *Store) certify(ctx context.Context, t *txn, req store.PurgeRequest, report *store.PurgeReport, ids []string, destroyed []keys.Destruction) error {
	cert := store.NewPurgeCertificate(s.now(), req, *report, ids, destroyed)
	body, sum, err := cert.Seal()
	if err != nil {
		return fmt.Errorf("while encoding the purge certificate: %w", err)
	}
	report.CertificateID = cert.ID
	report.CertificateSHA256 = sum
	if _, err := t.Exec(ctx, `INSERT INTO purge_certificates (id, rule, body, sha256, created_at) VALUES ($1, $2, $3, $4, $5)`,
		cert.ID, req.Rule, body, report.CertificateSHA256, nanos(s.now())); err != nil {
		return fmt.Errorf("while storing the purge certificate: %w", err)
	}
	s.audit(t, req.Actor, store.AuditPurge, req.Rule, string(body))
	return nil
}

// destroyExpiredKeys crypto-shreds, in the purge's transaction, every live
// data key of the purged accounts whose month lies wholly before the cutoff
// and under which no record remains: a record still held keeps its key, and
// so does a month that may still receive records within retention. Each
// destruction is an audit event (a leaf of the log) of its own.
func (s *Store) destroyExpiredKeys(ctx context.Context, t *txn, req store.PurgeRequest) ([]keys.Destruction, error) {
	// "YYYY-MM" strings order like months (the column sorts bytewise); a
	// month before the cutoff's own month has ended by the cutoff.
	rows, err := t.Query(ctx, `SELECT id FROM data_keys k WHERE k.tenant = $1 AND k.account = ANY($2::text[])
		AND k.destroyed_at IS NULL AND k.bucket < $3
		AND NOT EXISTS (SELECT 1 FROM records r WHERE r.key_id = k.id) ORDER BY k.id`,
		s.sealer.Tenant(), accountStrings(req.Accounts), keys.BucketOf(req.Cutoff).String())
	if err != nil {
		return nil, fmt.Errorf("while finding data keys to destroy: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("while finding data keys to destroy: %w", err)
	}
	out := make([]keys.Destruction, 0, len(ids))
	for _, id := range ids {
		tomb, err := destroyDataKey(ctx, t, id, s.now())
		if err != nil {
			return nil, err
		}
		d := keys.DestructionOf(tomb)
		detail, err := json.Marshal(d)
		if err != nil {
			return nil, fmt.Errorf("while encoding the destruction of %s: %w", id, err)
		}
		s.audit(t, req.Actor, store.AuditKeyDestroyed, id, string(detail))
		out = append(out, d)
	}
	return out, nil
}

// vacuumKeys asks PostgreSQL to reclaim the row versions that still hold
// the destroyed keys' wrapped bytes: an UPDATE leaves the old version in
// the table until a vacuum prunes it. Best effort: autovacuum gets there
// too, and the bytes may linger in WAL and backups either way (see
// docs/archive-postgres.md).
func (s *Store) vacuumKeys(ctx context.Context) {
	err := s.reader.with(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `VACUUM data_keys`)
		return err
	})
	if err != nil {
		s.log.Info("Could not vacuum data_keys after destroying keys; autovacuum will", "error", err.Error())
	}
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/sealing"
	"github.com/vigil-operator/vigil/internal/capture"
)

type ingestJob struct {
	account   store.AccountKey
	custodian string
	actor     string
	envs      []capture.Envelope
	// sealed[i] is envs[i] encoded and encrypted.
	sealed []sealing.Record
	result store.IngestResult
}

// errKeyDestroyed fails an ingest whose records were sealed under a data key
// that a purge destroyed meanwhile; Ingest seals them again and retries.
var errKeyDestroyed = errors.New("a data key the batch was sealed under was destroyed by a purge")

// maxSealAttempts bounds how often one Ingest reseals after losing a race
// with a purge; two suffice, since the second seal cannot pick a destroyed
// key.
const maxSealAttempts = 3

// Ingest stores a batch durably and idempotently.
func (s *Store) Ingest(ctx context.Context, account store.AccountKey, custodian, actor string, envs []capture.Envelope) (store.IngestResult, error) {
	if _, err := store.ParseAccountKey(string(account)); err != nil {
		return store.IngestResult{}, fmt.Errorf("%w: %v", store.ErrInvalid, err)
	}
	for i := range envs {
		if envs[i].Record == nil {
			return store.IngestResult{}, fmt.Errorf("%w: envelope %d has no record", store.ErrInvalid, i)
		}
		if err := envs[i].Record.Validate(); err != nil {
			return store.IngestResult{}, fmt.Errorf("%w: envelope %d: %v", store.ErrInvalid, i, err)
		}
	}
	if len(envs) == 0 {
		return store.IngestResult{}, nil
	}
	job := &ingestJob{account: account, custodian: custodian, actor: actor, envs: envs, sealed: make([]sealing.Record, len(envs))}
	for attempt := 1; ; attempt++ {
		for i := range envs {
			var err error
			if job.sealed[i], err = s.sealer.SealEnvelope(ctx, account, envs[i]); err != nil {
				return store.IngestResult{}, err
			}
		}
		err := s.submit(ctx, &writeJob{ingest: job})
		if errors.Is(err, errKeyDestroyed) && attempt < maxSealAttempts {
			// The purge forgets the keys it destroyed once it commits;
			// forget them here too, so the reseal cannot race that.
			ids := make([]string, len(job.sealed))
			for i := range job.sealed {
				ids[i] = job.sealed[i].KeyID
			}
			if err := s.sealer.ForgetDestroyed(ctx, keyStore{s}, ids...); err != nil {
				return store.IngestResult{}, err
			}
			continue
		}
		if err != nil {
			return store.IngestResult{}, err
		}
		return job.result, nil
	}
}

// applyIngest inserts one caller's batch inside the group's transaction and
// keeps the account's statistics in step.
func (s *Store) applyIngest(ctx context.Context, tx *sql.Tx, j *ingestJob) error {
	if err := checkKeysLive(ctx, tx, j.sealed); err != nil {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO records
		(id, account, custodian, dedup_key, sent_at, ingested_at, text, record, findings, findings_count, key_id, system,
		 conversation, categories, severity)
		VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account, dedup_key) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("while preparing the insert: %w", err)
	}
	defer stmt.Close()
	// Prepared once per batch: a statement parsed per row costs as much as
	// the insert.
	terms, err := tx.PrepareContext(ctx, insertTermsSQL)
	if err != nil {
		return fmt.Errorf("while preparing the search insert: %w", err)
	}
	defer terms.Close()
	leaves, err := tx.PrepareContext(ctx, insertLeafSQL)
	if err != nil {
		return fmt.Errorf("while preparing the log insert: %w", err)
	}
	defer leaves.Close()
	appendLeaf := func(args ...any) error {
		_, err := leaves.ExecContext(ctx, args...)
		return err
	}
	now := nanos(s.now())
	var inserted, messages, findings int64
	var lastSent int64
	for i := range j.envs {
		rec, sealed := j.envs[i].Record, &j.sealed[i]
		system := rec.Kind == capture.KindSystem
		facets := store.FacetsOf(rec, j.envs[i].Findings)
		res, err := stmt.ExecContext(ctx, rec.ID, string(j.account), j.custodian, rec.DedupKey, nanos(rec.SentAt), now,
			sealed.SealedBody, sealed.SealedFindings, len(j.envs[i].Findings), sealed.KeyID, system,
			facets.Conversation, facets.Categories, facets.Severity)
		if err != nil {
			return fmt.Errorf("while inserting record %s: %w", rec.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			seq, err := res.LastInsertId()
			if err != nil {
				return fmt.Errorf("while reading the position of record %s: %w", rec.ID, err)
			}
			if err := indexRecord(ctx, terms, seq, rec.Text); err != nil {
				return err
			}
			leaf := store.RecordLeaf(fromNanos(now), j.account, rec.ID, rec.DedupKey, sealed.Body, sealed.Findings).
				Sealed(rec.SentAt, sealed.KeyID, sealed.SealedBody, sealed.SealedFindings).FiledUnder(j.custodian)
			if err := s.appendLeafWith(appendLeaf, leaf, rec.ID); err != nil {
				return err
			}
			inserted++
			findings += int64(len(j.envs[i].Findings))
			// System records (capture checkpoints, gap notices) are
			// evidence about capture, not messages: they move the capture
			// time, not the message count or the last message time.
			if !system {
				messages++
				lastSent = max(lastSent, nanos(rec.SentAt))
			}
		}
	}
	j.result = store.IngestResult{Inserted: int(inserted), Duplicates: len(j.envs) - int(inserted)}
	if inserted > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_stats (account, messages, last_message, last_capture, findings_total, findings_open)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (account) DO UPDATE SET
				messages = messages + excluded.messages,
				last_message = max(coalesce(last_message, 0), excluded.last_message),
				last_capture = excluded.last_capture,
				findings_total = findings_total + excluded.findings_total,
				findings_open = findings_open + excluded.findings_open`,
			string(j.account), messages, lastSent, now, findings, findings); err != nil {
			return fmt.Errorf("while updating statistics of %s: %w", j.account, err)
		}
	}
	detail := fmt.Sprintf(`{"inserted":%d,"duplicates":%d}`, j.result.Inserted, j.result.Duplicates)
	return s.audit(ctx, tx, j.actor, store.AuditIngest, string(j.account), detail)
}

// checkKeysLive fails with errKeyDestroyed if a purge destroyed a data key
// the batch was sealed under after it was sealed: such a record could never
// be read. Purges run on this same writer, so the check cannot race them.
func checkKeysLive(ctx context.Context, tx *sql.Tx, sealed []sealing.Record) error {
	checked := map[string]bool{}
	for _, r := range sealed {
		if checked[r.KeyID] {
			continue
		}
		checked[r.KeyID] = true
		var destroyed sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT destroyed_at FROM data_keys WHERE id = ?`, r.KeyID).Scan(&destroyed)
		if err != nil {
			return fmt.Errorf("while checking data key %s: %w", r.KeyID, err)
		}
		if destroyed.Valid {
			return errKeyDestroyed
		}
	}
	return nil
}

// Stats reads an account's statistics; an account with no records has zeros.
func (s *Store) Stats(ctx context.Context, account store.AccountKey) (store.AccountStats, error) {
	var st store.AccountStats
	var lastMsg, lastCap sql.NullInt64
	err := s.reader.QueryRowContext(ctx, `SELECT messages, last_message, last_capture, findings_total, findings_open
		FROM account_stats WHERE account = ?`, string(account)).Scan(&st.MessagesCaptured, &lastMsg, &lastCap, &st.FindingsTotal, &st.FindingsOpen)
	if err == sql.ErrNoRows {
		return store.AccountStats{}, nil
	}
	if err != nil {
		return st, fmt.Errorf("while reading statistics of %s: %w", account, err)
	}
	if st.MessagesCaptured > 0 {
		st.LastMessageTime = nullTime(lastMsg)
	}
	st.LastCaptureTime = nullTime(lastCap)
	return st, nil
}

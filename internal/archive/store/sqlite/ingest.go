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
	// prepared[i] is the rest of what the writer stores of envs[i],
	// worked out in the caller's goroutine (prepare.go).
	prepared []preparedRecord
	// keyIDs are the distinct data keys the batch is sealed under.
	keyIDs []string
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
	job := newIngestJob(account, custodian, actor, envs)
	for attempt := 1; ; attempt++ {
		if err := s.seal(ctx, job); err != nil {
			return store.IngestResult{}, err
		}
		err := s.submit(ctx, &writeJob{ingest: job})
		if errors.Is(err, errKeyDestroyed) && attempt < maxSealAttempts {
			// The purge forgets the keys it destroyed once it commits;
			// forget them here too, so the reseal cannot race that.
			if err := s.sealer.ForgetDestroyed(ctx, keyStore{s}, job.keyIDs...); err != nil {
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

const insertRecordSQL = `INSERT INTO records
	(id, account, custodian, dedup_key, sent_at, ingested_at, text, record, findings, findings_count, key_id, system,
	 conversation, categories, severity)
	VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (account, dedup_key) DO NOTHING`

const updateStatsSQL = `INSERT INTO account_stats (account, messages, last_message, last_capture, findings_total, findings_open)
	VALUES (?, ?, ?, ?, ?, ?)
	ON CONFLICT (account) DO UPDATE SET
		messages = messages + excluded.messages,
		last_message = max(coalesce(last_message, 0), excluded.last_message),
		last_capture = excluded.last_capture,
		findings_total = findings_total + excluded.findings_total,
		findings_open = findings_open + excluded.findings_open`

const keyDestroyedSQL = `SELECT destroyed_at FROM data_keys WHERE id = ?`

// applyIngest inserts one caller's batch inside the group's transaction and
// keeps the account's statistics in step. It only executes statements: the
// caller prepared everything else (prepare.go).
func (s *Store) applyIngest(ctx context.Context, tx *sql.Tx, j *ingestJob) error {
	if err := checkKeysLive(ctx, tx, s.stmts.keyDestroyed, j.keyIDs); err != nil {
		return err
	}
	stmt := tx.StmtContext(ctx, s.stmts.insertRecord)
	terms := tx.StmtContext(ctx, s.stmts.insertTerms)
	leaves := tx.StmtContext(ctx, s.stmts.insertLeaf)
	appendLeaf := func(args ...any) error {
		_, err := leaves.ExecContext(ctx, args...)
		return err
	}
	// The batch's leaves and rows share the writer's time (leafstamp.go).
	now := nanos(s.now())
	var inserted, messages, findings int64
	var lastSent int64
	// body holds one leaf at a time: the driver copies what it binds.
	var body []byte
	var sealedUnder keyCounts
	for i := range j.envs {
		rec, sealed, p := j.envs[i].Record, &j.sealed[i], &j.prepared[i]
		res, err := stmt.ExecContext(ctx, rec.ID, string(j.account), j.custodian, rec.DedupKey, p.sentAt, now,
			sealed.SealedBody, sealed.SealedFindings, p.findings, sealed.KeyID, p.system,
			p.facets.Conversation, p.facets.Categories, p.facets.Severity)
		if err != nil {
			return fmt.Errorf("while inserting record %s: %w", rec.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			seq, err := res.LastInsertId()
			if err != nil {
				return fmt.Errorf("while reading the position of record %s: %w", rec.ID, err)
			}
			if err := indexRecord(ctx, terms, seq, p.terms); err != nil {
				return err
			}
			body = p.leaf.appendStamped(body[:0], now)
			if err := s.appendLeafWith(appendLeaf, body, rec.ID); err != nil {
				return err
			}
			sealedUnder.add(sealed.KeyID, 1)
			inserted++
			findings += int64(p.findings)
			// System records (capture checkpoints, gap notices) are
			// evidence about capture, not messages: they move the capture
			// time, not the message count or the last message time.
			if !p.system {
				messages++
				lastSent = max(lastSent, p.sentAt)
			}
		}
	}
	j.result = store.IngestResult{Inserted: int(inserted), Duplicates: len(j.envs) - int(inserted)}
	if err := sealedUnder.apply(ctx, tx.StmtContext(ctx, s.stmts.countKeyRecords)); err != nil {
		return err
	}
	if inserted > 0 {
		if _, err := tx.StmtContext(ctx, s.stmts.updateStats).ExecContext(ctx,
			string(j.account), messages, lastSent, now, findings, findings); err != nil {
			return fmt.Errorf("while updating statistics of %s: %w", j.account, err)
		}
	}
	detail := fmt.Sprintf(`{"inserted":%d,"duplicates":%d}`, j.result.Inserted, j.result.Duplicates)
	return s.audit(ctx, tx, j.actor, store.AuditIngest, string(j.account), detail)
}

// checkKeysLive fails with errKeyDestroyed if a purge destroyed one of the
// data keys a batch was sealed under after it was sealed: such a record
// could never be read. Purges run on this same writer, so the check cannot
// race them. query is the writer's keyDestroyedSQL.
func checkKeysLive(ctx context.Context, tx *sql.Tx, query *sql.Stmt, keyIDs []string) error {
	stmt := tx.StmtContext(ctx, query)
	for _, id := range keyIDs {
		var destroyed sql.NullInt64
		err := stmt.QueryRowContext(ctx, id).Scan(&destroyed)
		if err != nil {
			return fmt.Errorf("while checking data key %s: %w", id, err)
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

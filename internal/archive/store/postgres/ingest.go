package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-operator/vigil/internal/archive/search"
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
	// terms[i] is envs[i]'s search terms, space-separated.
	terms  []string
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
	if err := validateBatch(account, envs); err != nil {
		return store.IngestResult{}, err
	}
	if len(envs) == 0 {
		return store.IngestResult{}, nil
	}
	job := &ingestJob{account: account, custodian: custodian, actor: actor, envs: envs,
		sealed: make([]sealing.Record, len(envs)), terms: make([]string, len(envs))}
	// The search terms, like the ciphertexts, are made in the caller's
	// goroutine, so the writer only writes.
	for i := range envs {
		job.terms[i] = indexTerms(envs[i].Record.Text)
	}
	for attempt := 1; ; attempt++ {
		if err := s.seal(ctx, job); err != nil {
			return store.IngestResult{}, err
		}
		err := s.submit(ctx, &writeJob{ingest: job})
		if errors.Is(err, errKeyDestroyed) && attempt < maxSealAttempts {
			// The purge forgets the keys it destroyed once it commits; a
			// purge on another replica cannot tell this one, so forget
			// them here before sealing again.
			if err := s.sealer.ForgetDestroyed(ctx, keyStore{s}, job.keyIDs()...); err != nil {
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

// maxTermBytes bounds the lexeme bytes of one record's tsvector. PostgreSQL
// addresses a tsvector's lexemes by 20-bit offsets, and past 1 MiB
// array_to_tsvector builds a garbled vector without an error: lexemes
// mangled, matches (a hold's too) missed. Terms past the bound are left
// out of the index, as the analyzer leaves out text past its own bound;
// the 256 KiB of text a record may hold comes nowhere near it unless
// crafted to.
const maxTermBytes = 1_000_000

// indexTerms is a record's search terms as insertRecordsSQL takes them:
// space-separated (terms are [0-9a-z] only), within maxTermBytes.
func indexTerms(text string) string {
	return joinTerms(search.IndexTermArray(text))
}

func joinTerms(terms []string) string {
	n := 0
	for i, t := range terms {
		if n += len(t); n > maxTermBytes {
			terms = terms[:i]
			break
		}
	}
	return strings.Join(terms, " ")
}

func validateBatch(account store.AccountKey, envs []capture.Envelope) error {
	if _, err := store.ParseAccountKey(string(account)); err != nil {
		return fmt.Errorf("%w: %v", store.ErrInvalid, err)
	}
	for i := range envs {
		if envs[i].Record == nil {
			return fmt.Errorf("%w: envelope %d has no record", store.ErrInvalid, i)
		}
		if err := envs[i].Record.Validate(); err != nil {
			return fmt.Errorf("%w: envelope %d: %v", store.ErrInvalid, i, err)
		}
	}
	return nil
}

func (s *Store) seal(ctx context.Context, job *ingestJob) error {
	for i := range job.envs {
		var err error
		if job.sealed[i], err = s.sealer.SealEnvelope(ctx, job.account, job.envs[i]); err != nil {
			return err
		}
	}
	return nil
}

func (j *ingestJob) keyIDs() []string {
	ids := make([]string, len(j.sealed))
	for i := range j.sealed {
		ids[i] = j.sealed[i].KeyID
	}
	return ids
}

// Each caller's batch is one statement. The ordinality feeds the rows in
// the batch's order, so that of two records with one dedup key the first
// is kept, as SQLite keeps it.
const insertRecordsSQL = `INSERT INTO records
	(id, account, custodian, dedup_key, sent_at, ingested_at, record, findings, findings_count, key_id, system, terms,
	 conversation, categories, severity)
	SELECT u.id, $1, $2, u.dedup_key, u.sent_at, $3, u.record, u.findings, u.findings_count, u.key_id, u.system,
		array_to_tsvector(string_to_array(u.terms, ' ')), u.conversation, u.categories, u.severity
	FROM unnest($4::text[], $5::text[], $6::bigint[], $7::bytea[], $8::bytea[], $9::integer[], $10::text[], $11::boolean[], $12::text[],
		$13::text[], $14::text[], $15::integer[])
		WITH ORDINALITY AS u(id, dedup_key, sent_at, record, findings, findings_count, key_id, system, terms, conversation, categories, severity, n)
	ORDER BY u.n
	ON CONFLICT (account, dedup_key) DO NOTHING
	RETURNING id`

// checkKeysSQL counts the batch's distinct keys that are live and those
// that are destroyed.
const checkKeysSQL = `SELECT count(*) FILTER (WHERE destroyed_at IS NULL), count(*) FILTER (WHERE destroyed_at IS NOT NULL)
	FROM data_keys WHERE id = ANY($1::text[])`

// applyIngests inserts a group of callers' batches inside one transaction:
// every batch's key check and insert go in one round trip, then its leaves,
// statistics and audit event are queued for the flush before the commit.
func (s *Store) applyIngests(ctx context.Context, t *txn, jobs []*ingestJob) error {
	b := &pgx.Batch{}
	at := make([]int64, len(jobs))
	for i, j := range jobs {
		at[i] = nanos(s.now())
		b.Queue(checkKeysSQL, distinct(j.keyIDs()))
		b.Queue(insertRecordsSQL, j.insertArgs(at[i])...)
	}
	br := t.SendBatch(ctx, b)
	inserted := make([]map[string]bool, len(jobs))
	for i, j := range jobs {
		var err error
		if inserted[i], err = readIngest(br, j); err != nil {
			_ = br.Close()
			return err
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("while inserting records: %w", err)
	}
	for i, j := range jobs {
		s.recordIngest(t, j, at[i], inserted[i])
	}
	return nil
}

// readIngest reads one batch's key check and the ids its insert stored.
func readIngest(br pgx.BatchResults, j *ingestJob) (map[string]bool, error) {
	var live, destroyed int
	if err := br.QueryRow().Scan(&live, &destroyed); err != nil {
		return nil, fmt.Errorf("while checking the data keys of a batch of %s: %w", j.account, err)
	}
	// Purges take the same write lock, so none can destroy a key between
	// this check and the commit.
	if destroyed > 0 {
		return nil, errKeyDestroyed
	}
	if want := len(distinct(j.keyIDs())); live != want {
		return nil, fmt.Errorf("%d of the %d data keys a batch of %s was sealed under are missing", want-live, want, j.account)
	}
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("while inserting records of %s: %w", j.account, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("while inserting records of %s: %w", j.account, err)
	}
	inserted := make(map[string]bool, len(ids))
	for _, id := range ids {
		inserted[id] = true
	}
	return inserted, nil
}

func (j *ingestJob) insertArgs(at int64) []any {
	n := len(j.envs)
	ids, dedup, keyIDs := make([]string, n), make([]string, n), make([]string, n)
	sent, counts, system := make([]int64, n), make([]int32, n), make([]bool, n)
	bodies, findings := make([][]byte, n), make([][]byte, n)
	conversations, categories, severity := make([]string, n), make([]string, n), make([]int32, n)
	for i, env := range j.envs {
		rec, sealed := env.Record, &j.sealed[i]
		ids[i], dedup[i], sent[i] = rec.ID, rec.DedupKey, nanos(rec.SentAt)
		bodies[i], findings[i], keyIDs[i] = sealed.SealedBody, sealed.SealedFindings, sealed.KeyID
		counts[i], system[i] = int32(len(env.Findings)), rec.Kind == capture.KindSystem
		facets := store.FacetsOf(rec, env.Findings)
		conversations[i], categories[i], severity[i] = facets.Conversation, facets.Categories, int32(facets.Severity)
	}
	return []any{string(j.account), j.custodian, at, ids, dedup, sent, bodies, findings, counts, keyIDs, system, j.terms,
		conversations, categories, severity}
}

// recordIngest appends the leaves of a batch's stored records and its audit
// event, and queues its statistics, all in the batch's order.
func (s *Store) recordIngest(t *txn, j *ingestJob, at int64, inserted map[string]bool) {
	var messages, findings, lastSent int64
	stored := 0
	for i, env := range j.envs {
		rec, sealed := env.Record, &j.sealed[i]
		// A record twice in one batch was stored once: the first time.
		if !inserted[rec.ID] {
			continue
		}
		delete(inserted, rec.ID)
		leaf := store.RecordLeaf(fromNanos(at), j.account, rec.ID, rec.DedupKey, sealed.Body, sealed.Findings).
			Sealed(rec.SentAt, sealed.KeyID, sealed.SealedBody, sealed.SealedFindings).FiledUnder(j.custodian)
		t.appendLeaf(leaf, rec.ID)
		stored++
		findings += int64(len(env.Findings))
		// System records (capture checkpoints, gap notices) are evidence
		// about capture, not messages: they move the capture time, not
		// the message count or the last message time.
		if rec.Kind != capture.KindSystem {
			messages++
			lastSent = max(lastSent, nanos(rec.SentAt))
		}
	}
	j.result = store.IngestResult{Inserted: stored, Duplicates: len(j.envs) - stored}
	if stored > 0 {
		t.queue("updating statistics of "+string(j.account), `INSERT INTO account_stats
			(account, messages, last_message, last_capture, findings_total, findings_open)
			VALUES ($1, $2, $3, $4, $5, $5)
			ON CONFLICT (account) DO UPDATE SET
				messages = account_stats.messages + excluded.messages,
				last_message = greatest(coalesce(account_stats.last_message, 0), excluded.last_message),
				last_capture = excluded.last_capture,
				findings_total = account_stats.findings_total + excluded.findings_total,
				findings_open = account_stats.findings_open + excluded.findings_open`,
			string(j.account), messages, lastSent, at, findings)
	}
	detail := fmt.Sprintf(`{"inserted":%d,"duplicates":%d}`, j.result.Inserted, j.result.Duplicates)
	s.audit(t, j.actor, store.AuditIngest, string(j.account), detail)
}

func distinct(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// Stats reads an account's statistics; an account with no records has zeros.
func (s *Store) Stats(ctx context.Context, account store.AccountKey) (store.AccountStats, error) {
	var st store.AccountStats
	var lastMsg, lastCap *int64
	err := s.reader.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT messages, last_message, last_capture, findings_total, findings_open
			FROM account_stats WHERE account = $1`, string(account)).Scan(&st.MessagesCaptured, &lastMsg, &lastCap, &st.FindingsTotal, &st.FindingsOpen)
	})
	if errors.Is(err, pgx.ErrNoRows) {
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

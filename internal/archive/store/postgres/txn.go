package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

// txn is a write transaction. The log leaves, audit events and queued
// statements it gathers are sent in one round trip just before the commit,
// and its leaves reach the in-memory tree only once the commit succeeded.
type txn struct {
	pgx.Tx
	// base is the log index of the transaction's first leaf.
	base   uint64
	leaves []pendingLeaf
	events []auditRow
	queued []queuedExec
}

type pendingLeaf struct {
	hash     tlog.Hash
	body     []byte
	recordID *string
}

type auditRow struct {
	at                             int64
	actor, action, subject, detail string
}

// queuedExec is a statement whose result only matters as success.
type queuedExec struct {
	what string
	sql  string
	args []any
}

// appendLeaf adds a leaf after the transaction's others. recordID is set
// for record leaves so their proofs can be found.
func (t *txn) appendLeaf(l store.Leaf, recordID string) {
	body := l.Encode()
	p := pendingLeaf{hash: tlog.LeafHash(body), body: body}
	if recordID != "" {
		p.recordID = &recordID
	}
	t.leaves = append(t.leaves, p)
}

// queue defers a statement to the flush before the commit; what names it
// in an error.
func (t *txn) queue(what, sql string, args ...any) {
	t.queued = append(t.queued, queuedExec{what: what, sql: sql, args: args})
}

const insertLeavesSQL = `INSERT INTO log_leaves (idx, hash, body, record_id)
	SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::text[])`

// The ordinality keeps the events' sequence numbers in the order of their
// leaves.
const insertEventsSQL = `INSERT INTO audit_events (at, actor, action, subject, detail)
	SELECT at, actor, action, subject, detail
	FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS e(at, actor, action, subject, detail, n)
	ORDER BY n`

// flush sends the queued statements, the audit events and the leaves.
func (t *txn) flush(ctx context.Context) error {
	queued := t.queued
	if len(t.events) > 0 {
		queued = append(queued, t.eventsInsert())
	}
	if len(t.leaves) > 0 {
		queued = append(queued, t.leavesInsert())
	}
	if len(queued) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, q := range queued {
		b.Queue(q.sql, q.args...)
	}
	br := t.SendBatch(ctx, b)
	for _, q := range queued {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return fmt.Errorf("while %s: %w", q.what, err)
		}
	}
	return br.Close()
}

func (t *txn) eventsInsert() queuedExec {
	n := len(t.events)
	ats := make([]int64, n)
	actors, actions, subjects, details := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, e := range t.events {
		ats[i], actors[i], actions[i], subjects[i], details[i] = e.at, e.actor, e.action, e.subject, e.detail
	}
	return queuedExec{what: "appending audit events", sql: insertEventsSQL, args: []any{ats, actors, actions, subjects, details}}
}

func (t *txn) leavesInsert() queuedExec {
	n := len(t.leaves)
	idx := make([]int64, n)
	hashes, bodies := make([][]byte, n), make([][]byte, n)
	ids := make([]*string, n)
	for i, l := range t.leaves {
		idx[i] = int64(t.base) + int64(i)
		hashes[i], bodies[i], ids[i] = l.hash[:], l.body, l.recordID
	}
	what := fmt.Sprintf("appending log leaves %d to %d", t.base, t.base+uint64(n)-1)
	return queuedExec{what: what, sql: insertLeavesSQL, args: []any{idx, hashes, bodies, ids}}
}

func (t *txn) hashes() []tlog.Hash {
	out := make([]tlog.Hash, len(t.leaves))
	for i, l := range t.leaves {
		out[i] = l.hash
	}
	return out
}

// inTx runs fn in a write transaction.
//
// Every write transaction first takes one transaction-scoped advisory lock,
// so the writers of all replicas take turns. Under READ COMMITTED each
// statement sees what committed before it started, so once the lock is
// held the transaction sees every write that preceded it and no other
// can commit until it ends: the next log index is read from the table, and
// a purge's hold check cannot miss a hold placed concurrently. (REPEATABLE
// READ or SERIALIZABLE would take their snapshot at the lock statement,
// before waiting, and miss what committed meanwhile.)
func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context, t *txn) error) error {
	conn, err := s.writerConn(ctx)
	if err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("while beginning a transaction: %w", err)
	}
	t := &txn{Tx: tx}
	err = s.lockLog(ctx, t)
	if err == nil {
		err = fn(ctx, t)
	}
	if err == nil {
		err = t.flush(ctx)
	}
	if err != nil {
		// Not ctx: a cancelled context must not leave the transaction open.
		_ = tx.Rollback(context.Background())
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		// Whether a commit whose answer was lost took effect is unknown;
		// the next transaction reads the tree's tail from the table.
		return fmt.Errorf("while committing: %w", err)
	}
	s.seq.extend(t.base, t.hashes())
	return nil
}

// lockLog takes the write lock and brings the tree up to every leaf
// committed, by this replica or another, so the transaction's leaves follow
// the last one. The lock and the read of the log's size go in one round
// trip: the server binds the second statement, and takes its snapshot,
// only after the first has returned with the lock. Were it otherwise, two
// writers would pick the same index and the primary key refuse the second.
func (s *Store) lockLog(ctx context.Context, t *txn) error {
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock($1)`, s.writeKey)
	b.Queue(logSizeSQL)
	br := t.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return fmt.Errorf("while waiting for the write lock: %w", err)
	}
	var size int64
	if err := br.QueryRow().Scan(&size); err != nil {
		_ = br.Close()
		return fmt.Errorf("while reading the log's size: %w", err)
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("while reading the log's size: %w", err)
	}
	if err := s.catchUp(ctx, t, uint64(size)); err != nil {
		return err
	}
	t.base = uint64(size)
	return nil
}

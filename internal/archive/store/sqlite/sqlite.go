// Package sqlite is the archive's embedded backend: SQLite through the CGO-free
// modernc.org/sqlite driver, in WAL mode. One writer goroutine serialises
// every write and merges concurrent ingests into one transaction (group
// commit); a syncer fsyncs the WAL behind it and answers each commit's
// callers only once it is on disk (durability.go), so the writer never waits
// on the disk and one fsync covers every commit queued behind it.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-logr/logr"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/sealing"
	"github.com/vigil-operator/vigil/internal/archive/store/shipping"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

// FileName is the database file inside the data directory.
const FileName = "archive.db"

// maxGroupRecords bounds one group commit, so a commit's latency stays short.
const maxGroupRecords = 5000

// DefaultCheckpointInterval is how often a grown log is checkpointed.
const DefaultCheckpointInterval = time.Second

// Options tune the store.
type Options struct {
	Logger logr.Logger
	// Now is the clock; tests inject their own.
	Now func() time.Time
	// LogSigner signs checkpoints; nil loads or creates SignerKeyFile in the
	// data directory. Its name must be the log origin.
	LogSigner *tlog.Signer
	// LogOrigin names the log (default DefaultLogOrigin).
	LogOrigin string
	// CheckpointInterval is how often a grown log is checkpointed.
	CheckpointInterval time.Duration
	// KeyRing holds the key-encryption keys that wrap the data keys. Nil
	// loads or creates KEKFile in the data directory (see LoadOrCreateKEK).
	KeyRing *keys.KeyRing
	// Segments, when set, writes a WORM copy of every record's content
	// into segments (internal/archive/store/shipping).
	Segments *shipping.Options
	// Tenant names the data keys' owner (default sealing.DefaultTenant); it
	// is bound into every record's ciphertext.
	Tenant string
}

// Store is the SQLite backend of store.Store.
type Store struct {
	writer *sql.DB
	reader *sql.DB
	jobs   chan *writeJob
	now    func() time.Time
	log    logr.Logger
	seq    sequencer

	checkpointEvery time.Duration

	// sealer encrypts records at rest.
	sealer *sealing.Sealer
	// shipper writes the WORM copy; nil without one.
	shipper *shipping.Shipper
	// walCheckpointer copies the WAL back off the writer's path.
	walCheckpointer *walCheckpointer
	// sync makes commits durable and answers their callers (durability.go).
	sync *syncer
	// stmts are prepared on the writer's connection; writer only.
	stmts *writerStatements

	// mu guards closed; see submit.
	mu      sync.RWMutex
	closed  bool
	closing chan struct{}
	stopped chan struct{}
}

var _ store.Store = (*Store)(nil)

// writeJob is one unit of work for the writer: an ingest (which may share a
// transaction with other ingests) or an exclusive function.
type writeJob struct {
	ingest *ingestJob
	// checkpoint asks for a checkpoint of the log as it is now.
	checkpoint bool
	exclusive  func(ctx context.Context, tx *sql.Tx) error
	ctx        context.Context
	done       chan error
}

// Open opens (creating if needed) the archive database in dir.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("while creating the data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	pragmas := url.Values{}
	// synchronous=NORMAL: the syncer, not the commit, fsyncs the WAL, and
	// nothing is acknowledged before it has (durability.go).
	for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)", "foreign_keys(1)", "secure_delete(1)", "wal_autocheckpoint(0)"} {
		pragmas.Add("_pragma", p)
	}
	writer, err := sql.Open("sqlite", "file:"+path+"?"+pragmas.Encode()+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("while opening %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	if err := migrate(ctx, writer); err != nil {
		_ = writer.Close()
		return nil, err
	}
	// Closing the writer's database closes these too.
	stmts, err := prepareWriterStatements(ctx, writer)
	if err != nil {
		_ = writer.Close()
		return nil, err
	}
	reader, err := sql.Open("sqlite", "file:"+path+"?"+pragmas.Encode()+"&mode=ro")
	if err != nil {
		_ = writer.Close()
		return nil, fmt.Errorf("while opening %s for reading: %w", path, err)
	}
	reader.SetMaxOpenConns(4)
	s := &Store{
		writer: writer, reader: reader, stmts: stmts,
		jobs:    make(chan *writeJob, 256),
		now:     opts.Now,
		log:     opts.Logger,
		closing: make(chan struct{}),
		stopped: make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.sync = startSyncer(path, s.seq.publish)
	// abandon undoes a half-opened store.
	abandon := func(err error) (*Store, error) {
		s.sync.close()
		_ = reader.Close()
		_ = writer.Close()
		return nil, err
	}
	s.checkpointEvery = opts.CheckpointInterval
	if s.checkpointEvery <= 0 {
		s.checkpointEvery = DefaultCheckpointInterval
	}
	if err := s.openLog(ctx, dir, opts); err != nil {
		return abandon(err)
	}
	if err := s.openKeys(dir, opts); err != nil {
		return abandon(err)
	}
	if err := s.compileHoldQueries(ctx); err != nil {
		return abandon(err)
	}
	// Leaves committed after the last checkpoint before a crash are signed
	// now, rather than at the first tick.
	if err := s.checkpoint(ctx); err != nil {
		return abandon(err)
	}
	if s.walCheckpointer, err = startWALCheckpointer(path); err != nil {
		return abandon(err)
	}
	go s.writeLoop()
	// Records stored before encryption at rest are sealed now, once.
	if err := s.sealPlaintextRecords(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	s.shipper = shipping.Start(catalog{s}, opts.Segments, s.now, s.log.WithName("segments"))
	return s, nil
}

// submit hands a job to the writer and waits for its outcome.
func (s *Store) submit(ctx context.Context, job *writeJob) error {
	job.ctx = ctx
	job.done = make(chan error, 1)
	// The read lock orders queueing against Close: once Close holds the
	// lock no job can be queued, so the writer's final drain sees them all.
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return store.ErrClosed
	}
	if err := s.sync.err(); err != nil {
		s.mu.RUnlock()
		return err
	}
	select {
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	case s.jobs <- job:
	}
	s.mu.RUnlock()
	// Once queued, the job's outcome is awaited even if ctx ends: the caller
	// must not be told "failed" about a write that then commits.
	return <-job.done
}

func (s *Store) exclusive(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.submit(ctx, &writeJob{exclusive: fn})
}

// writeLoop is the only writer. It drains queued ingests into one transaction.
func (s *Store) writeLoop() {
	defer close(s.stopped)
	tick := time.NewTicker(s.checkpointEvery)
	defer tick.Stop()
	for {
		var job *writeJob
		select {
		case job = <-s.jobs:
		case <-tick.C:
			s.checkpointOrLog()
			continue
		case <-s.closing:
			// Finish what was queued before Close, checkpoint, then stop.
			for {
				select {
				case job = <-s.jobs:
					s.run(job, nil)
				default:
					s.checkpointOrLog()
					return
				}
			}
		}
		s.run(job, s.jobs)
	}
}

// checkpointOrLog checkpoints a grown log; a failure is retried next tick.
func (s *Store) checkpointOrLog() {
	if err := s.checkpoint(context.Background()); err != nil {
		s.log.Error(err, "Could not checkpoint the log; retrying")
	}
}

// run executes a job; for an ingest it first gathers every ingest already
// queued (up to maxGroupRecords), stopping at the first exclusive job, which
// then runs alone after the group.
func (s *Store) run(job *writeJob, queue chan *writeJob) {
	if job.checkpoint {
		job.done <- s.checkpoint(job.ctx)
		return
	}
	if job.exclusive != nil {
		job.done <- s.inTx(job.ctx, job.exclusive)
		return
	}
	group := []*writeJob{job}
	records := len(job.ingest.envs)
	var next *writeJob
gather:
	for queue != nil && records < maxGroupRecords {
		select {
		case j := <-queue:
			if j.ingest == nil {
				next = j
				break gather
			}
			group = append(group, j)
			records += len(j.ingest.envs)
		default:
			break gather
		}
	}
	s.commitIngests(group)
	if s.seq.checkpointSize == 0 {
		// A new archive's first leaves are signed at once, so even one
		// killed within its first second leaves a signed log behind; they
		// are in the tree once durable.
		_ = s.sync.wait(nil)
		s.checkpointOrLog()
	}
	if next != nil {
		s.run(next, nil)
	}
}

// commitIngests writes a group of ingests in one transaction. If the group
// fails, each ingest is retried alone, so one caller's bad batch never fails
// another's.
func (s *Store) commitIngests(group []*writeJob) {
	leaves, err := s.commitTx(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
		for _, j := range group {
			if err := s.applyIngest(ctx, tx, j.ingest); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		// The callers are answered once the group is durable; the writer
		// goes on meanwhile.
		acks := make([]chan error, len(group))
		for i, j := range group {
			acks[i] = j.done
		}
		s.sync.enqueue(leaves, acks...)
		return
	}
	if len(group) == 1 {
		for _, j := range group {
			j.done <- err
		}
		return
	}
	for _, j := range group {
		j.ingest.result = store.IngestResult{}
		j.done <- s.inTx(context.Background(), func(ctx context.Context, tx *sql.Tx) error {
			return s.applyIngest(ctx, tx, j.ingest)
		})
	}
}

// inTx runs fn in a transaction and returns once it is durable. Log leaves
// fn appends reach the tree only if the transaction commits.
func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	leaves, err := s.commitTx(ctx, fn)
	if err != nil {
		return err
	}
	return s.sync.wait(leaves)
}

// commitTx runs fn in a transaction and commits it, without waiting for it
// to be durable; it returns the leaves the transaction appended, for the
// syncer to put into the tree once they are. Writer only.
func (s *Store) commitTx(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) ([]tlog.Hash, error) {
	s.seq.pending = s.seq.pending[:0]
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("while beginning a transaction: %w", err)
	}
	if err := fn(ctx, tx); err != nil {
		_ = tx.Rollback()
		s.seq.pending = s.seq.pending[:0]
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		s.seq.pending = s.seq.pending[:0]
		return nil, fmt.Errorf("while committing: %w", err)
	}
	return s.seq.committedLeaves(), nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	select {
	case <-s.closing:
		return store.ErrClosed
	default:
	}
	var one int
	return s.reader.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

// Close finishes queued writes and closes the database.
func (s *Store) Close() error {
	// The shipper writes through the writer: it stops, with a last pass,
	// while the writer still takes jobs.
	s.shipper.Close()
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.closing)
	}
	s.mu.Unlock()
	<-s.stopped
	s.sync.close()
	s.sealer.Close()
	return errors.Join(s.walCheckpointer.close(), s.reader.Close(), s.stmts.close(), s.writer.Close())
}

func nanos(t time.Time) int64 { return t.UTC().UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func nullTime(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromNanos(n.Int64)
	return &t
}

const insertAuditSQL = `INSERT INTO audit_events (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)`

// audit appends one audit event in the current transaction.
func (s *Store) audit(ctx context.Context, tx *sql.Tx, actor, action, subject, detail string) error {
	now := s.now()
	_, err := tx.StmtContext(ctx, s.stmts.insertAudit).ExecContext(ctx, nanos(now), actor, action, subject, detail)
	if err != nil {
		return fmt.Errorf("while appending the audit event: %w", err)
	}
	return s.appendLeaf(ctx, tx, store.AuditLeaf(now, actor, action, subject, detail), "")
}

// RecordAccess implements store.Store.
func (s *Store) RecordAccess(ctx context.Context, actor, action, subject, detail string) error {
	if err := store.ValidateAccess(action); err != nil {
		return err
	}
	return s.exclusive(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return s.audit(ctx, tx, actor, action, subject, detail)
	})
}

// Audit returns audit events after a sequence number.
func (s *Store) Audit(ctx context.Context, after int64, limit int) ([]store.AuditEvent, int64, error) {
	if limit <= 0 || limit > store.MaxListLimit {
		limit = store.MaxListLimit
	}
	rows, err := s.reader.QueryContext(ctx,
		`SELECT seq, at, actor, action, subject, detail FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, after, fmt.Errorf("while reading the audit trail: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEvent
	last := after
	for rows.Next() {
		var e store.AuditEvent
		var at int64
		if err := rows.Scan(&last, &at, &e.Actor, &e.Action, &e.Subject, &e.Detail); err != nil {
			return nil, after, err
		}
		e.At = fromNanos(at)
		out = append(out, e)
	}
	return out, last, rows.Err()
}

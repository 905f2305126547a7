// Package postgres is the archive's PostgreSQL backend, for installations
// that keep their records in a managed or shared database rather than on
// the archive's own volume. It has the SQLite backend's semantics and
// passes the same conformance suites: records sealed at rest, the search
// index as a tsvector column, holds checked in the purge's transaction, and
// the tamper-evident log written in the same transaction as each change.
//
// One writer goroutine per replica serialises the replica's writes and
// merges concurrent ingests into one transaction (group commit), and every
// write transaction first takes a transaction-scoped advisory lock, so that
// the writers of several replicas take turns: log leaves get consecutive
// indices with no gaps, and a purge sees every hold committed before it.
// Commits are synchronous (synchronous_commit=on is set on every
// connection): Ingest returns once the batch is durable.
package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/jackc/pgx/v5"

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/sealing"
	"github.com/vigil-operator/vigil/internal/archive/store/shipping"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

// Defaults.
const (
	// DefaultCheckpointInterval is how often a grown log is checkpointed.
	DefaultCheckpointInterval = time.Second
	// DefaultLogOrigin names the log in its checkpoints (the SQLite
	// backend's default too); installs that share an auditor should each
	// set their own.
	DefaultLogOrigin = "vigil.dev/archive"
	// DefaultReadConns bounds the connections used for reads.
	DefaultReadConns = 4
	// maxGroupRecords bounds one group commit, so its latency stays short.
	maxGroupRecords = 5000
)

// Options tune the store.
type Options struct {
	Logger logr.Logger
	// Now is the clock; tests inject their own.
	Now func() time.Time
	// LogSigner signs checkpoints. Required: unlike SQLite there is no data
	// directory to generate and keep one in. Its name must be the origin.
	LogSigner *tlog.Signer
	// LogOrigin names the log (default DefaultLogOrigin).
	LogOrigin string
	// CheckpointInterval is how often a grown log is checkpointed.
	CheckpointInterval time.Duration
	// KeyRing holds the key-encryption keys that wrap the data keys.
	// Required, for the same reason as LogSigner.
	KeyRing *keys.KeyRing
	// Tenant names the data keys' owner (default sealing.DefaultTenant).
	Tenant string
	// ReadConns bounds the connections used for reads (default
	// DefaultReadConns); writes use one more.
	ReadConns int
	// Segments, when set, writes a WORM copy of every record's content
	// into segments (internal/archive/store/shipping).
	Segments *shipping.Options
}

// Store is the PostgreSQL backend of store.Store.
type Store struct {
	cfg    *pgx.ConnConfig
	reader *connPool
	// wconn is the writer's connection, last used at wused; only the
	// writer goroutine (or Open, before it starts) touches them.
	wconn *pgx.Conn
	wused time.Time
	// writeKey is the advisory lock every write transaction takes.
	writeKey int64
	jobs     chan *writeJob
	now      func() time.Time
	log      logr.Logger
	// shipper writes the WORM copy; nil without one.
	shipper *shipping.Shipper
	seq     sequencer
	sealer  *sealing.Sealer

	checkpointEvery time.Duration

	// mu guards closed; see submit.
	mu          sync.RWMutex
	closed      bool
	closing     chan struct{}
	stopped     chan struct{}
	releaseOnce sync.Once
}

var _ store.Store = (*Store)(nil)

// Open connects to the database named by dsn (a postgres:// URL or
// key=value string, as libpq takes), brings its schema up to date and
// rebuilds the log's tree from it.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if opts.LogSigner == nil {
		return nil, fmt.Errorf("%w: the PostgreSQL archive needs a checkpoint signing key", store.ErrInvalid)
	}
	if opts.KeyRing == nil {
		return nil, fmt.Errorf("%w: the PostgreSQL archive needs a key-encryption key ring", store.ErrInvalid)
	}
	cfg, err := connConfig(dsn)
	if err != nil {
		return nil, err
	}
	s := newStore(cfg, opts)
	if err := s.start(ctx, opts); err != nil {
		s.release()
		return nil, err
	}
	go s.writeLoop()
	s.shipper = shipping.Start(catalog{s}, opts.Segments, s.now, s.log.WithName("segments"))
	return s, nil
}

// connConfig parses the DSN and pins the session settings the store's
// guarantees rest on, whatever the server's or role's defaults.
func connConfig(dsn string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password included: keep it out.
		return nil, fmt.Errorf("%w: the PostgreSQL connection string does not parse", store.ErrInvalid)
	}
	// Durable on return: a commit waits for the WAL flush.
	cfg.RuntimeParams["synchronous_commit"] = "on"
	// The advisory-lock protocol relies on each statement seeing what
	// committed before it (see inTx).
	cfg.RuntimeParams["default_transaction_isolation"] = "read committed"
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "vigil-archive"
	}
	return cfg, nil
}

func newStore(cfg *pgx.ConnConfig, opts Options) *Store {
	s := &Store{
		cfg:             cfg,
		jobs:            make(chan *writeJob, 256),
		now:             opts.Now,
		log:             opts.Logger,
		checkpointEvery: opts.CheckpointInterval,
		closing:         make(chan struct{}),
		stopped:         make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.checkpointEvery <= 0 {
		s.checkpointEvery = DefaultCheckpointInterval
	}
	readers := opts.ReadConns
	if readers <= 0 {
		readers = DefaultReadConns
	}
	s.reader = newConnPool(cfg, readers)
	return s
}

// start migrates, loads the log and the keys, and signs what the last run
// left unsigned; the writer is not running yet.
func (s *Store) start(ctx context.Context, opts Options) error {
	conn, err := pgx.ConnectConfig(ctx, s.cfg)
	if err != nil {
		return fmt.Errorf("while connecting to PostgreSQL: %w", err)
	}
	s.wconn, s.wused = conn, time.Now()
	if err := migrate(ctx, conn); err != nil {
		return err
	}
	if s.writeKey, err = lockKey(ctx, conn, "write"); err != nil {
		return err
	}
	if err := s.openLog(ctx, opts); err != nil {
		return err
	}
	sealer, err := sealing.New(opts.KeyRing, keyStore{s}, opts.Tenant, s.now)
	if err != nil {
		return err
	}
	s.sealer = sealer
	// Leaves committed after the last checkpoint before a crash are signed
	// now, rather than at the first tick.
	return s.checkpoint(ctx)
}

// release closes what start opened, once.
func (s *Store) release() {
	s.releaseOnce.Do(func() {
		if s.sealer != nil {
			s.sealer.Close()
		}
		if s.wconn != nil {
			_ = s.wconn.Close(context.Background())
		}
		s.reader.close()
	})
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	select {
	case <-s.closing:
		return store.ErrClosed
	default:
	}
	return s.reader.with(ctx, func(c *pgx.Conn) error { return c.Ping(ctx) })
}

// Close finishes queued writes and closes the connections.
func (s *Store) Close() error {
	// The shipper writes through the writer: stop it first.
	s.shipper.Close()
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.closing)
	}
	s.mu.Unlock()
	<-s.stopped
	s.release()
	return nil
}

// writerConn is the writer's connection, opened again if the server
// dropped it. Writer only.
func (s *Store) writerConn(ctx context.Context) (*pgx.Conn, error) {
	defer func() { s.wused = time.Now() }()
	if s.wconn != nil && alive(ctx, s.wconn, s.wused) {
		return s.wconn, nil
	}
	if s.wconn != nil {
		_ = s.wconn.Close(context.Background())
	}
	conn, err := pgx.ConnectConfig(ctx, s.cfg)
	if err != nil {
		return nil, fmt.Errorf("while reconnecting to PostgreSQL: %w", err)
	}
	s.wconn = conn
	return conn, nil
}

func nanos(t time.Time) int64 { return t.UTC().UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func nullTime(n *int64) *time.Time {
	if n == nil {
		return nil
	}
	t := fromNanos(*n)
	return &t
}

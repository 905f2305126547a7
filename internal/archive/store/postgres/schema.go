package postgres

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"
)

// migrations are applied in order, each in its own transaction, and
// schema_migrations records which ran. Never edit a released migration:
// append a new one.
//
// Times are Unix nanoseconds (bigint), as in the SQLite backend: log leaves
// commit to nanosecond times, and a verifier compares the tables with the
// leaves exactly, which timestamptz (microseconds) could not round-trip.
// Identifiers that are compared or paged on use the "C" collation, so they
// order bytewise as in SQLite whatever the database's locale.
var migrations = []string{
	`CREATE TABLE records (
		seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		id             text COLLATE "C" NOT NULL UNIQUE,
		account        text COLLATE "C" NOT NULL,
		custodian      text COLLATE "C" NOT NULL,
		dedup_key      text COLLATE "C" NOT NULL,
		sent_at        bigint NOT NULL,
		ingested_at    bigint NOT NULL,
		record         bytea NOT NULL,
		findings       bytea,
		findings_count integer NOT NULL,
		key_id         text COLLATE "C" NOT NULL,
		system         boolean NOT NULL,
		terms          tsvector NOT NULL,
		conversation   text COLLATE "C" NOT NULL,
		categories     text COLLATE "C" NOT NULL,
		severity       integer NOT NULL,
		UNIQUE (account, dedup_key)
	);
	CREATE INDEX records_account_seq ON records (account, seq);
	CREATE INDEX records_account_conversation ON records (account, conversation, seq);
	CREATE INDEX records_account_sent ON records (account, sent_at);
	CREATE INDEX records_custodian_sent ON records (custodian, sent_at);
	CREATE INDEX records_key ON records (key_id);
	CREATE INDEX records_terms ON records USING gin (terms);
	CREATE TABLE account_stats (
		account        text COLLATE "C" PRIMARY KEY,
		messages       bigint NOT NULL,
		last_message   bigint,
		last_capture   bigint,
		findings_total bigint NOT NULL,
		findings_open  bigint NOT NULL
	);
	CREATE TABLE holds (
		id             text COLLATE "C" PRIMARY KEY,
		from_ns        bigint,
		to_ns          bigint,
		query          text NOT NULL,
		match          text,
		reason         text NOT NULL,
		actor          text NOT NULL,
		created_at     bigint NOT NULL,
		updated_at     bigint NOT NULL,
		released_at    bigint,
		release_reason text,
		release_actor  text
	);
	CREATE TABLE hold_accounts (
		hold_id text COLLATE "C" NOT NULL REFERENCES holds (id),
		account text COLLATE "C" NOT NULL,
		PRIMARY KEY (hold_id, account)
	);
	CREATE INDEX hold_accounts_account ON hold_accounts (account);
	CREATE TABLE hold_custodians (
		hold_id   text COLLATE "C" NOT NULL REFERENCES holds (id),
		custodian text COLLATE "C" NOT NULL,
		PRIMARY KEY (hold_id, custodian)
	);
	CREATE INDEX hold_custodians_custodian ON hold_custodians (custodian);
	CREATE TABLE purge_certificates (
		id         text COLLATE "C" PRIMARY KEY,
		rule       text NOT NULL,
		body       bytea NOT NULL,
		sha256     text NOT NULL,
		created_at bigint NOT NULL
	);
	CREATE TABLE audit_events (
		seq     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		at      bigint NOT NULL,
		actor   text NOT NULL,
		action  text NOT NULL,
		subject text NOT NULL,
		detail  text NOT NULL
	);
	CREATE TABLE log_leaves (
		idx       bigint PRIMARY KEY CHECK (idx >= 0),
		hash      bytea NOT NULL CHECK (octet_length(hash) = 32),
		body      bytea NOT NULL,
		record_id text COLLATE "C"
	);
	CREATE INDEX log_leaves_record ON log_leaves (record_id) WHERE record_id IS NOT NULL;
	CREATE TABLE log_checkpoints (
		size bigint PRIMARY KEY,
		note bytea NOT NULL,
		at   bigint NOT NULL
	);
	CREATE TABLE data_keys (
		id             text COLLATE "C" PRIMARY KEY,
		tenant         text COLLATE "C" NOT NULL,
		account        text COLLATE "C" NOT NULL,
		bucket         text COLLATE "C" NOT NULL,
		kek_id         text NOT NULL,
		wrapped        bytea,
		created_at     bigint NOT NULL,
		destroyed_at   bigint,
		wrapped_sha256 bytea,
		UNIQUE (tenant, account, bucket)
	);`,
	// The WORM copy (internal/archive/store/shipping): each stored segment
	// object, where each record is in one, and how far shipping has got.
	`CREATE TABLE segments (
		key          text COLLATE "C" PRIMARY KEY,
		version_id   text NOT NULL,
		account      text COLLATE "C" NOT NULL,
		bucket       text NOT NULL,
		key_id       text NOT NULL,
		size         bigint NOT NULL,
		sha256       bytea NOT NULL,
		retain_until bigint NOT NULL,
		legal_hold   boolean NOT NULL,
		stored_at    bigint NOT NULL,
		deleted_at   bigint
	);
	CREATE TABLE record_segments (
		seq         bigint PRIMARY KEY,
		segment_key text COLLATE "C" NOT NULL,
		"offset"    bigint NOT NULL,
		length      integer NOT NULL,
		sha256      bytea NOT NULL
	);
	CREATE INDEX record_segments_key ON record_segments (segment_key);
	CREATE TABLE segment_shipping (
		id          integer PRIMARY KEY CHECK (id = 1),
		shipped_seq bigint NOT NULL
	);`,
}

// SchemaVersion is the number of migrations: the highest version in
// schema_migrations of an archive this code wrote.
var SchemaVersion = len(migrations)

// lockKey is the advisory lock key for one purpose in the current schema:
// two archives in different schemas of one database do not block each
// other, two replicas of one archive do.
func lockKey(ctx context.Context, c *pgx.Conn, purpose string) (int64, error) {
	var schema string
	if err := c.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return 0, fmt.Errorf("while reading the current schema: %w", err)
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte("vigil-archive/" + purpose + "/" + schema))
	return int64(h.Sum64()), nil
}

// migrate brings the schema up to date under a session advisory lock, so
// replicas starting together apply each migration once, one after the
// other, and none runs against a half-migrated schema.
func migrate(ctx context.Context, c *pgx.Conn) error {
	key, err := lockKey(ctx, c, "migrate")
	if err != nil {
		return err
	}
	if _, err := c.Exec(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return fmt.Errorf("while waiting for the schema migration lock: %w", err)
	}
	defer func() {
		// A session lock outlives a failed transaction: release it
		// explicitly, with a context that a cancelled ctx cannot stop.
		_, _ = c.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, key)
	}()
	if _, err := c.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("while creating schema_migrations: %w", err)
	}
	var version int
	if err := c.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return fmt.Errorf("while reading the schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("the database schema is version %d, newer than this vigil (%d): refusing to open it", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		if err := applyMigration(ctx, c, i+1, migrations[i]); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, c *pgx.Conn, version int, ddl string) error {
	tx, err := c.Begin(ctx)
	if err != nil {
		return fmt.Errorf("while beginning schema migration %d: %w", version, err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("while applying schema migration %d: %w", version, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, version); err != nil {
		return fmt.Errorf("while recording schema migration %d: %w", version, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("while committing schema migration %d: %w", version, err)
	}
	return nil
}

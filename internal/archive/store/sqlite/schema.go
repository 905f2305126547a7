package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order; PRAGMA user_version records how many ran.
// Never edit a released migration: append a new one.
var migrations = []string{
	`CREATE TABLE records (
		seq            INTEGER PRIMARY KEY AUTOINCREMENT,
		id             TEXT    NOT NULL UNIQUE,
		account        TEXT    NOT NULL,
		custodian      TEXT    NOT NULL,
		dedup_key      TEXT    NOT NULL,
		sent_at        INTEGER NOT NULL,
		ingested_at    INTEGER NOT NULL,
		text           TEXT    NOT NULL,
		record         BLOB    NOT NULL,
		findings       BLOB,
		findings_count INTEGER NOT NULL,
		UNIQUE (account, dedup_key)
	);
	CREATE INDEX records_account_sent ON records (account, sent_at);
	CREATE INDEX records_custodian_sent ON records (custodian, sent_at);
	CREATE TABLE account_stats (
		account        TEXT PRIMARY KEY,
		messages       INTEGER NOT NULL,
		last_message   INTEGER,
		last_capture   INTEGER,
		findings_total INTEGER NOT NULL,
		findings_open  INTEGER NOT NULL
	);
	CREATE TABLE holds (
		id             TEXT PRIMARY KEY,
		from_ns        INTEGER,
		to_ns          INTEGER,
		query          TEXT NOT NULL,
		reason         TEXT NOT NULL,
		actor          TEXT NOT NULL,
		created_at     INTEGER NOT NULL,
		updated_at     INTEGER NOT NULL,
		released_at    INTEGER,
		release_reason TEXT,
		release_actor  TEXT
	);
	CREATE TABLE hold_accounts (
		hold_id TEXT NOT NULL REFERENCES holds (id),
		account TEXT NOT NULL,
		PRIMARY KEY (hold_id, account)
	);
	CREATE INDEX hold_accounts_account ON hold_accounts (account);
	CREATE TABLE hold_custodians (
		hold_id   TEXT NOT NULL REFERENCES holds (id),
		custodian TEXT NOT NULL,
		PRIMARY KEY (hold_id, custodian)
	);
	CREATE INDEX hold_custodians_custodian ON hold_custodians (custodian);
	CREATE TABLE purge_certificates (
		id         TEXT PRIMARY KEY,
		rule       TEXT NOT NULL,
		body       BLOB NOT NULL,
		sha256     TEXT NOT NULL,
		created_at INTEGER NOT NULL
	);
	CREATE TABLE audit_events (
		seq     INTEGER PRIMARY KEY AUTOINCREMENT,
		at      INTEGER NOT NULL,
		actor   TEXT NOT NULL,
		action  TEXT NOT NULL,
		subject TEXT NOT NULL,
		detail  TEXT NOT NULL
	);`,
	// The tamper-evident log: every leaf's canonical bytes and hash in
	// sequence, and the signed checkpoints issued over it.
	`CREATE TABLE log_leaves (
		idx       INTEGER PRIMARY KEY,
		hash      BLOB NOT NULL,
		body      BLOB NOT NULL,
		record_id TEXT
	);
	CREATE INDEX log_leaves_record ON log_leaves (record_id) WHERE record_id IS NOT NULL;
	CREATE TABLE log_checkpoints (
		size INTEGER PRIMARY KEY,
		note BLOB NOT NULL,
		at   INTEGER NOT NULL
	);`,
	// Search: each record's terms from internal/archive/search, rowid =
	// records.seq. Contentless, so the text is stored once (in records).
	`CREATE VIRTUAL TABLE records_fts USING fts5(terms, content='', contentless_delete=1, tokenize='unicode61');`,
	// Statistics count messages only: system records (capture checkpoints,
	// gap notices) stopped counting as messages.
	`UPDATE account_stats SET
		messages = (SELECT count(*) FROM records r WHERE r.account = account_stats.account AND NOT ` + kindIsSystem("r") + `),
		last_message = (SELECT max(sent_at) FROM records r WHERE r.account = account_stats.account AND NOT ` + kindIsSystem("r") + `);`,
	// Encryption at rest: wrapped data keys (internal/archive/keys), each
	// record's key, and a system flag so that statistics and purges no
	// longer read the (now sealed) record bytes. Holds keep their query
	// compiled for the search index, since record text is no longer stored
	// in the clear. Listing pages in arrival order, per account, and filters
	// on facets kept in the clear (store.Facets).
	`CREATE TABLE data_keys (
		id             TEXT PRIMARY KEY,
		tenant         TEXT NOT NULL,
		account        TEXT NOT NULL,
		bucket         TEXT NOT NULL,
		kek_id         TEXT NOT NULL,
		wrapped        BLOB,
		created_at     INTEGER NOT NULL,
		destroyed_at   INTEGER,
		wrapped_sha256 BLOB,
		UNIQUE (tenant, account, bucket)
	);
	ALTER TABLE records ADD COLUMN key_id TEXT;
	ALTER TABLE records ADD COLUMN system INTEGER NOT NULL DEFAULT 0;
	UPDATE records SET system = 1 WHERE ` + kindIsSystem("records") + `;
	CREATE INDEX records_key ON records (key_id) WHERE key_id IS NOT NULL;
	CREATE INDEX records_account_seq ON records (account, seq);
	ALTER TABLE records ADD COLUMN conversation TEXT;
	ALTER TABLE records ADD COLUMN categories TEXT;
	ALTER TABLE records ADD COLUMN severity INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE holds ADD COLUMN match TEXT;`,
	// The WORM copy (segments.go): each stored segment object, where each
	// record is in one, and how far shipping has got.
	`CREATE TABLE segments (
		key          TEXT PRIMARY KEY,
		version_id   TEXT NOT NULL,
		account      TEXT NOT NULL,
		bucket       TEXT NOT NULL,
		key_id       TEXT NOT NULL,
		size         INTEGER NOT NULL,
		sha256       BLOB NOT NULL,
		retain_until INTEGER NOT NULL,
		legal_hold   INTEGER NOT NULL,
		stored_at    INTEGER NOT NULL,
		deleted_at   INTEGER
	);
	CREATE TABLE record_segments (
		seq         INTEGER PRIMARY KEY,
		segment_key TEXT NOT NULL,
		offset      INTEGER NOT NULL,
		length      INTEGER NOT NULL,
		sha256      BLOB NOT NULL
	);
	CREATE INDEX record_segments_key ON record_segments (segment_key);
	CREATE TABLE segment_shipping (
		id          INTEGER PRIMARY KEY CHECK (id = 1),
		shipped_seq INTEGER NOT NULL
	);`,
	// Each data key counts the records sealed under it (keycount.go); a
	// purge destroys a key only once its count is zero. The count replaces
	// the index on records.key_id, which cost every ingested record an
	// insert into one more b-tree to answer that one question once a purge.
	`ALTER TABLE data_keys ADD COLUMN records INTEGER NOT NULL DEFAULT 0;
	UPDATE data_keys SET records = (SELECT count(*) FROM records r WHERE r.key_id = data_keys.id);
	DROP INDEX records_key;`,
}

// SchemaVersion is the number of migrations: PRAGMA user_version of an
// archive this code wrote.
var SchemaVersion = len(migrations)

// kindIsSystem is the SQL test that a row of records (under alias) holds a
// system record.
func kindIsSystem(alias string) string {
	return `coalesce(json_extract(CAST(` + alias + `.record AS TEXT), '$.kind') = 'system', 0)`
}

func migrate(ctx context.Context, db *sql.DB) error {
	var version int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("while reading the schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("the database schema is version %d, newer than this vigil (%d): refusing to open it", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("while applying schema migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, i+1)); err != nil {
			_ = tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("while committing schema migration %d: %w", i+1, err)
		}
	}
	return nil
}

package verify

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/segments"
	"github.com/vigil-operator/vigil/internal/archive/store/sealing"
	"github.com/vigil-operator/vigil/internal/archive/store/sqlite"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

// Schema versions (PRAGMA user_version) of internal/archive/store/sqlite
// this verifier understands: 2 added the log, 3 the search index, 4 changed
// statistics only (nothing this verifier checks), 5 encryption at rest (data
// keys, sealed records, holds matched on the index), 6 the WORM copy in
// segments, 7 counts on data keys of the records sealed under them (in
// place of an index on records.key_id). A newer
// schema may store things this code does not know to check, so it refuses
// rather than report a clean bill of health it cannot back.
const (
	minSchemaVersion   = 2
	knownSchemaVersion = 7
	// encryptionSchemaVersion added data keys and compiled hold queries.
	encryptionSchemaVersion = 5
)

// DataDirOptions say what to verify in a data folder.
type DataDirOptions struct {
	// Dir holds archive.db (and, by default, log-verifier.key).
	Dir string
	// Verifier is the pinned checkpoint key. Nil reads log-verifier.key from
	// Dir, which proves only that the folder agrees with itself.
	Verifier *tlog.Verifier
	// PreviousCheckpoint is a signed checkpoint kept from an earlier run;
	// PreviousSource names it in the report.
	PreviousCheckpoint []byte
	PreviousSource     string
	// KeyRing, when the auditor holds the key-encryption key, opens the
	// sealed records: their plaintext is checked against the log and their
	// search terms against the index. Without it the ciphertexts are checked.
	KeyRing *keys.KeyRing
	// Tenant owns the data keys (default sealing.DefaultTenant).
	Tenant string
	// Segments is the segment store holding the WORM copy, when the
	// auditor can read it: each segment and record is then read back.
	Segments segments.Backend
}

// DataDir verifies an archive's data folder without writing to it. The error
// is for what stops verification (a missing file, an unknown schema);
// everything found wrong in the archive is a Problem in the report.
func DataDir(ctx context.Context, opts DataDirOptions) (*Report, error) {
	r := &Report{Source: opts.Dir, Problems: []Problem{}, Notes: []string{}}
	verifier := opts.Verifier
	if verifier == nil {
		path := filepath.Join(opts.Dir, sqlite.VerifierKeyFile)
		v, err := ReadVerifierKey(path)
		if err != nil {
			return nil, err
		}
		verifier = v
		r.note("the verifier key was read from the data folder (%s): this shows the archive agrees with itself; "+
			"pin a copy kept out of band (--verifier-key) to show it is the archive that was handed over", path)
	}
	r.Verifier = verifier.String()

	db, err := openReadOnly(opts.Dir)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	// One read transaction: a consistent snapshot even while the archive
	// is running and appending.
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("while starting a read transaction: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	version, err := checkSchemaVersion(ctx, tx)
	if err != nil {
		return nil, err
	}

	log, recordLeaves, err := readLeaves(ctx, tx, r)
	if err != nil {
		return nil, err
	}
	if err := checkStoredCheckpoints(ctx, tx, r, verifier, log); err != nil {
		return nil, err
	}
	checkDataDirTiles(r, verifier, log)
	if opts.PreviousCheckpoint != nil {
		if cp, ok := checkPrevious(r, "previous checkpoint "+opts.PreviousSource, opts.PreviousCheckpoint, verifier, log); ok {
			r.note("the log extends the previous checkpoint (size %d)", cp.Size)
		}
	}
	var sealer *sealing.Sealer
	if opts.KeyRing != nil {
		if sealer, err = sealing.New(opts.KeyRing, sqlite.ReadOnlyKeys(tx), opts.Tenant, nil); err != nil {
			return nil, err
		}
		defer sealer.Close()
	} else {
		r.note("no key-encryption key given: sealed records were checked as stored (their ciphertexts), not opened; their search terms were not checked")
	}
	index := newIndexExpectation()
	present, perKey, err := checkRecords(ctx, tx, r, log, recordLeaves, sealer, index)
	if err != nil {
		return nil, err
	}
	if err := checkIndex(ctx, tx, r, index); err != nil {
		return nil, err
	}
	if err := checkSegments(ctx, tx, r, opts.Segments); err != nil {
		return nil, err
	}
	if err := checkAuditEvents(ctx, tx, r, log); err != nil {
		return nil, err
	}
	certs, err := checkPurgeCertificates(ctx, tx, r, log)
	if err != nil {
		return nil, err
	}
	checkMissingRecords(r, log, recordLeaves, present, certs)
	if err := checkPurgesRespectedHolds(ctx, tx, r, log, recordLeaves); err != nil {
		return nil, err
	}
	if err := checkDataKeys(ctx, tx, r, log, perKey, certs); err != nil {
		return nil, err
	}
	if version >= encryptionSchemaVersion {
		if err := checkHolds(ctx, tx, r); err != nil {
			return nil, err
		}
	} else {
		r.note("holds not verified: schema %d predates holds matched on the search index", version)
	}
	return r, nil
}

// ReadVerifierKey reads a vkey file (name+id+key on one line).
func ReadVerifierKey(path string) (*tlog.Verifier, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("while reading the verifier key: %w", err)
	}
	v, err := tlog.ParseVerifierKey(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("while reading the verifier key %s: %w", path, err)
	}
	return v, nil
}

// openReadOnly opens archive.db in SQLite's read-only mode: the file is
// opened read-only, so no statement of ours can change the evidence. (Not
// query_only, which would also forbid the in-memory temporary table that
// reads the search index.)
func openReadOnly(dir string) (*sql.DB, error) {
	path := filepath.Join(dir, sqlite.FileName)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("while looking for the archive database: %w", err)
	}
	pragmas := url.Values{}
	for _, p := range []string{"busy_timeout(10000)"} {
		pragmas.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&"+pragmas.Encode())
	if err != nil {
		return nil, fmt.Errorf("while opening %s read-only: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

func checkSchemaVersion(ctx context.Context, tx *sql.Tx) (int, error) {
	var version int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return 0, fmt.Errorf("while reading the schema version: %w", err)
	}
	if version > knownSchemaVersion {
		return 0, fmt.Errorf("the archive's schema is version %d, newer than this vigil verify knows (%d): refusing to vouch for it; use a newer vigil",
			version, knownSchemaVersion)
	}
	if version < minSchemaVersion {
		return 0, fmt.Errorf("the archive's schema is version %d and has no tamper-evident log (added in version %d)", version, minSchemaVersion)
	}
	return version, nil
}

// readLeaves reads log_leaves in index order, reporting gaps, stored hashes
// that are not their body's hash, malformed bodies and record_id columns
// that disagree with the body. It returns the log and, per record id, the
// positions of its record leaves.
func readLeaves(ctx context.Context, tx *sql.Tx, r *Report) (*logView, map[string][]int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT idx, hash, body, record_id FROM log_leaves ORDER BY idx`)
	if err != nil {
		return nil, nil, fmt.Errorf("while reading the log: %w", err)
	}
	defer rows.Close()
	log := &logView{}
	recordLeaves := map[string][]int{}
	var next int64
	for rows.Next() {
		var idx int64
		var hash, body []byte
		var recordID sql.NullString
		if err := rows.Scan(&idx, &hash, &body, &recordID); err != nil {
			return nil, nil, fmt.Errorf("while reading the log: %w", err)
		}
		where := fmt.Sprintf("log_leaves idx %d", idx)
		if idx != next {
			r.problem(KindLeafSequence, where, "expected index %d: leaves %d to %d are missing", next, next, idx-1)
		}
		next = idx + 1
		if want := tlog.LeafHash(body); !bytes.Equal(hash, want[:]) {
			r.problem(KindLeafHash, where, "stored hash %x is not the hash of the stored body (%s)", hash, want)
		}
		log.add(r, where, body)
		leaf := log.leaves[len(log.leaves)-1]
		if !leaf.Valid {
			continue
		}
		switch {
		case leaf.Leaf.Type == "record" && recordID.String != leaf.Leaf.RecordID:
			r.problem(KindLeafFormat, where, "record_id column %q but the leaf is for record %q", recordID.String, leaf.Leaf.RecordID)
		case leaf.Leaf.Type != "record" && recordID.Valid:
			r.problem(KindLeafFormat, where, "an audit leaf with record_id %q", recordID.String)
		}
		if leaf.Leaf.Type == "record" {
			recordLeaves[leaf.Leaf.RecordID] = append(recordLeaves[leaf.Leaf.RecordID], len(log.leaves)-1)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("while reading the log: %w", err)
	}
	return log, recordLeaves, nil
}

// checkStoredCheckpoints verifies every stored checkpoint; the newest one
// that verifies is the report's checkpoint.
func checkStoredCheckpoints(ctx context.Context, tx *sql.Tx, r *Report, verifier *tlog.Verifier, log *logView) error {
	rows, err := tx.QueryContext(ctx, `SELECT size, note FROM log_checkpoints ORDER BY size`)
	if err != nil {
		return fmt.Errorf("while reading the checkpoints: %w", err)
	}
	defer rows.Close()
	var newest []byte
	var newestCp tlog.Checkpoint
	for rows.Next() {
		var size int64
		var note []byte
		if err := rows.Scan(&size, &note); err != nil {
			return fmt.Errorf("while reading the checkpoints: %w", err)
		}
		r.Counts.Checkpoints++
		where := fmt.Sprintf("log_checkpoints size %d", size)
		cp, ok := checkCheckpoint(r, where, note, verifier, log)
		if !ok {
			continue
		}
		if cp.Size != uint64(size) {
			r.problem(KindCheckpointRoot, where, "the row is filed under size %d but the signed checkpoint is for size %d", size, cp.Size)
			continue
		}
		newest, newestCp = note, cp
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("while reading the checkpoints: %w", err)
	}
	switch {
	case r.Counts.Checkpoints == 0 && log.tree.Size() > 0:
		r.problem(KindCheckpointMissing, "log_checkpoints", "the log has %d leaves but no checkpoint signs any of them", log.tree.Size())
	case newest != nil:
		r.Checkpoint, r.NewestNote = summarize(newestCp), newest
		if unsigned := log.tree.Size() - newestCp.Size; unsigned > 0 {
			r.note("%d leaves after the newest checkpoint are not yet signed (normal for a running archive, which signs every second)", unsigned)
		}
	}
	return nil
}

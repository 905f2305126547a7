package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

// Defaults of the log.
const (
	// DefaultLogOrigin names the log in its checkpoints; installs that share
	// an auditor should each set their own.
	DefaultLogOrigin = "vigil.dev/archive"
	// SignerKeyFile holds the generated checkpoint key when none is given.
	SignerKeyFile = "log-signer.key"
	// VerifierKeyFile holds its public half, for auditors.
	VerifierKeyFile = "log-verifier.key"
)

// sequencer appends leaves to the log inside the writer's transactions and
// publishes them to the in-memory tree only once the transaction commits,
// so the tree never holds a leaf the database lost.
type sequencer struct {
	mu   sync.RWMutex
	tree tlog.Tree
	// pending are the current transaction's leaf hashes; writer only.
	pending []tlog.Hash
	// committed counts the leaves in committed transactions, durable or
	// not yet (the tree holds the durable ones); writer only.
	committed uint64

	signer         *tlog.Signer
	origin         string
	checkpointSize uint64
}

var _ store.Log = (*Store)(nil)

// openLog loads the tree from the database, and the checkpoint key from
// opts or the data directory (generating one on first use).
func (s *Store) openLog(ctx context.Context, dir string, opts Options) error {
	seq := &s.seq
	seq.origin = opts.LogOrigin
	if seq.origin == "" {
		seq.origin = DefaultLogOrigin
	}
	seq.signer = opts.LogSigner
	if seq.signer == nil {
		signer, err := loadOrCreateSigner(dir, seq.origin)
		if err != nil {
			return err
		}
		seq.signer = signer
	}
	if seq.signer.Name() != seq.origin {
		return fmt.Errorf("the checkpoint key is named %q but the log's origin is %q", seq.signer.Name(), seq.origin)
	}
	if err := s.backfillLog(ctx); err != nil {
		return err
	}
	if err := s.backfillSearch(ctx); err != nil {
		return err
	}
	rows, err := s.writer.QueryContext(ctx, `SELECT idx, hash FROM log_leaves ORDER BY idx`)
	if err != nil {
		return fmt.Errorf("while loading the log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var idx uint64
		var h []byte
		if err := rows.Scan(&idx, &h); err != nil {
			return err
		}
		if idx != seq.tree.Size() || len(h) != tlog.HashSize {
			return fmt.Errorf("the log is damaged at leaf %d: run vigil verify", seq.tree.Size())
		}
		seq.tree.Append(tlog.Hash(h))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("while loading the log: %w", err)
	}
	seq.committed = seq.tree.Size()
	var size sql.NullInt64
	if err := s.writer.QueryRowContext(ctx, `SELECT max(size) FROM log_checkpoints`).Scan(&size); err != nil {
		return fmt.Errorf("while reading the last checkpoint: %w", err)
	}
	seq.checkpointSize = uint64(size.Int64)
	return nil
}

// loadOrCreateSigner reads the checkpoint key kept in the data directory, or
// creates it (mode 0600) with its public key beside it.
func loadOrCreateSigner(dir, origin string) (*tlog.Signer, error) {
	path := filepath.Join(dir, SignerKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		signer, err := tlog.ParseSignerKey(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, fmt.Errorf("while reading %s: %w", path, err)
		}
		return signer, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("while reading the checkpoint key: %w", err)
	}
	signer, err := tlog.GenerateSigner(origin, rand.Reader)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(signer.PrivateKeyString()+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("while saving the checkpoint key: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, VerifierKeyFile), []byte(signer.Verifier().String()+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("while saving the checkpoint verifier key: %w", err)
	}
	return signer, nil
}

// backfillLog gives records and audit events stored before the log existed
// their leaves, in their original order, once.
func (s *Store) backfillLog(ctx context.Context) error {
	var leaves, records, events int64
	if err := s.writer.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM log_leaves), (SELECT count(*) FROM records), (SELECT count(*) FROM audit_events)`).
		Scan(&leaves, &records, &events); err != nil {
		return fmt.Errorf("while checking the log: %w", err)
	}
	if leaves > 0 || records+events == 0 {
		return nil
	}
	return s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var idx uint64
		add := func(l store.Leaf, recordID any) error {
			body := l.Encode()
			h := tlog.LeafHash(body)
			if _, err := tx.ExecContext(ctx, `INSERT INTO log_leaves (idx, hash, body, record_id) VALUES (?, ?, ?, ?)`, idx, h[:], body, recordID); err != nil {
				return fmt.Errorf("while backfilling the log: %w", err)
			}
			idx++
			return nil
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, account, dedup_key, ingested_at, record, findings FROM records ORDER BY seq`)
		if err != nil {
			return err
		}
		type rec struct {
			id, account, dedup string
			at                 int64
			body, findings     []byte
		}
		var recs []rec
		for rows.Next() {
			var r rec
			if err := rows.Scan(&r.id, &r.account, &r.dedup, &r.at, &r.body, &r.findings); err != nil {
				rows.Close()
				return err
			}
			recs = append(recs, r)
		}
		rows.Close()
		for _, r := range recs {
			if err := add(store.RecordLeaf(fromNanos(r.at), store.AccountKey(r.account), r.id, r.dedup, r.body, r.findings), r.id); err != nil {
				return err
			}
		}
		erows, err := tx.QueryContext(ctx, `SELECT at, actor, action, subject, detail FROM audit_events ORDER BY seq`)
		if err != nil {
			return err
		}
		var events []store.Leaf
		for erows.Next() {
			var at int64
			var actor, action, subject, detail string
			if err := erows.Scan(&at, &actor, &action, &subject, &detail); err != nil {
				erows.Close()
				return err
			}
			events = append(events, store.AuditLeaf(fromNanos(at), actor, action, subject, detail))
		}
		erows.Close()
		for _, l := range events {
			if err := add(l, nil); err != nil {
				return err
			}
		}
		// These rows are not in pending: openLog loads them from the table.
		s.seq.pending = nil
		return nil
	})
}

const insertLeafSQL = `INSERT INTO log_leaves (idx, hash, body, record_id) VALUES (?, ?, ?, ?)`

// appendLeaf adds a leaf in the current transaction. recordID is set for
// record leaves so their proofs can be found.
func (s *Store) appendLeaf(ctx context.Context, tx *sql.Tx, l store.Leaf, recordID string) error {
	stmt := tx.StmtContext(ctx, s.stmts.insertLeaf)
	return s.appendLeafWith(func(args ...any) error {
		_, err := stmt.ExecContext(ctx, args...)
		return err
	}, l.Encode(), recordID)
}

// appendLeafWith adds a leaf, given as its canonical bytes, through exec,
// which runs insertLeafSQL in the current transaction.
func (s *Store) appendLeafWith(exec func(args ...any) error, body []byte, recordID string) error {
	seq := &s.seq
	idx := seq.committed + uint64(len(seq.pending))
	h := tlog.LeafHash(body)
	var rid any
	if recordID != "" {
		rid = recordID
	}
	if err := exec(idx, h[:], body, rid); err != nil {
		return fmt.Errorf("while appending log leaf %d: %w", idx, err)
	}
	seq.pending = append(seq.pending, h)
	return nil
}

// committedLeaves is called once the current transaction committed: its
// leaves count as committed, and are handed over for the syncer to publish.
func (seq *sequencer) committedLeaves() []tlog.Hash {
	leaves := slices.Clone(seq.pending)
	seq.committed += uint64(len(leaves))
	seq.pending = seq.pending[:0]
	return leaves
}

// publish puts a durable transaction's leaves into the tree, in commit order
// (the syncer's).
func (seq *sequencer) publish(leaves []tlog.Hash) {
	if len(leaves) == 0 {
		return
	}
	seq.mu.Lock()
	for _, h := range leaves {
		seq.tree.Append(h)
	}
	seq.mu.Unlock()
}

// checkpoint signs the tree as it is, if it grew since the last checkpoint,
// and stores the signed note. Writer only.
func (s *Store) checkpoint(ctx context.Context) error {
	seq := &s.seq
	// Only the writer appends, so the size read here stays put until the
	// checkpoint is stored; the root is computed only when there is news.
	seq.mu.RLock()
	size := seq.tree.Size()
	seq.mu.RUnlock()
	if size == seq.checkpointSize {
		return nil
	}
	seq.mu.RLock()
	root := seq.tree.Root()
	seq.mu.RUnlock()
	note, err := tlog.SignCheckpoint(tlog.Checkpoint{Origin: seq.origin, Size: size, Root: root}, seq.signer)
	if err != nil {
		return err
	}
	if err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO log_checkpoints (size, note, at) VALUES (?, ?, ?)`, size, note, nanos(s.now()))
		return err
	}); err != nil {
		return fmt.Errorf("while storing the checkpoint at size %d: %w", size, err)
	}
	seq.checkpointSize = size
	return nil
}

// Checkpoint implements store.Log: it checkpoints the tree first if it grew,
// so an auditor always gets a note covering everything committed.
func (s *Store) Checkpoint(ctx context.Context) ([]byte, error) {
	if err := s.submit(ctx, &writeJob{checkpoint: true}); err != nil {
		return nil, err
	}
	var note []byte
	err := s.reader.QueryRowContext(ctx, `SELECT note FROM log_checkpoints ORDER BY size DESC LIMIT 1`).Scan(&note)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: the log is empty", store.ErrNotFound)
	}
	return note, err
}

// Verifier is the public key checkpoints verify with.
func (s *Store) Verifier() *tlog.Verifier { return s.seq.signer.Verifier() }

// Origin is the log's origin line.
func (s *Store) Origin() string { return s.seq.origin }

// Leaves implements store.Log.
func (s *Store) Leaves(ctx context.Context, start uint64, count int) ([][]byte, error) {
	if count <= 0 || count > store.MaxListLimit {
		count = store.MaxListLimit
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT idx, body FROM log_leaves WHERE idx >= ? ORDER BY idx LIMIT ?`, start, count)
	if err != nil {
		return nil, fmt.Errorf("while reading log leaves: %w", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var idx uint64
		var body []byte
		if err := rows.Scan(&idx, &body); err != nil {
			return nil, err
		}
		if idx != start+uint64(len(out)) {
			return nil, fmt.Errorf("the log is missing leaf %d", start+uint64(len(out)))
		}
		out = append(out, body)
	}
	return out, rows.Err()
}

// InclusionProof implements store.Log.
func (s *Store) InclusionProof(_ context.Context, index, size uint64) ([]tlog.Hash, error) {
	s.seq.mu.RLock()
	defer s.seq.mu.RUnlock()
	if index >= size || size > s.seq.tree.Size() {
		return nil, fmt.Errorf("%w: leaf %d in a tree of size %d (the log has %d leaves)", store.ErrInvalid, index, size, s.seq.tree.Size())
	}
	return s.seq.tree.InclusionProof(index, size)
}

// ConsistencyProof implements store.Log.
func (s *Store) ConsistencyProof(_ context.Context, size1, size2 uint64) ([]tlog.Hash, error) {
	s.seq.mu.RLock()
	defer s.seq.mu.RUnlock()
	if size1 > size2 || size2 > s.seq.tree.Size() {
		return nil, fmt.Errorf("%w: sizes %d to %d (the log has %d leaves)", store.ErrInvalid, size1, size2, s.seq.tree.Size())
	}
	return s.seq.tree.ConsistencyProof(size1, size2)
}

// TreeHashes implements store.Log. Each call of the returned function takes
// the read lock only for one lookup, so serving a tile never holds up the
// writer for long.
func (s *Store) TreeHashes(_ context.Context, size uint64) (tlog.HashAtFunc, error) {
	s.seq.mu.RLock()
	have := s.seq.tree.Size()
	s.seq.mu.RUnlock()
	if size > have {
		return nil, fmt.Errorf("%w: tree of size %d (the log has %d leaves)", store.ErrInvalid, size, have)
	}
	return func(level uint8, index uint64) (tlog.Hash, error) {
		if level >= 64 || index >= size>>level {
			return tlog.Hash{}, fmt.Errorf("%w: no complete subtree at level %d index %d in the tree of size %d", store.ErrInvalid, level, index, size)
		}
		s.seq.mu.RLock()
		defer s.seq.mu.RUnlock()
		return s.seq.tree.HashAt(level, index)
	}, nil
}

// RecordLeafIndex implements store.Log.
func (s *Store) RecordLeafIndex(ctx context.Context, recordID string) (uint64, error) {
	var idx uint64
	err := s.reader.QueryRowContext(ctx, `SELECT idx FROM log_leaves WHERE record_id = ? ORDER BY idx DESC LIMIT 1`, recordID).Scan(&idx)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%w: no log leaf for record %s", store.ErrNotFound, recordID)
	}
	return idx, err
}

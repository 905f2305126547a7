package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

// sequencer holds the replica's in-memory tree of the log: every leaf hash
// committed, in order. Leaves reach it only after their transaction
// committed (inTx), or when read back from log_leaves, where another
// replica's committed leaves appear (catchUp).
type sequencer struct {
	mu   sync.RWMutex
	tree tlog.Tree

	signer *tlog.Signer
	origin string
	// checkpointSize is the size of the last checkpoint stored; writer only.
	checkpointSize uint64
}

var _ store.Log = (*Store)(nil)

// querier is a connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

const logSizeSQL = `SELECT coalesce(max(idx) + 1, 0) FROM log_leaves`

func (seq *sequencer) size() uint64 {
	seq.mu.RLock()
	defer seq.mu.RUnlock()
	return seq.tree.Size()
}

// extend appends the hashes of leaves start, start+1, … that the tree does
// not hold yet. A catch-up and the writer's publish may both bring the same
// committed leaves; each is appended once. A start beyond the tree's end
// (leaves in between unknown) appends nothing: the next catch-up reads
// them all from the table.
func (seq *sequencer) extend(start uint64, hashes []tlog.Hash) {
	seq.mu.Lock()
	defer seq.mu.Unlock()
	size := seq.tree.Size()
	if start > size || start+uint64(len(hashes)) <= size {
		return
	}
	for _, h := range hashes[size-start:] {
		seq.tree.Append(h)
	}
}

// openLog checks the signer and loads the tree from log_leaves.
func (s *Store) openLog(ctx context.Context, opts Options) error {
	seq := &s.seq
	seq.origin = opts.LogOrigin
	if seq.origin == "" {
		seq.origin = DefaultLogOrigin
	}
	seq.signer = opts.LogSigner
	if seq.signer.Name() != seq.origin {
		return fmt.Errorf("the checkpoint key is named %q but the log's origin is %q", seq.signer.Name(), seq.origin)
	}
	if err := s.syncTree(ctx, s.wconn); err != nil {
		return err
	}
	var size int64
	if err := s.wconn.QueryRow(ctx, `SELECT coalesce(max(size), 0) FROM log_checkpoints`).Scan(&size); err != nil {
		return fmt.Errorf("while reading the last checkpoint: %w", err)
	}
	seq.checkpointSize = uint64(size)
	return nil
}

// syncTree brings the tree up to the leaves committed so far.
func (s *Store) syncTree(ctx context.Context, q querier) error {
	var size int64
	if err := q.QueryRow(ctx, logSizeSQL).Scan(&size); err != nil {
		return fmt.Errorf("while reading the log's size: %w", err)
	}
	return s.catchUp(ctx, q, uint64(size))
}

// catchUp appends to the tree the leaves below size it lacks, read from
// log_leaves.
func (s *Store) catchUp(ctx context.Context, q querier, size uint64) error {
	have := s.seq.size()
	if size < have {
		return fmt.Errorf("the log in the database has %d leaves, fewer than the %d already served: run vigil verify", size, have)
	}
	if size == have {
		return nil
	}
	rows, err := q.Query(ctx, `SELECT idx, hash FROM log_leaves WHERE idx >= $1 AND idx < $2 ORDER BY idx`, int64(have), int64(size))
	if err != nil {
		return fmt.Errorf("while loading the log: %w", err)
	}
	defer rows.Close()
	hashes := make([]tlog.Hash, 0, size-have)
	for rows.Next() {
		var idx int64
		var h []byte
		if err := rows.Scan(&idx, &h); err != nil {
			return fmt.Errorf("while loading the log: %w", err)
		}
		at := have + uint64(len(hashes))
		if uint64(idx) != at || len(h) != tlog.HashSize {
			return fmt.Errorf("the log is damaged at leaf %d: run vigil verify", at)
		}
		hashes = append(hashes, tlog.Hash(h))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("while loading the log: %w", err)
	}
	if uint64(len(hashes)) != size-have {
		return fmt.Errorf("the log is damaged at leaf %d: run vigil verify", have+uint64(len(hashes)))
	}
	s.seq.extend(have, hashes)
	return nil
}

// covers makes sure the tree holds size leaves if the log does: a proof
// may be asked of this replica for a checkpoint another one signed.
func (s *Store) covers(ctx context.Context, size uint64) error {
	if size <= s.seq.size() {
		return nil
	}
	return s.reader.with(ctx, func(c *pgx.Conn) error { return s.syncTree(ctx, c) })
}

// checkpoint signs the tree as it is, if it grew since the last checkpoint,
// and stores the signed note. Writer only.
func (s *Store) checkpoint(ctx context.Context) error {
	conn, err := s.writerConn(ctx)
	if err != nil {
		return err
	}
	if err := s.syncTree(ctx, conn); err != nil {
		return err
	}
	seq := &s.seq
	seq.mu.RLock()
	size := seq.tree.Size()
	var root tlog.Hash
	if size != seq.checkpointSize {
		root = seq.tree.Root()
	}
	seq.mu.RUnlock()
	if size == seq.checkpointSize {
		return nil
	}
	note, err := tlog.SignCheckpoint(tlog.Checkpoint{Origin: seq.origin, Size: size, Root: root}, seq.signer)
	if err != nil {
		return err
	}
	// Another replica may have signed the same size: Ed25519 signatures
	// are deterministic, so its note is this one.
	if _, err := conn.Exec(ctx, `INSERT INTO log_checkpoints (size, note, at) VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING`,
		int64(size), note, nanos(s.now())); err != nil {
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
	err := s.reader.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT note FROM log_checkpoints ORDER BY size DESC LIMIT 1`).Scan(&note)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: the log is empty", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("while reading the checkpoint: %w", err)
	}
	return note, nil
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
	var out [][]byte
	err := s.reader.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT idx, body FROM log_leaves WHERE idx >= $1 ORDER BY idx LIMIT $2`, int64(start), count)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var idx int64
			var body []byte
			if err := rows.Scan(&idx, &body); err != nil {
				return err
			}
			if uint64(idx) != start+uint64(len(out)) {
				return fmt.Errorf("the log is missing leaf %d", start+uint64(len(out)))
			}
			out = append(out, body)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("while reading log leaves: %w", err)
	}
	return out, nil
}

// InclusionProof implements store.Log.
func (s *Store) InclusionProof(ctx context.Context, index, size uint64) ([]tlog.Hash, error) {
	if err := s.covers(ctx, size); err != nil {
		return nil, err
	}
	s.seq.mu.RLock()
	defer s.seq.mu.RUnlock()
	if index >= size || size > s.seq.tree.Size() {
		return nil, fmt.Errorf("%w: leaf %d in a tree of size %d (the log has %d leaves)", store.ErrInvalid, index, size, s.seq.tree.Size())
	}
	return s.seq.tree.InclusionProof(index, size)
}

// ConsistencyProof implements store.Log.
func (s *Store) ConsistencyProof(ctx context.Context, size1, size2 uint64) ([]tlog.Hash, error) {
	if err := s.covers(ctx, size2); err != nil {
		return nil, err
	}
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
func (s *Store) TreeHashes(ctx context.Context, size uint64) (tlog.HashAtFunc, error) {
	if err := s.covers(ctx, size); err != nil {
		return nil, err
	}
	if have := s.seq.size(); size > have {
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
	var idx int64
	err := s.reader.with(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT idx FROM log_leaves WHERE record_id = $1 ORDER BY idx DESC LIMIT 1`, recordID).Scan(&idx)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("%w: no log leaf for record %s", store.ErrNotFound, recordID)
	}
	if err != nil {
		return 0, fmt.Errorf("while finding the leaf of record %s: %w", recordID, err)
	}
	return uint64(idx), nil
}

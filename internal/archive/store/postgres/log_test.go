package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
	"github.com/vigil-operator/vigil/internal/capture"
)

var day = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func ingestN(t *testing.T, s *Store, prefix string, n int) {
	t.Helper()
	if _, err := s.Ingest(context.Background(), "desk/a", "A", "test", batch(prefix, n)); err != nil {
		t.Fatal(err)
	}
}

func batch(prefix string, n int) []capture.Envelope {
	envs := make([]capture.Envelope, n)
	for i := range envs {
		envs[i] = storetest.Envelope(fmt.Sprintf("%s-%d", prefix, i), day.Add(time.Duration(i)*time.Second), "日志 "+prefix, 0)
	}
	return envs
}

// testLogSurvivesReopen: the tree is rebuilt from the database with the
// same root, and the log keeps growing consistently across the restart.
func testLogSurvivesReopen(t *testing.T, env *pgEnv) {
	dsn, k := env.database(t), newTestKeys(t)
	s := open(t, dsn, k, Options{})
	ingestN(t, s, "x", 5)
	before := storetest.OpenCheckpoint(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dsn, k, Options{})
	again := storetest.OpenCheckpoint(t, s)
	if again.Size != before.Size || again.Root != before.Root {
		t.Fatalf("reopened tree %d/%s differs from %d/%s", again.Size, again.Root, before.Size, before.Root)
	}
	ingestN(t, s, "y", 3)
	after := storetest.OpenCheckpoint(t, s)
	proof, err := s.ConsistencyProof(context.Background(), before.Size, after.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.VerifyConsistency(before.Size, after.Size, proof, before.Root, after.Root); err != nil {
		t.Fatal(err)
	}
	storetest.ReadLog(t, s, after)
}

// testFailedTransactionAppendsNoLeaf: leaves appended by a transaction that
// rolls back never reach the tree, and the next leaf takes their index.
func testFailedTransactionAppendsNoLeaf(t *testing.T, env *pgEnv) {
	s := env.fresh(t)
	ingestN(t, s, "a", 2)
	sizeBefore := storetest.OpenCheckpoint(t, s).Size
	boom := errors.New("boom")
	err := s.exclusive(context.Background(), func(_ context.Context, tx *txn) error {
		s.audit(tx, "test", "doomed", "desk/a", "")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("exclusive = %v", err)
	}
	if got := storetest.OpenCheckpoint(t, s).Size; got != sizeBefore {
		t.Fatalf("a rolled-back leaf reached the tree: size %d → %d", sizeBefore, got)
	}
	// A statement the server refuses rolls the leaves back too.
	err = s.exclusive(context.Background(), func(ctx context.Context, tx *txn) error {
		s.audit(tx, "test", "doomed", "desk/a", "")
		_, err := tx.Exec(ctx, `INSERT INTO log_leaves (idx, hash, body) VALUES (-1, '\x00', '\x00')`)
		return err
	})
	if err == nil {
		t.Fatal("a refused statement must fail the transaction")
	}
	ingestN(t, s, "b", 1)
	storetest.ReadLog(t, s, storetest.OpenCheckpoint(t, s))
}

// testConcurrentIngestsLeaveNoGap ingests from several goroutines while
// others take checkpoints: every checkpoint verifies and extends the one
// before, and the final log holds every leaf, in order, once.
func testConcurrentIngestsLeaveNoGap(t *testing.T, env *pgEnv) {
	s := env.fresh(t)
	const writers, batches, perBatch = 6, 8, 25
	notes := checkpointsDuring(t, func() {
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for b := range batches {
					if _, err := s.Ingest(context.Background(), "desk/a", "A", "test", batch(fmt.Sprintf("w%d-b%d", w, b), perBatch)); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	}, s)
	final := verifyCheckpoints(t, notes, s)
	leaves := storetest.ReadLog(t, s, final)
	if want := writers * batches * (perBatch + 1); len(leaves) != want {
		t.Fatalf("%d leaves, want %d records and audit events", len(leaves), want)
	}
}

// checkpointsDuring runs work while each of the stores is asked for
// checkpoints in a loop, and returns the notes collected.
func checkpointsDuring(t *testing.T, work func(), stores ...*Store) [][]byte {
	t.Helper()
	var mu sync.Mutex
	var notes [][]byte
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, s := range stores {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				note, err := s.Checkpoint(context.Background())
				if errors.Is(err, store.ErrNotFound) {
					continue // nothing committed yet
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				notes = append(notes, note)
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	work()
	close(done)
	wg.Wait()
	for _, s := range stores {
		note, err := s.Checkpoint(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		notes = append(notes, note)
	}
	return notes
}

// verifyCheckpoints checks every note's signature, and that the largest
// one extends every other (through l's consistency proofs); it returns the
// largest.
func verifyCheckpoints(t *testing.T, notes [][]byte, l store.Log) tlog.Checkpoint {
	t.Helper()
	cps := make([]tlog.Checkpoint, len(notes))
	var final tlog.Checkpoint
	for i, note := range notes {
		cp, _, err := tlog.OpenCheckpoint(note, l.Origin(), []*tlog.Verifier{l.Verifier()})
		if err != nil {
			t.Fatalf("checkpoint %d does not verify: %v\n%s", i, err, note)
		}
		cps[i] = cp
		if cp.Size > final.Size {
			final = cp
		}
	}
	if len(cps) < 3 {
		t.Fatalf("only %d checkpoints were taken", len(cps))
	}
	for _, cp := range cps {
		proof, err := l.ConsistencyProof(context.Background(), cp.Size, final.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.VerifyConsistency(cp.Size, final.Size, proof, cp.Root, final.Root); err != nil {
			t.Fatalf("checkpoint at %d is not a prefix of the one at %d: %v", cp.Size, final.Size, err)
		}
	}
	return final
}

// testReplicasShareOneLog opens three replicas on one new database at once
// (their migrations race), ingests through all of them concurrently while
// each takes checkpoints, and checks that they wrote one log: no gap, no
// leaf twice, every checkpoint of every replica a prefix of the final one,
// and a record stored by one replica provable by another.
func testReplicasShareOneLog(t *testing.T, env *pgEnv) {
	dsn, k := env.database(t), newTestKeys(t)
	replicas := make([]*Store, 3)
	var wg sync.WaitGroup
	errs := make([]error, len(replicas))
	for i := range replicas {
		wg.Go(func() {
			replicas[i], errs[i] = Open(context.Background(), dsn, Options{LogSigner: k.signer, KeyRing: k.ring})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		t.Cleanup(func() { _ = replicas[i].Close() })
	}
	const batches, perBatch = 10, 20
	notes := checkpointsDuring(t, func() {
		var wg sync.WaitGroup
		for i, s := range replicas {
			for w := range 2 {
				wg.Go(func() {
					for b := range batches {
						if _, err := s.Ingest(context.Background(), "desk/a", "A", "test", batch(fmt.Sprintf("r%d-w%d-b%d", i, w, b), perBatch)); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
		}
		wg.Wait()
	}, replicas...)
	final := verifyCheckpoints(t, notes, replicas[0])
	leaves := storetest.ReadLog(t, replicas[1], final)
	if want := len(replicas) * 2 * batches * (perBatch + 1); len(leaves) != want {
		t.Fatalf("%d leaves, want %d", len(leaves), want)
	}
	seen := map[string]bool{}
	for _, l := range leaves {
		if l.Type == store.LeafRecord {
			if seen[l.RecordID] {
				t.Fatalf("record %s has two leaves", l.RecordID)
			}
			seen[l.RecordID] = true
		}
	}
	proveAcrossReplicas(t, replicas, final, leaves)
}

// proveAcrossReplicas asks each replica for the inclusion proof of a record
// another replica stored.
func proveAcrossReplicas(t *testing.T, replicas []*Store, cp tlog.Checkpoint, leaves []store.Leaf) {
	t.Helper()
	ctx := context.Background()
	for _, s := range replicas {
		for _, l := range []store.Leaf{leaves[0], leaves[len(leaves)/2], leaves[len(leaves)-2]} {
			if l.Type != store.LeafRecord {
				continue
			}
			idx, err := s.RecordLeafIndex(ctx, l.RecordID)
			if err != nil {
				t.Fatal(err)
			}
			proof, err := s.InclusionProof(ctx, idx, cp.Size)
			if err != nil {
				t.Fatal(err)
			}
			if err := tlog.VerifyInclusion(l.Hash(), idx, cp.Size, proof, cp.Root); err != nil {
				t.Fatalf("record %s: %v", l.RecordID, err)
			}
		}
	}
}

// testTreeHashesServeACheckpoint: the subtree hashes for a checkpoint's
// size, read through another replica, rebuild the checkpoint's root, and
// nothing beyond the size is served.
func testTreeHashesServeACheckpoint(t *testing.T, env *pgEnv) {
	ctx := context.Background()
	dsn, k := env.database(t), newTestKeys(t)
	a, b := open(t, dsn, k, Options{}), open(t, dsn, k, Options{})
	ingestN(t, a, "tile", 6)
	cp := storetest.OpenCheckpoint(t, a)
	ingestN(t, a, "later", 3)
	hashAt, err := b.TreeHashes(ctx, cp.Size)
	if err != nil {
		t.Fatal(err)
	}
	root, err := tlog.TreeHash(cp.Size, hashAt)
	if err != nil || root != cp.Root {
		t.Fatalf("root from the tree hashes = %s, %v; the checkpoint says %s", root, err, cp.Root)
	}
	if _, err := hashAt(0, cp.Size); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("a leaf beyond the size = %v, want ErrInvalid", err)
	}
	if _, err := b.TreeHashes(ctx, cp.Size+1000); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("a size beyond the log = %v, want ErrInvalid", err)
	}
}

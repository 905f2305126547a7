package sqlite

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/capture"
)

func treeSize(s *Store) uint64 {
	s.seq.mu.RLock()
	defer s.seq.mu.RUnlock()
	return s.seq.tree.Size()
}

// openSettledStore opens a store that has stored one record (making the
// month's data key, so later commits are records only) and whose writer is
// idle: no checkpoint ticks, and the first checkpoint already signed.
func openSettledStore(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	s := openTestStore(t, t.TempDir(), Options{CheckpointInterval: time.Hour})
	if _, err := s.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{storetest.Envelope("first", day, "first", 0)}); err != nil {
		t.Fatal(err)
	}
	// The writer signs a new archive's first leaves after answering; a
	// checkpoint job queues behind that, so the writer is idle after it.
	if _, err := s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// replaceFsync swaps the syncer's fsync of the WAL; fn gets the real one.
func replaceFsync(s *Store, fn func(walSync func() error) error) {
	s.sync.mu.Lock()
	defer s.sync.mu.Unlock()
	walSync := s.sync.fsync
	s.sync.fsync = func() error { return fn(walSync) }
}

// holdFsync makes every fsync of the WAL wait for release; entered is
// signalled when one starts. The test's end releases it, so a failing check
// cannot leave the store's Close waiting on the disk.
func holdFsync(t *testing.T, s *Store) (entered <-chan struct{}, release func()) {
	t.Helper()
	in, held := make(chan struct{}, 1), make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(held) }) }
	// Cleanups run last first: this one before the store's Close.
	t.Cleanup(release)
	replaceFsync(s, func(walSync func() error) error {
		select {
		case in <- struct{}{}:
		default:
		}
		<-held
		return walSync()
	})
	return in, release
}

func ingestInBackground(s *Store, native string) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := s.Ingest(context.Background(), "desk/a", "A", "t", []capture.Envelope{storetest.Envelope(native, day, native, 0)})
		done <- err
	}()
	return done
}

// TestNothingIsAcknowledgedOrLoggedBeforeItIsDurable holds the WAL's fsync:
// the ingest that committed meanwhile is neither answered nor in the tree
// (so neither signed nor provable) until the fsync returns.
func TestNothingIsAcknowledgedOrLoggedBeforeItIsDurable(t *testing.T) {
	s := openSettledStore(t)
	before := treeSize(s)
	entered, release := holdFsync(t, s)
	done := ingestInBackground(s, "second")
	<-entered
	select {
	case err := <-done:
		t.Fatalf("Ingest returned (%v) while its commit was not yet durable", err)
	case <-time.After(100 * time.Millisecond):
	}
	if got := treeSize(s); got != before {
		t.Fatalf("the tree grew from %d to %d before the commit was durable", before, got)
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := treeSize(s); got <= before {
		t.Fatalf("the tree did not grow once durable: %d", got)
	}
}

// TestAFailedFsyncStopsWrites: the commits behind a failed fsync fail, are
// never put into the tree, and every later write is refused.
func TestAFailedFsyncStopsWrites(t *testing.T) {
	s := openSettledStore(t)
	before := treeSize(s)
	replaceFsync(s, func(func() error) error { return errors.New("input/output error") })
	if err := <-ingestInBackground(s, "lost"); !errors.Is(err, errNotDurable) {
		t.Fatalf("Ingest after a failed fsync = %v, want errNotDurable", err)
	}
	if got := treeSize(s); got != before {
		t.Fatalf("the tree grew from %d to %d with a commit that never became durable", before, got)
	}
	if err := <-ingestInBackground(s, "later"); !errors.Is(err, errNotDurable) {
		t.Fatalf("a later Ingest = %v, want it refused with errNotDurable", err)
	}
}

// TestShippingWaitsForDurability: a record committed but not yet durable is
// not handed to the WORM copy until it is.
func TestShippingWaitsForDurability(t *testing.T) {
	s := openSettledStore(t)
	entered, release := holdFsync(t, s)
	ingestInBackground(s, "second")
	<-entered // the second record is committed, and visible, but not durable
	pending := make(chan int, 1)
	go func() {
		got, err := catalog{s}.Pending(context.Background(), 100)
		if err != nil {
			t.Error(err)
		}
		pending <- len(got)
	}()
	select {
	case n := <-pending:
		t.Fatalf("Pending returned %d records while the last commit was not durable", n)
	case <-time.After(200 * time.Millisecond):
	}
	release()
	if n := <-pending; n != 2 {
		t.Fatalf("Pending after the commit became durable = %d records, want 2", n)
	}
}

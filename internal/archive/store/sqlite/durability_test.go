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

// TestNothingIsAcknowledgedOrLoggedBeforeItIsDurable holds the WAL's fsync:
// the ingest that committed meanwhile is neither answered nor in the tree
// (so neither signed nor provable) until the fsync returns.
func TestNothingIsAcknowledgedOrLoggedBeforeItIsDurable(t *testing.T) {
	ctx := context.Background()
	// No checkpoint ticks: the only commit after the first ingest (which
	// also creates the month's data key) is the second ingest's.
	s := openTestStore(t, t.TempDir(), Options{CheckpointInterval: time.Hour})
	if _, err := s.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{storetest.Envelope("first", day, "first", 0)}); err != nil {
		t.Fatal(err)
	}
	// The writer signs a new archive's first leaves after answering; a
	// checkpoint job queues behind that, so the writer is idle after it.
	if _, err := s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	before := treeSize(s)
	entered, release := make(chan struct{}, 1), make(chan struct{})
	var releaseOnce sync.Once
	releaseSync := func() { releaseOnce.Do(func() { close(release) }) }
	// A failing check must not leave the store's Close waiting on the disk.
	defer releaseSync()
	s.sync.mu.Lock()
	walSync := s.sync.fsync
	s.sync.fsync = func() error {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
		return walSync()
	}
	s.sync.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		_, err := s.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{storetest.Envelope("second", day, "second", 0)})
		done <- err
	}()
	<-entered
	select {
	case err := <-done:
		t.Fatalf("Ingest returned (%v) while its commit was not yet durable", err)
	case <-time.After(100 * time.Millisecond):
	}
	if got := treeSize(s); got != before {
		t.Fatalf("the tree grew from %d to %d before the commit was durable", before, got)
	}
	releaseSync()
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
	ctx := context.Background()
	s := openTestStore(t, t.TempDir(), Options{CheckpointInterval: time.Hour})
	// The month's data key is made (and durable) first, so what fails
	// below is the record's own commit.
	if _, err := s.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{storetest.Envelope("first", day, "first", 0)}); err != nil {
		t.Fatal(err)
	}
	// The writer signs a new archive's first leaves after answering; a
	// checkpoint job queues behind that, so the writer is idle after it.
	if _, err := s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	before := treeSize(s)
	s.sync.mu.Lock()
	s.sync.fsync = func() error { return errors.New("input/output error") }
	s.sync.mu.Unlock()
	_, err := s.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{storetest.Envelope("lost", day, "lost", 0)})
	if !errors.Is(err, errNotDurable) {
		t.Fatalf("Ingest after a failed fsync = %v, want errNotDurable", err)
	}
	if got := treeSize(s); got != before {
		t.Fatalf("the tree grew from %d to %d with a commit that never became durable", before, got)
	}
	if _, err := s.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{storetest.Envelope("later", day, "later", 0)}); !errors.Is(err, errNotDurable) {
		t.Fatalf("a later Ingest = %v, want it refused with errNotDurable", err)
	}
}

// TestShippingWaitsForDurability: a record committed but not yet durable is
// not handed to the WORM copy until it is.
func TestShippingWaitsForDurability(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, t.TempDir(), Options{CheckpointInterval: time.Hour})
	if _, err := s.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{storetest.Envelope("first", day, "first", 0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}, 1), make(chan struct{})
	var releaseOnce sync.Once
	releaseSync := func() { releaseOnce.Do(func() { close(release) }) }
	defer releaseSync()
	s.sync.mu.Lock()
	walSync := s.sync.fsync
	s.sync.fsync = func() error {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
		return walSync()
	}
	s.sync.mu.Unlock()
	go func() {
		_, _ = s.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{storetest.Envelope("second", day, "second", 0)})
	}()
	<-entered // the second record is committed, and visible, but not durable
	pending := make(chan int, 1)
	go func() {
		got, err := catalog{s}.Pending(ctx, 100)
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
	releaseSync()
	if n := <-pending; n != 2 {
		t.Fatalf("Pending after the commit became durable = %d records, want 2", n)
	}
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/capture"
)

// tickingClock moves on a millisecond at every reading, so that no two
// readings are equal and their order shows.
func tickingClock() func() time.Time {
	var n atomic.Int64
	return func() time.Time { return day.Add(time.Duration(n.Add(1)) * time.Millisecond) }
}

// checkRecordLeaves checks that every stored record has exactly one log
// leaf, and that it is the leaf the record's stored bytes, ingest time and
// custodian encode to, byte for byte; and that the search index holds a
// document for each record and no other. It returns the number of record
// leaves.
func checkRecordLeaves(t *testing.T, s *Store, account store.AccountKey) int {
	t.Helper()
	ctx := context.Background()
	plain := map[string]store.StoredRecord{}
	for after := ""; ; {
		page, next, err := s.List(ctx, store.Query{Account: account, After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, sr := range page {
			plain[sr.Record.ID] = sr
		}
		if after = next; next == "" {
			break
		}
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT r.id, r.dedup_key, r.custodian, r.sent_at, r.ingested_at, r.record, r.findings, r.key_id,
		(SELECT count(*) FROM log_leaves l WHERE l.record_id = r.id), (SELECT body FROM log_leaves l WHERE l.record_id = r.id)
		FROM records r WHERE r.account = ?`, string(account))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, dedup, custodian, keyID string
		var sent, ingested int64
		var sealed, sealedFindings, body []byte
		var leaves int
		if err := rows.Scan(&id, &dedup, &custodian, &sent, &ingested, &sealed, &sealedFindings, &keyID, &leaves, &body); err != nil {
			t.Fatal(err)
		}
		sr, ok := plain[id]
		if !ok || leaves != 1 {
			t.Fatalf("record %s: listed %v, %d leaves", id, ok, leaves)
		}
		want := store.RecordLeaf(fromNanos(ingested), account, id, dedup, sr.RecordBytes, sr.FindingsBytes).
			Sealed(fromNanos(sent), keyID, sealed, sealedFindings).FiledUnder(custodian).Encode()
		if string(body) != string(want) {
			t.Fatalf("record %s has leaf\n%s\nwant\n%s", id, body, want)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var indexed, records int
	if err := s.reader.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM records_fts), (SELECT count(*) FROM records)`).Scan(&indexed, &records); err != nil {
		t.Fatal(err)
	}
	if indexed != records {
		t.Fatalf("the search index holds %d documents for %d records", indexed, records)
	}
	return n
}

// TestIngestLogsEachStoredRecordOnce: each stored record gets the leaf its
// stored bytes encode to, at the time it was stored; a duplicate, in the
// batch or from an earlier one, gets neither a leaf nor search terms.
func TestIngestLogsEachStoredRecordOnce(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, t.TempDir(), Options{Now: tickingClock()})
	first := []capture.Envelope{
		storetest.Envelope("m1", day, "早晨 order one", 0),
		storetest.Envelope("m2", day.Add(time.Second), "guaranteed returns", 2),
	}
	again := storetest.Envelope("m1", day, "早晨 order one", 0) // same dedup key as m1
	second := []capture.Envelope{again, storetest.Envelope("m3", day.Add(2*time.Second), "third", 1), again}
	if res, err := s.Ingest(ctx, "desk/a", "Alice", "t", first); err != nil || res.Inserted != 2 {
		t.Fatalf("first batch = %+v, %v", res, err)
	}
	if res, err := s.Ingest(ctx, "desk/a", "Bob", "t", second); err != nil || res.Inserted != 1 || res.Duplicates != 2 {
		t.Fatalf("second batch = %+v, %v", res, err)
	}
	if n := checkRecordLeaves(t, s, "desk/a"); n != 3 {
		t.Fatalf("%d record leaves, want 3", n)
	}
	leaves := storetest.ReadLog(t, s, storetest.OpenCheckpoint(t, s))
	if len(leaves) != 3+2 {
		t.Fatalf("%d leaves, want 3 records and 2 ingest events", len(leaves))
	}
}

// TestLeafTimesFollowLogOrder: every leaf's time is read from the clock by
// the writer as it appends the leaf, so with concurrent callers the times
// still never go back along the log, and a record's leaf time is its
// ingested_at (checked by checkRecordLeaves).
func TestLeafTimesFollowLogOrder(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, t.TempDir(), Options{Now: tickingClock()})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for c := range 8 {
		wg.Go(func() {
			for b := range 10 {
				envs := make([]capture.Envelope, 20)
				for i := range envs {
					envs[i] = storetest.Envelope(fmt.Sprintf("c%d-b%d-m%d", c, b, i), day.Add(time.Duration(i)*time.Second), "并发 ingest", i%2)
				}
				if _, err := s.Ingest(ctx, "desk/a", "Alice", "t", envs); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := checkRecordLeaves(t, s, "desk/a"); n != 8*10*20 {
		t.Fatalf("%d record leaves, want %d", n, 8*10*20)
	}
	leaves := storetest.ReadLog(t, s, storetest.OpenCheckpoint(t, s))
	for i := 1; i < len(leaves); i++ {
		if leaves[i].At < leaves[i-1].At {
			t.Fatalf("leaf %d (%s) is at %d, before leaf %d (%s) at %d", i, leaves[i].Type, leaves[i].At, i-1, leaves[i-1].Type, leaves[i-1].At)
		}
	}
}

// TestFailedGroupRetriesEachBatchAlone: when one batch of a group commit
// fails (here, one sealed under a key a purge destroyed since), the group
// rolls back and each batch is tried alone: the good one is stored with
// its leaves and terms, once, and the bad one fails alone.
func TestFailedGroupRetriesEachBatchAlone(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, t.TempDir(), Options{})
	stale := jobThatLostARaceWithAPurge(t, s)
	kept := storetest.Envelope("kept", day, "already stored", 1)
	if _, err := s.Ingest(ctx, "desk/a", "A", "t", []capture.Envelope{kept}); err != nil {
		t.Fatal(err)
	}
	sizeBefore := storetest.OpenCheckpoint(t, s).Size

	// Hold the writer, so that both batches queue and form one group.
	release, held := make(chan struct{}), make(chan struct{})
	go func() {
		_ = s.exclusive(ctx, func(context.Context, *sql.Tx) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	waitQueued := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); len(s.jobs) < n; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d jobs queued, want %d", len(s.jobs), n)
			}
		}
	}
	staleErr := make(chan error, 1)
	go func() { staleErr <- s.submit(ctx, &writeJob{ingest: stale}) }()
	waitQueued(1)
	good := []capture.Envelope{storetest.Envelope("g1", day, "good one", 0), kept, storetest.Envelope("g2", day, "good two", 2)}
	type outcome struct {
		res store.IngestResult
		err error
	}
	goodDone := make(chan outcome, 1)
	go func() {
		res, err := s.Ingest(ctx, "desk/a", "B", "t", good)
		goodDone <- outcome{res, err}
	}()
	waitQueued(2)
	close(release)

	if err := <-staleErr; !errors.Is(err, errKeyDestroyed) {
		t.Fatalf("the stale batch = %v, want errKeyDestroyed", err)
	}
	if o := <-goodDone; o.err != nil || o.res.Inserted != 2 || o.res.Duplicates != 1 {
		t.Fatalf("the good batch = %+v, %v", o.res, o.err)
	}
	if n := checkRecordLeaves(t, s, "desk/a"); n != 3 {
		t.Fatalf("%d record leaves, want kept, g1 and g2", n)
	}
	if got := storetest.OpenCheckpoint(t, s).Size; got != sizeBefore+3 {
		t.Fatalf("the log grew by %d leaves, want 2 records and 1 ingest event", got-sizeBefore)
	}
}

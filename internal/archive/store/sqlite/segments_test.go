package sqlite

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/archive/segments"
	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/shipping"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/capture"
)

// fakeClock is a clock tests move by hand, shared by the store and the
// segment backend so that locks can run out without waiting.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestSegmentsKeepAWORMCopy ships records of two accounts and two months
// into segments on the filesystem backend, reads each back from its segment,
// mirrors a legal hold onto the segment objects, and deletes segments only
// once their records are purged and their locks have run out.
func TestSegmentsKeepAWORMCopy(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	backend, err := segments.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	backend.SetClock(clock.Now)
	s, err := Open(ctx, t.TempDir(), Options{Logger: logr.Discard(), Now: clock.Now,
		Segments: &shipping.Options{Backend: backend, Retention: 24 * time.Hour, Interval: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	jan, feb := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)
	for _, acct := range []store.AccountKey{"desk/a", "desk/b"} {
		var envs []capture.Envelope
		for i := range 20 {
			sent := jan
			if i%2 == 1 {
				sent = feb
			}
			envs = append(envs, storetest.Envelope(string(acct)+string(rune('a'+i)), sent.Add(time.Duration(i)*time.Minute), "開會 meeting", 0))
		}
		if _, err := s.Ingest(ctx, acct, "C", "connector", envs); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.PutHold(ctx, store.Hold{ID: "h", Accounts: []store.AccountKey{"desk/a"}, Reason: "inquiry", Actor: "legal"}); err != nil {
		t.Fatal(err)
	}
	if err := s.ShipSegments(ctx); err != nil {
		t.Fatal(err)
	}

	// One segment per account and month, every record placed and readable.
	type seg struct {
		key, version, account string
		held                  bool
	}
	segs := map[string]seg{}
	rows, err := s.reader.QueryContext(ctx, `SELECT key, version_id, account, legal_hold FROM segments WHERE deleted_at IS NULL`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var g seg
		if err := rows.Scan(&g.key, &g.version, &g.account, &g.held); err != nil {
			t.Fatal(err)
		}
		segs[g.key] = g
	}
	rows.Close()
	if len(segs) != 4 {
		t.Fatalf("%d segments, want one per account and month (4)", len(segs))
	}
	for _, g := range segs {
		if _, err := segments.Verify(ctx, backend, g.key, g.version); err != nil {
			t.Fatalf("segment %s does not verify: %v", g.key, err)
		}
		info, err := backend.Stat(ctx, g.key, g.version)
		if err != nil {
			t.Fatal(err)
		}
		if info.LegalHold != (g.account == "desk/a") || g.held != info.LegalHold {
			t.Fatalf("segment of %s: object hold %v, row %v; only desk/a is held", g.account, info.LegalHold, g.held)
		}
	}
	rs, err := s.reader.QueryContext(ctx, `SELECT r.record, rs.segment_key, rs.offset, rs.length, rs.sha256 FROM records r JOIN record_segments rs ON rs.seq = r.seq`)
	if err != nil {
		t.Fatal(err)
	}
	placed := 0
	for rs.Next() {
		var stored []byte
		var ref segments.Ref
		var sum []byte
		if err := rs.Scan(&stored, &ref.Key, &ref.Offset, &ref.Length, &sum); err != nil {
			t.Fatal(err)
		}
		copy(ref.SHA256[:], sum)
		got, err := segments.ReadRecord(ctx, backend, ref, segs[ref.Key].version)
		if err != nil || !bytes.Equal(got, stored) {
			t.Fatalf("record in %s: %v; segment copy equals the database's: %v", ref.Key, err, bytes.Equal(got, stored))
		}
		placed++
	}
	rs.Close()
	if placed != 40 {
		t.Fatalf("%d records placed in segments, want 40", placed)
	}
	// Shipping again ships nothing new.
	if err := s.ShipSegments(ctx); err != nil {
		t.Fatal(err)
	}
	var count int
	if err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM segments`).Scan(&count); err != nil || count != 4 {
		t.Fatalf("a second pass made %d segments, want the same 4", count)
	}

	// desk/b's records are purged; its segments stay while locked, then go,
	// and each deletion is in the audit trail. desk/a's, held, stay.
	if _, err := s.ReleaseHold(ctx, "h", "closed", "legal"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutHold(ctx, store.Hold{ID: "h2", Accounts: []store.AccountKey{"desk/a"}, Reason: "second inquiry", Actor: "legal"}); err != nil {
		t.Fatal(err)
	}
	if rep, err := s.Purge(ctx, store.PurgeRequest{Accounts: []store.AccountKey{"desk/b"}, Cutoff: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		MaxRecords: 100, Rule: "desk/r", Actor: "op"}); err != nil || rep.Purged != 20 {
		t.Fatalf("purge = %+v, %v", rep, err)
	}
	if err := s.ShipSegments(ctx); err != nil {
		t.Fatal(err)
	}
	for _, g := range segs {
		if g.account == "desk/b" {
			if err := backend.Delete(ctx, g.key, g.version); !errors.Is(err, segments.ErrLocked) {
				t.Fatalf("a locked segment could be deleted: %v", err)
			}
		}
	}
	clock.Advance(3 * 30 * 24 * time.Hour) // past every month's end plus the retention
	if err := s.ShipSegments(ctx); err != nil {
		t.Fatal(err)
	}
	for _, g := range segs {
		_, err := backend.Stat(ctx, g.key, g.version)
		switch {
		case g.account == "desk/b" && !errors.Is(err, segments.ErrNotFound):
			t.Fatalf("purged segment %s is still stored: %v", g.key, err)
		case g.account == "desk/a" && err != nil:
			t.Fatalf("held segment %s is gone: %v", g.key, err)
		}
	}
	events, _, err := s.Audit(ctx, 0, store.MaxListLimit)
	if err != nil {
		t.Fatal(err)
	}
	deleted := 0
	for _, e := range events {
		if e.Action == AuditSegmentDeleted {
			deleted++
		}
	}
	if deleted != 2 {
		t.Fatalf("%d segment deletions logged, want 2", deleted)
	}
}

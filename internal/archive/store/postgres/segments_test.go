package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/segments"
	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/shipping"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/capture"
)

// testSegmentsKeepAWORMCopy ships two accounts' records into segments on the
// filesystem store, mirrors a hold onto them, and deletes the purged
// account's segments once their locks run out, as the SQLite archive does.
func testSegmentsKeepAWORMCopy(t *testing.T, env *pgEnv) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	backend, err := segments.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	backend.SetClock(clock)
	s := open(t, env.database(t), newTestKeys(t), Options{Now: clock,
		Segments: &shipping.Options{Backend: backend, Retention: 24 * time.Hour, Interval: time.Hour}})
	jan := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	for _, acct := range []store.AccountKey{"desk/a", "desk/b"} {
		var envs []capture.Envelope
		for i := range 10 {
			envs = append(envs, storetest.Envelope(string(acct)+string(rune('a'+i)), jan.AddDate(0, i%2, 0).Add(time.Duration(i)*time.Minute), "開會", 0))
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
	live, err := catalog{s}.Live(ctx)
	if err != nil || len(live) != 4 {
		t.Fatalf("live segments %v, %v; want one per account and month", live, err)
	}
	for _, g := range live {
		if _, err := segments.Verify(ctx, backend, g.Key, g.Version); err != nil {
			t.Fatalf("segment %s: %v", g.Key, err)
		}
		info, err := backend.Stat(ctx, g.Key, g.Version)
		if err != nil || info.LegalHold != (g.Account == "desk/a") || g.Held != info.LegalHold {
			t.Fatalf("segment of %s: hold %v (row %v), %v", g.Account, info.LegalHold, g.Held, err)
		}
	}
	var placed int
	scanRow(t, s, `SELECT count(*) FROM record_segments rs JOIN records r ON r.seq = rs.seq`, nil, &placed)
	if placed != 20 {
		t.Fatalf("%d records placed, want 20", placed)
	}
	if rep, err := s.Purge(ctx, store.PurgeRequest{Accounts: []store.AccountKey{"desk/b"}, Cutoff: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		MaxRecords: 100, Rule: "desk/r", Actor: "op"}); err != nil || rep.Purged != 10 {
		t.Fatalf("purge = %+v, %v", rep, err)
	}
	mu.Lock()
	now = now.AddDate(0, 3, 0)
	mu.Unlock()
	if err := s.ShipSegments(ctx); err != nil {
		t.Fatal(err)
	}
	for _, g := range live {
		_, err := backend.Stat(ctx, g.Key, g.Version)
		if gone := errors.Is(err, segments.ErrNotFound); gone != (g.Account == "desk/b") {
			t.Fatalf("segment of %s after the purge: %v", g.Account, err)
		}
	}
	var deletions int
	scanRow(t, s, `SELECT count(*) FROM audit_events WHERE action = $1`, []any{shipping.AuditSegmentDeleted}, &deletions)
	if deletions != 2 {
		t.Fatalf("%d deletions logged, want 2", deletions)
	}
}

package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/store"
)

// testPurgeSeesAHoldCommittedWhileItWaited: replica A places a hold and,
// before committing, lets replica B start a purge of the records the hold
// covers. The purge must wait for A's transaction and then respect the
// hold: with its snapshot taken before the wait, it would purge them all.
func testPurgeSeesAHoldCommittedWhileItWaited(t *testing.T, env *pgEnv) {
	ctx := context.Background()
	dsn, k := env.database(t), newTestKeys(t)
	a, b := open(t, dsn, k, Options{}), open(t, dsn, k, Options{})
	ingestN(t, a, "held", 3)
	hold := store.Hold{ID: "desk/h", Accounts: []store.AccountKey{"desk/a"}, Reason: "inquiry", Actor: "legal"}
	placed, release := make(chan struct{}), make(chan struct{})
	holdDone := make(chan error, 1)
	go func() {
		holdDone <- a.exclusive(ctx, func(ctx context.Context, tx *txn) error {
			if err := a.storeHold(ctx, tx, hold, nil); err != nil {
				return err
			}
			close(placed)
			<-release
			return nil
		})
	}()
	<-placed
	purged := make(chan store.PurgeReport, 1)
	go func() {
		rep, err := b.Purge(ctx, store.PurgeRequest{Accounts: []store.AccountKey{"desk/a"}, Cutoff: day.AddDate(0, 1, 0), MaxRecords: 10, Rule: "desk/r", Actor: "op"})
		if err != nil {
			t.Error(err)
		}
		purged <- rep
	}()
	select {
	case rep := <-purged:
		t.Fatalf("the purge ran while another replica held the write lock: %+v", rep)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	if err := <-holdDone; err != nil {
		t.Fatal(err)
	}
	if rep := <-purged; rep.Purged != 0 || rep.HeldBack != 3 {
		t.Fatalf("purge after the hold committed = %+v, want all 3 held back", rep)
	}
}

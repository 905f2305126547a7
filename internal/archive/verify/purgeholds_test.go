package verify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/store"
)

func TestHoldCoversLeaf(t *testing.T) {
	sent := time.Date(2020, 3, 1, 9, 0, 0, 0, time.UTC)
	before, after := sent.Add(-time.Hour), sent.Add(time.Hour)
	leaf := store.Leaf{Type: store.LeafRecord, Account: "desk/alice", SentAt: sent.UnixNano()}.FiledUnder("Alice")
	for name, tc := range map[string]struct {
		hold store.Hold
		want coverage
	}{
		"the account":                       {store.Hold{Accounts: []store.AccountKey{"desk/alice"}}, covered},
		"the account, within its range":     {store.Hold{Accounts: []store.AccountKey{"desk/alice"}, From: &before, To: &after}, covered},
		"the account, before its range":     {store.Hold{Accounts: []store.AccountKey{"desk/alice"}, From: &after}, notCovered},
		"the account, after its range":      {store.Hold{Accounts: []store.AccountKey{"desk/alice"}, To: &before}, notCovered},
		"another account":                   {store.Hold{Accounts: []store.AccountKey{"desk/bob"}}, notCovered},
		"the account, with a query":         {store.Hold{Accounts: []store.AccountKey{"desk/alice"}, Query: "x"}, undecided},
		"its custodian":                     {store.Hold{Custodians: []string{"Alice"}}, covered},
		"another custodian":                 {store.Hold{Custodians: []string{"Bob"}}, notCovered},
		"its custodian, with a query":       {store.Hold{Custodians: []string{"Alice"}, Query: "x"}, undecided},
		"a custodian, outside its range":    {store.Hold{Custodians: []string{"Alice"}, To: &before}, notCovered},
		"a custodian, on an old leaf":       {store.Hold{Custodians: []string{"Alice"}}, undecided},
		"a leaf without a send time (v1-4)": {store.Hold{Accounts: []store.AccountKey{"desk/alice"}}, undecided},
	} {
		l := leaf
		if strings.HasPrefix(name, "a leaf without") {
			l.SentAt = 0
		}
		if strings.HasSuffix(name, "on an old leaf") {
			l.CustodianSHA256 = ""
		}
		if got := holdCoversLeaf(newActiveHold(tc.hold), l); got != tc.want {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
}

// The fixture's purge ran under a query-scoped hold on the purged record's
// account: verify cannot re-decide it and says so.
func TestPurgeUnderAQueryHoldIsNoted(t *testing.T) {
	a := buildArchive(t)
	r, err := DataDir(context.Background(), DataDirOptions{Dir: a.dir, Verifier: verifierOf(t, a.dir)})
	if err != nil || !r.OK() {
		t.Fatalf("%+v, %v", r, err)
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "1 purged records fell under an active hold scoped by query") {
		t.Fatalf("notes: %v", r.Notes)
	}
}

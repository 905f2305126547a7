package inbound

import (
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
)

func TestDedupeFiltersRedeliveriesAndReleases(t *testing.T) {
	d := NewDedupe(time.Hour, 3)
	now := time.Unix(1_000_000, 0)
	recs := func(n int) []*capture.Record {
		out := make([]*capture.Record, n)
		for i := range out {
			out[i] = &capture.Record{}
		}
		return out
	}
	kept, reserved, dups := d.Filter(recs(2), []string{"a", "b"}, now)
	if len(kept) != 2 || len(reserved) != 2 || dups != 0 {
		t.Fatalf("first delivery: kept %d reserved %d dups %d", len(kept), len(reserved), dups)
	}
	kept, _, dups = d.Filter(recs(2), []string{"a", "c"}, now)
	if len(kept) != 1 || dups != 1 {
		t.Fatalf("redelivery of a: kept %d dups %d", len(kept), dups)
	}
	// c's capture failed: released, so the retry is kept again.
	d.Release([][32]byte{Key("c")})
	if kept, _, dups = d.Filter(recs(1), []string{"c"}, now); len(kept) != 1 || dups != 0 {
		t.Fatal("a released key must be accepted on retry")
	}
	// The cache is full (a, b, c): a new key is let through unreserved.
	kept, reserved, _ = d.Filter(recs(1), []string{"d"}, now)
	if len(kept) != 1 || len(reserved) != 0 {
		t.Fatalf("full cache: kept %d reserved %d, want the record let through", len(kept), len(reserved))
	}
}

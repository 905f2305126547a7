package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/search"
	"github.com/vigil-operator/vigil/internal/capture"
)

// TestListPaged drives ListPaged over records held in order: pages and
// cursors, phrase candidates checked on their text, and bad cursors.
func TestListPaged(t *testing.T) {
	texts := []string{"内幕消息", "消息内幕", "lunch", "内幕消息 again"}
	var all []StoredRecord
	for i, text := range texts {
		all = append(all, StoredRecord{Record: capture.Record{ID: string(rune('a' + i)), Text: text, SentAt: time.Unix(int64(i), 0)}})
	}
	calls := 0
	// Every record is a candidate, as an index over-selects a phrase (its
	// terms in any order); ListPaged must keep only the exact matches.
	read := func(_ context.Context, _ *search.Query, after int64, n int) ([]StoredRecord, []int64, bool, error) {
		calls++
		var page []StoredRecord
		var positions []int64
		for i := int(after); i < len(all) && len(page) < n; i++ {
			page = append(page, all[i])
			positions = append(positions, int64(i+1))
		}
		return page, positions, len(page) == n, nil
	}
	got, next, err := ListPaged(context.Background(), Query{Account: "desk/a", Text: `"内幕消息"`, Limit: 1}, read)
	if err != nil || len(got) != 1 || got[0].Record.ID != "a" || next != "1" {
		t.Fatalf("first page = %v, %q, %v", got, next, err)
	}
	got, next, err = ListPaged(context.Background(), Query{Account: "desk/a", Text: `"内幕消息"`, Limit: 1, After: next}, read)
	if err != nil || len(got) != 1 || got[0].Record.ID != "d" || next != "" {
		t.Fatalf("second page = %v, %q, %v: the phrase in another order must be dropped", got, next, err)
	}
	for _, bad := range []Query{{Account: "desk/a", After: "x"}, {Account: "desk/a", After: "-1"}, {Account: "nope"}, {Account: "desk/a", MinSeverity: "Severe"}} {
		if _, _, err := ListPaged(context.Background(), bad, read); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%+v: %v, want ErrInvalid", bad, err)
		}
	}
	if calls == 0 {
		t.Fatal("no page was read")
	}
}

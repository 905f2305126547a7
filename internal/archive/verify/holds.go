package verify

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/search"
	"github.com/vigil-operator/vigil/internal/archive/store"
)

// expectedHold is a hold as the audit trail describes it: the scope of its
// newest hold.put event, and whether a hold.release followed.
type expectedHold struct {
	hold     store.Hold
	released bool
	where    string
}

// checkHolds compares the holds tables, which purges consult, with the
// audit trail, which the log commits to: every hold.put event's detail is
// the hold's whole scope. Someone who narrows a hold's accounts, range or
// query in the tables, or marks it released, to let a purge take held
// records, is caught here. It also checks that each hold's compiled index
// query is the one its query compiles to: a narrower one would hold less.
// The audit events themselves were checked against the log before.
func checkHolds(ctx context.Context, tx *sql.Tx, r *Report) error {
	expected, err := holdsFromAudit(ctx, tx, r)
	if err != nil {
		return err
	}
	stored, err := readStoredHolds(ctx, tx)
	if err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(expected)) {
		want := expected[id]
		where := "hold " + id
		got, ok := stored[id]
		if !ok {
			r.problem(KindHold, where, "placed (%s) but the holds table has no row for it", want.where)
			continue
		}
		for _, diff := range holdDiffs(want, got) {
			r.problem(KindHold, where, "%s (placed %s)", diff, want.where)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(stored)) {
		if _, ok := expected[id]; !ok {
			r.problem(KindHold, "hold "+id, "in the holds table but never placed through the archive (no hold.put event)")
		}
	}
	return nil
}

func holdsFromAudit(ctx context.Context, tx *sql.Tx, r *Report) (map[string]*expectedHold, error) {
	rows, err := tx.QueryContext(ctx, `SELECT seq, action, subject, detail FROM audit_events WHERE action IN (?, ?) ORDER BY seq`,
		store.AuditHoldPut, store.AuditHoldRelease)
	if err != nil {
		return nil, fmt.Errorf("while reading hold events: %w", err)
	}
	defer rows.Close()
	out := map[string]*expectedHold{}
	for rows.Next() {
		var seq int64
		var action, subject, detail string
		if err := rows.Scan(&seq, &action, &subject, &detail); err != nil {
			return nil, fmt.Errorf("while reading hold events: %w", err)
		}
		where := fmt.Sprintf("audit_events seq %d", seq)
		switch action {
		case store.AuditHoldPut:
			var h store.Hold
			if err := json.Unmarshal([]byte(detail), &h); err != nil || h.ID != subject {
				r.problem(KindHold, where, "the hold.put event's detail is not the hold %s", subject)
				continue
			}
			out[subject] = &expectedHold{hold: h, where: where}
		case store.AuditHoldRelease:
			if h := out[subject]; h != nil {
				h.released = true
			} else {
				r.problem(KindHold, where, "hold %s was released but never placed", subject)
			}
		}
	}
	return out, rows.Err()
}

// storedHold is a hold as the tables hold it.
type storedHold struct {
	from, to   sql.NullInt64
	query      string
	match      sql.NullString
	released   bool
	accounts   []string
	custodians []string
}

func readStoredHolds(ctx context.Context, tx *sql.Tx) (map[string]*storedHold, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, from_ns, to_ns, query, match, released_at IS NOT NULL FROM holds`)
	if err != nil {
		return nil, fmt.Errorf("while reading the holds: %w", err)
	}
	out := map[string]*storedHold{}
	for rows.Next() {
		var id string
		h := &storedHold{}
		if err := rows.Scan(&id, &h.from, &h.to, &h.query, &h.match, &h.released); err != nil {
			rows.Close()
			return nil, fmt.Errorf("while reading the holds: %w", err)
		}
		out[id] = h
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for table, column := range map[string]string{"hold_accounts": "account", "hold_custodians": "custodian"} {
		rows, err := tx.QueryContext(ctx, `SELECT hold_id, `+column+` FROM `+table+` ORDER BY hold_id, `+column)
		if err != nil {
			return nil, fmt.Errorf("while reading %s: %w", table, err)
		}
		for rows.Next() {
			var id, v string
			if err := rows.Scan(&id, &v); err != nil {
				rows.Close()
				return nil, fmt.Errorf("while reading %s: %w", table, err)
			}
			h := out[id]
			if h == nil {
				// A scope row of a hold that has no row: it holds nothing,
				// and the missing hold is reported on its own.
				continue
			}
			if table == "hold_accounts" {
				h.accounts = append(h.accounts, v)
			} else {
				h.custodians = append(h.custodians, v)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// holdDiffs lists how a stored hold differs from the one the audit trail
// placed.
func holdDiffs(want *expectedHold, got *storedHold) []string {
	var diffs []string
	wantAccounts := make([]string, 0, len(want.hold.Accounts))
	for _, a := range want.hold.Accounts {
		wantAccounts = append(wantAccounts, string(a))
	}
	if !sameSet(wantAccounts, got.accounts) {
		diffs = append(diffs, fmt.Sprintf("holds accounts %q, but was placed on %q", got.accounts, wantAccounts))
	}
	if !sameSet(want.hold.Custodians, got.custodians) {
		diffs = append(diffs, fmt.Sprintf("holds custodians %q, but was placed on %q", got.custodians, want.hold.Custodians))
	}
	if !sameTime(want.hold.From, got.from) || !sameTime(want.hold.To, got.to) {
		diffs = append(diffs, "its time range differs from the one it was placed with")
	}
	if got.query != want.hold.Query {
		diffs = append(diffs, fmt.Sprintf("its query is %q, but it was placed with %q", got.query, want.hold.Query))
	}
	if want.hold.Query != "" {
		if q, err := search.Parse(want.hold.Query); err == nil && got.match.String != q.FTS5() && got.match.String != "" {
			diffs = append(diffs, "its compiled index query is not what its query compiles to: it may hold fewer records than it says")
		}
	}
	if got.released != want.released {
		if got.released {
			diffs = append(diffs, "is marked released, but no hold.release event released it")
		} else {
			diffs = append(diffs, "was released (hold.release event) but the table shows it active")
		}
	}
	return diffs
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func sameTime(want *time.Time, got sql.NullInt64) bool {
	if want == nil {
		return !got.Valid
	}
	return got.Valid && got.Int64 == want.UTC().UnixNano()
}

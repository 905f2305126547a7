package verify

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/store"
)

// auditRow is an audit_events row reduced to the leaf it should have.
type auditRow struct {
	seq  int64
	leaf store.Leaf
}

// checkAuditEvents matches the audit_events rows, in seq order, with the
// audit leaves, in log order, one for one. The store appends both in one
// transaction, so any difference is an edit, a deletion or an insertion.
// A one-step lookahead resynchronises after a deleted or inserted event, so
// one deletion is one problem rather than a cascade.
func checkAuditEvents(ctx context.Context, tx *sql.Tx, r *Report, log *logView) error {
	rows, err := tx.QueryContext(ctx, `SELECT seq, at, actor, action, subject, detail FROM audit_events ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("while reading the audit trail: %w", err)
	}
	defer rows.Close()
	var events []auditRow
	for rows.Next() {
		var seq, at int64
		var actor, action, subject, detail string
		if err := rows.Scan(&seq, &at, &actor, &action, &subject, &detail); err != nil {
			return fmt.Errorf("while reading the audit trail: %w", err)
		}
		events = append(events, auditRow{seq: seq, leaf: store.AuditLeaf(time.Unix(0, at), actor, action, subject, detail)})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("while reading the audit trail: %w", err)
	}
	r.Counts.AuditEvents = uint64(len(events))

	var leaves []logLeaf
	for _, l := range log.leaves {
		if l.Valid && l.Leaf.Type == store.LeafAudit {
			leaves = append(leaves, l)
		}
	}
	matches := func(e auditRow, l logLeaf) bool { return e.leaf == l.Leaf }
	i, j := 0, 0
	for i < len(events) && j < len(leaves) {
		e, l := events[i], leaves[j]
		switch {
		case matches(e, l):
			i, j = i+1, j+1
		case j+1 < len(leaves) && matches(e, leaves[j+1]):
			r.problem(KindAudit, l.Where, "the audit event %s was deleted from audit_events", describeAudit(l.Leaf))
			j++
		case i+1 < len(events) && matches(events[i+1], l):
			r.problem(KindAudit, fmt.Sprintf("audit_events seq %d", e.seq), "the event %s is not in the log (inserted)", describeAudit(e.leaf))
			i++
		default:
			r.problem(KindAudit, fmt.Sprintf("audit_events seq %d", e.seq), "differs from %s in %s: the event was edited",
				l.Where, strings.Join(auditDiffs(e.leaf, l.Leaf), ", "))
			i, j = i+1, j+1
		}
	}
	for ; j < len(leaves); j++ {
		r.problem(KindAudit, leaves[j].Where, "the audit event %s was deleted from audit_events", describeAudit(leaves[j].Leaf))
	}
	for ; i < len(events); i++ {
		r.problem(KindAudit, fmt.Sprintf("audit_events seq %d", events[i].seq), "the event %s is not in the log (inserted)", describeAudit(events[i].leaf))
	}
	return nil
}

func describeAudit(l store.Leaf) string {
	return fmt.Sprintf("%q by %q on %q at %s", l.Action, l.Actor, l.Subject, time.Unix(0, l.At).UTC().Format(time.RFC3339Nano))
}

// auditDiffs names the fields in which an event differs from its leaf.
func auditDiffs(event, leaf store.Leaf) []string {
	var diffs []string
	for _, f := range []struct {
		name      string
		got, want string
	}{
		{"at", fmt.Sprint(event.At), fmt.Sprint(leaf.At)},
		{"actor", event.Actor, leaf.Actor},
		{"action", event.Action, leaf.Action},
		{"subject", event.Subject, leaf.Subject},
		{"detail (sha256)", event.DetailSHA256, leaf.DetailSHA256},
	} {
		if f.got != f.want {
			diffs = append(diffs, fmt.Sprintf("%s %q (logged %q)", f.name, f.got, f.want))
		}
	}
	return diffs
}

package verify

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/vigil-operator/vigil/internal/archive/store"
)

// checkPurgesRespectedHolds replays the audit trail, which the log commits
// to, in order: holds placed, replaced and released, and purges with their
// certificates. For every record a purge removed it asks whether a hold
// active at that moment covered it by account or custodian and time: such a
// purge broke a legal hold. A hold scoped by query cannot be decided after
// the fact (the content is gone), nor one by custodian for leaves from
// before the log committed to custodians, so those are counted in a note.
func checkPurgesRespectedHolds(ctx context.Context, tx *sql.Tx, r *Report, log *logView, recordLeaves map[string][]int) error {
	rows, err := tx.QueryContext(ctx, `SELECT seq, action, subject, detail FROM audit_events WHERE action IN (?, ?, ?) ORDER BY seq`,
		store.AuditHoldPut, store.AuditHoldRelease, store.AuditPurge)
	if err != nil {
		return fmt.Errorf("while replaying holds and purges: %w", err)
	}
	defer rows.Close()
	active := map[string]activeHold{}
	undecidable := 0
	for rows.Next() {
		var seq int64
		var action, subject, detail string
		if err := rows.Scan(&seq, &action, &subject, &detail); err != nil {
			return fmt.Errorf("while replaying holds and purges: %w", err)
		}
		switch action {
		case store.AuditHoldPut:
			var h store.Hold
			if json.Unmarshal([]byte(detail), &h) == nil {
				active[subject] = newActiveHold(h)
			}
		case store.AuditHoldRelease:
			delete(active, subject)
		case store.AuditPurge:
			var cert store.PurgeCertificate
			if json.Unmarshal([]byte(detail), &cert) != nil || cert.DryRun {
				continue // a certificate that does not parse is reported with the certificates
			}
			for _, id := range cert.PurgedRecords {
				positions := recordLeaves[id]
				if len(positions) == 0 {
					continue
				}
				leaf := log.leaves[positions[len(positions)-1]].Leaf
				for _, holdID := range slices.Sorted(maps.Keys(active)) {
					switch holdCoversLeaf(active[holdID], leaf) {
					case covered:
						r.problem(KindPurgeEligibility, "purge certificate "+cert.ID,
							"purged record %s of %s although legal hold %s, active then, covered it by account or custodian and send time", id, leaf.Account, holdID)
					case undecided:
						undecidable++
					}
				}
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if undecidable > 0 {
		r.note("%d purged records fell under an active hold scoped by query (or by custodian, on leaves older than the custodian commitment), which cannot be re-decided after the purge; the archive checked them in the purge's transaction", undecidable)
	}
	return nil
}

type coverage int

const (
	notCovered coverage = iota
	covered
	undecided
)

// activeHold is a hold with its custodians hashed once, as leaves commit to
// them.
type activeHold struct {
	store.Hold
	custodianSHA256 []string
}

func newActiveHold(h store.Hold) activeHold {
	a := activeHold{Hold: h}
	for _, c := range h.Custodians {
		a.custodianSHA256 = append(a.custodianSHA256, sha256Hex([]byte(c)))
	}
	return a
}

// holdCoversLeaf decides, from what a record leaf commits to (account,
// custodian and send time), whether a hold covers the record.
func holdCoversLeaf(h activeHold, leaf store.Leaf) coverage {
	if leaf.SentAt == 0 {
		return undecided // leaves from before schema 5 have no send time
	}
	if h.From != nil && leaf.SentAt < h.From.UnixNano() || h.To != nil && leaf.SentAt > h.To.UnixNano() {
		return notCovered
	}
	byAccount := slices.Contains(h.Accounts, store.AccountKey(leaf.Account))
	custodianKnown := leaf.CustodianSHA256 != ""
	byCustodian := custodianKnown && slices.Contains(h.custodianSHA256, leaf.CustodianSHA256)
	switch {
	case (byAccount || byCustodian) && h.Query == "":
		return covered
	case byAccount || byCustodian || (len(h.Custodians) > 0 && !custodianKnown):
		return undecided
	}
	return notCovered
}

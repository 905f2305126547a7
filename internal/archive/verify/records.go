package verify

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/capture"
)

// checkRecords checks each stored record against its newest record leaf:
// the leaf commits to the exact stored bytes of the record and findings, so
// any change to them, however small, shows. The columns the archive derives
// from the record (text, sent_at, dedup_key, id) are checked against the
// record bytes, because holds and purges select on them. It returns the ids
// of the records present. Rows are streamed: content is never all in memory.
func checkRecords(ctx context.Context, tx *sql.Tx, r *Report, log *logView, recordLeaves map[string][]int) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, account, dedup_key, sent_at, ingested_at, text, record, findings FROM records ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("while reading the records: %w", err)
	}
	defer rows.Close()
	present := map[string]bool{}
	for rows.Next() {
		var id, account, dedupKey, text string
		var sentAt, ingestedAt int64
		var body, findings []byte
		if err := rows.Scan(&id, &account, &dedupKey, &sentAt, &ingestedAt, &text, &body, &findings); err != nil {
			return nil, fmt.Errorf("while reading the records: %w", err)
		}
		r.Counts.Records++
		present[id] = true
		where := "record " + id
		positions := recordLeaves[id]
		if len(positions) == 0 {
			r.problem(KindRecord, where, "stored in account %s but the log has no record leaf for it (inserted outside the archive)", account)
			continue
		}
		leaf := log.leaves[positions[len(positions)-1]]
		for _, diff := range recordLeafDiffs(leaf.Leaf, account, dedupKey, ingestedAt, body, findings) {
			r.problem(KindRecord, where, "%s (leaf %s)", diff, leaf.Where)
		}
		for _, diff := range derivedColumnDiffs(id, dedupKey, sentAt, text, body) {
			r.problem(KindRecord, where, "%s", diff)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("while reading the records: %w", err)
	}
	return present, nil
}

// recordLeafDiffs lists how a records row differs from its leaf.
func recordLeafDiffs(leaf store.Leaf, account, dedupKey string, ingestedAt int64, body, findings []byte) []string {
	var diffs []string
	if leaf.Account != account {
		diffs = append(diffs, fmt.Sprintf("account is %q, the log says %q", account, leaf.Account))
	}
	if leaf.DedupKey != dedupKey {
		diffs = append(diffs, fmt.Sprintf("dedup key is %q, the log says %q", dedupKey, leaf.DedupKey))
	}
	if got := sha256Hex(body); got != leaf.RecordSHA256 {
		diffs = append(diffs, fmt.Sprintf("the stored record bytes hash to %s, the log says %s: the record was altered", got, leaf.RecordSHA256))
	}
	var gotFindings string
	if len(findings) > 0 {
		gotFindings = sha256Hex(findings)
	}
	if gotFindings != leaf.FindingsSHA256 {
		diffs = append(diffs, fmt.Sprintf("the stored findings hash to %q, the log says %q: the findings were altered", gotFindings, leaf.FindingsSHA256))
	}
	if leaf.At != ingestedAt {
		diffs = append(diffs, fmt.Sprintf("ingested_at is %d, the log says %d", ingestedAt, leaf.At))
	}
	return diffs
}

// derivedColumnDiffs compares the columns copied out of the record with the
// record bytes the log commits to. The log does not cover these columns, but
// holds match on text and sent_at and purges on sent_at: editing them could
// take a held record out of its hold or make a young record purgeable.
func derivedColumnDiffs(id, dedupKey string, sentAt int64, text string, body []byte) []string {
	var rec capture.Record
	if err := json.Unmarshal(body, &rec); err != nil {
		return []string{fmt.Sprintf("the stored record is not a capture record: %v", err)}
	}
	var diffs []string
	if rec.ID != id {
		diffs = append(diffs, fmt.Sprintf("the id column differs from the record's id %q", rec.ID))
	}
	if rec.DedupKey != dedupKey {
		diffs = append(diffs, fmt.Sprintf("the dedup_key column differs from the record's %q", rec.DedupKey))
	}
	if rec.SentAt.UnixNano() != sentAt {
		diffs = append(diffs, fmt.Sprintf("the sent_at column (%d) differs from the record's sentAt (%d)", sentAt, rec.SentAt.UnixNano()))
	}
	if rec.Text != text {
		diffs = append(diffs, "the text column (used by search and holds) differs from the record's text")
	}
	return diffs
}

// checkMissingRecords requires every logged record that is no longer stored
// to have been removed by a purge: a purge audit leaf after its newest
// record leaf, whose certificate (when it is readable) covers its account.
func checkMissingRecords(r *Report, log *logView, recordLeaves map[string][]int, present map[string]bool, purges *purgeIndex) {
	ids := make([]string, 0, len(recordLeaves))
	for id := range recordLeaves {
		if !present[id] {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b string) int { return lastOf(recordLeaves[a]) - lastOf(recordLeaves[b]) })
	for _, id := range ids {
		pos := lastOf(recordLeaves[id])
		leaf := log.leaves[pos]
		if !purges.explains(pos, leaf.Leaf.Account) {
			r.problem(KindRecordMissing, "record "+id, "record %s is missing and no purge explains it (account %s, leaf %s)", id, leaf.Leaf.Account, leaf.Where)
			continue
		}
		r.Counts.PurgedRecords++
	}
	// Only when every purge has its certificate can the count be trusted;
	// a missing certificate is reported on its own.
	// Records already reported above are not counted again.
	if claimed, complete := purges.purgedTotal(); complete && r.Counts.PurgedRecords > claimed {
		r.problem(KindRecordMissing, "records", "%d logged records are gone after purges but the purge certificates account for only %d purged records: records were deleted outside a purge",
			r.Counts.PurgedRecords, claimed)
	}
}

func lastOf(positions []int) int { return positions[len(positions)-1] }

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

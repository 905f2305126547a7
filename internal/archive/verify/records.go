package verify

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/sealing"
	"github.com/vigil-operator/vigil/internal/capture"
)

// checkRecords checks each stored record against its newest record leaf:
// the leaf commits to the exact stored bytes of the record and findings (for
// a sealed record, to the ciphertexts as stored, so no key is needed to see
// a change), so any change to them, however small, shows. The columns the
// archive derives from the record (sent_at, dedup_key, id, key_id) are
// checked against the leaf or the record, because holds and purges select on
// them. It returns the ids of the records present and, per data key, how
// many records remain under it. Rows are streamed: content is never all in
// memory.
func checkRecords(ctx context.Context, tx *sql.Tx, r *Report, log *logView, recordLeaves map[string][]int, sealer *sealing.Sealer, index *indexExpectation) (map[string]bool, map[string]int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT seq, id, account, custodian, dedup_key, sent_at, ingested_at, text, record, findings, key_id FROM records ORDER BY seq`)
	if err != nil {
		return nil, nil, fmt.Errorf("while reading the records: %w", err)
	}
	defer rows.Close()
	present := map[string]bool{}
	perKey := map[string]int{}
	plaintext := 0
	for rows.Next() {
		var row storedRow
		if err := rows.Scan(&row.seq, &row.id, &row.account, &row.custodian, &row.dedupKey, &row.sentAt, &row.ingestedAt, &row.text, &row.body, &row.findings, &row.keyID); err != nil {
			return nil, nil, fmt.Errorf("while reading the records: %w", err)
		}
		index.record(row.seq)
		r.Counts.Records++
		present[row.id] = true
		if row.keyID.Valid {
			perKey[row.keyID.String]++
		} else {
			plaintext++
		}
		where := "record " + row.id
		positions := recordLeaves[row.id]
		if len(positions) == 0 {
			r.problem(KindRecord, where, "stored in account %s but the log has no record leaf for it (inserted outside the archive)", row.account)
			continue
		}
		leaf := log.leaves[positions[len(positions)-1]]
		for _, diff := range recordLeafDiffs(leaf.Leaf, row) {
			r.problem(KindRecord, where, "%s (leaf %s)", diff, leaf.Where)
		}
		switch {
		case !row.keyID.Valid:
			for _, diff := range derivedColumnDiffs(row, row.body, true) {
				r.problem(KindRecord, where, "%s", diff)
			}
			index.text(row.seq, row.text)
		case sealer != nil:
			checkOpened(ctx, r, where, sealer, leaf.Leaf, row, index)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("while reading the records: %w", err)
	}
	if plaintext > 0 {
		r.note("%d records are stored unencrypted (written before encryption at rest; the archive seals them when it next starts)", plaintext)
	}
	return present, perKey, nil
}

// checkOpened decrypts a sealed record with the key-encryption key the
// auditor was given and checks the plaintext against the leaf, which
// commits to it, and against the columns derived from it.
func checkOpened(ctx context.Context, r *Report, where string, sealer *sealing.Sealer, leaf store.Leaf, row storedRow, index *indexExpectation) {
	body, findings, err := sealer.Open(ctx, store.AccountKey(row.account), row.id, row.keyID.String, row.body, row.findings)
	if errors.Is(err, keys.ErrShredded) {
		return // reported as a record under a destroyed key
	}
	if err != nil {
		r.problem(KindRecord, where, "cannot be decrypted: %v", err)
		return
	}
	r.Counts.RecordsOpened++
	if got := sha256Hex(body); got != leaf.RecordSHA256 {
		r.problem(KindRecord, where, "the decrypted record hashes to %s, the log says %s: the record was altered", got, leaf.RecordSHA256)
	}
	var gotFindings string
	if len(findings) > 0 {
		gotFindings = sha256Hex(findings)
	}
	if gotFindings != leaf.FindingsSHA256 {
		r.problem(KindRecord, where, "the decrypted findings hash to %q, the log says %q", gotFindings, leaf.FindingsSHA256)
	}
	for _, diff := range derivedColumnDiffs(row, body, false) {
		r.problem(KindRecord, where, "%s", diff)
	}
	var rec capture.Record
	if json.Unmarshal(body, &rec) == nil {
		index.text(row.seq, rec.Text)
	}
}

// storedRow is one row of records.
type storedRow struct {
	seq                         int64
	id, account, dedupKey, text string
	custodian                   string
	sentAt, ingestedAt          int64
	body, findings              []byte
	keyID                       sql.NullString
}

// recordLeafDiffs lists how a records row differs from its leaf.
func recordLeafDiffs(leaf store.Leaf, row storedRow) []string {
	var diffs []string
	if leaf.Account != row.account {
		diffs = append(diffs, fmt.Sprintf("account is %q, the log says %q", row.account, leaf.Account))
	}
	if leaf.DedupKey != row.dedupKey {
		diffs = append(diffs, fmt.Sprintf("dedup key is %q, the log says %q", row.dedupKey, leaf.DedupKey))
	}
	if leaf.At != row.ingestedAt {
		diffs = append(diffs, fmt.Sprintf("ingested_at is %d, the log says %d", row.ingestedAt, leaf.At))
	}
	if leaf.CustodianSHA256 != "" && sha256Hex([]byte(row.custodian)) != leaf.CustodianSHA256 {
		diffs = append(diffs, "the custodian column differs from the custodian the log commits to: custodian-scoped holds select on it")
	}
	if leaf.SentAt != 0 && leaf.SentAt != row.sentAt {
		diffs = append(diffs, fmt.Sprintf("the sent_at column (%d) differs from the sent time the log commits to (%d): purges select on it", row.sentAt, leaf.SentAt))
	}
	recordWant, findingsWant := leaf.RecordSHA256, leaf.FindingsSHA256
	what := "record"
	if row.keyID.Valid {
		if row.text != "" {
			diffs = append(diffs, "the record is sealed but its text column holds text in the clear")
		}
		if leaf.SealedSHA256 == "" {
			// Sealed after it was logged (stored before encryption at
			// rest): the leaf commits to the plaintext, which only the
			// key opens.
			return diffs
		}
		if leaf.KeyID != row.keyID.String {
			diffs = append(diffs, fmt.Sprintf("key_id is %q, the log says %q", row.keyID.String, leaf.KeyID))
		}
		recordWant, findingsWant, what = leaf.SealedSHA256, leaf.SealedFindingsSHA256, "sealed record"
	}
	if got := sha256Hex(row.body); got != recordWant {
		diffs = append(diffs, fmt.Sprintf("the stored %s bytes hash to %s, the log says %s: the record was altered", what, got, recordWant))
	}
	var gotFindings string
	if len(row.findings) > 0 {
		gotFindings = sha256Hex(row.findings)
	}
	if gotFindings != findingsWant {
		diffs = append(diffs, fmt.Sprintf("the stored findings hash to %q, the log says %q: the findings were altered", gotFindings, findingsWant))
	}
	return diffs
}

// derivedColumnDiffs compares the columns copied out of a record with the
// record's plaintext, which the log commits to: holds match on text and
// sent_at and purges on sent_at, so editing them could take a held record
// out of its hold or make a young record purgeable. A sealed record keeps
// no text column (withText false).
func derivedColumnDiffs(row storedRow, body []byte, withText bool) []string {
	var rec capture.Record
	if err := json.Unmarshal(body, &rec); err != nil {
		return []string{fmt.Sprintf("the stored record is not a capture record: %v", err)}
	}
	var diffs []string
	if rec.ID != row.id {
		diffs = append(diffs, fmt.Sprintf("the id column differs from the record's id %q", rec.ID))
	}
	if rec.DedupKey != row.dedupKey {
		diffs = append(diffs, fmt.Sprintf("the dedup_key column differs from the record's %q", rec.DedupKey))
	}
	if rec.SentAt.UnixNano() != row.sentAt {
		diffs = append(diffs, fmt.Sprintf("the sent_at column (%d) differs from the record's sentAt (%d)", row.sentAt, rec.SentAt.UnixNano()))
	}
	if withText && rec.Text != row.text {
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
		if !purges.explains(r, pos, leaf.Leaf) {
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

package export

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/vigil-operator/vigil/internal/archive/store"
)

// parseRecordLeaf decodes a record leaf and insists on its canonical form:
// the leaf hash covers the exact bytes, so a second encoding of the same
// leaf would not be the leaf the log holds.
func parseRecordLeaf(b []byte) (store.Leaf, error) {
	var leaf store.Leaf
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&leaf); err != nil {
		return store.Leaf{}, fmt.Errorf("the leaf is not a log leaf: %w", err)
	}
	if leaf.Version != store.LeafVersion {
		return store.Leaf{}, fmt.Errorf("leaf version %d, this vigil knows %d", leaf.Version, store.LeafVersion)
	}
	if leaf.Type != store.LeafRecord {
		return store.Leaf{}, fmt.Errorf("the leaf is of type %q, not a record leaf", leaf.Type)
	}
	if canonical := leaf.Encode(); !bytes.Equal(canonical, b) {
		return store.Leaf{}, fmt.Errorf("the leaf is not in canonical form (canonical: %s)", canonical)
	}
	return leaf, nil
}

// leafDiffs lists how a record, as exported, differs from what its leaf
// commits to. recordSHA and findingsSHA are hex SHA-256 of the exported
// bytes; findingsSHA is empty when there are no findings.
func leafDiffs(leaf store.Leaf, id, account, recordSHA, findingsSHA string) []string {
	var diffs []string
	if leaf.RecordID != id {
		diffs = append(diffs, fmt.Sprintf("the leaf is for record %q", leaf.RecordID))
	}
	if leaf.Account != account {
		diffs = append(diffs, fmt.Sprintf("the record is filed under account %q, the leaf says %q", account, leaf.Account))
	}
	if recordSHA != leaf.RecordSHA256 {
		diffs = append(diffs, fmt.Sprintf("the native record bytes hash to %s, the leaf says %s", recordSHA, leaf.RecordSHA256))
	}
	if findingsSHA != leaf.FindingsSHA256 {
		diffs = append(diffs, fmt.Sprintf("the findings bytes hash to %q, the leaf says %q", findingsSHA, leaf.FindingsSHA256))
	}
	return diffs
}

// hashOrEmpty is the hex SHA-256 of b, or "" for no bytes: the leaf leaves
// findingsSHA256 out when a record has no findings.
func hashOrEmpty(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return sha256Hex(b)
}

package verify

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

// logLeaf is one leaf as read, with what it says when it parses.
type logLeaf struct {
	// Where names the leaf in the report ("log_leaves idx 7", "leaf 7").
	Where string
	Body  []byte
	Leaf  store.Leaf
	// Valid is false when Body is not a canonical leaf; Leaf is then zero.
	Valid bool
}

// logView is the log rebuilt from its leaf bodies, in the order read. The
// tree is built from the bodies' own hashes, not from any stored hash: a
// checkpoint signs the bodies, so only they can reproduce its root.
type logView struct {
	leaves []logLeaf
	tree   tlog.Tree
}

// add appends a leaf body, reporting it if it is not a canonical leaf.
func (v *logView) add(r *Report, where string, body []byte) {
	leaf, err := parseLeaf(body)
	v.leaves = append(v.leaves, logLeaf{Where: where, Body: body, Leaf: leaf, Valid: err == nil})
	v.tree.Append(tlog.LeafHash(body))
	r.Counts.Leaves++
	if err != nil {
		r.problem(KindLeafFormat, where, "%v", err)
		return
	}
	switch leaf.Type {
	case store.LeafRecord:
		r.Counts.RecordLeaves++
	case store.LeafAudit:
		r.Counts.AuditLeaves++
	}
}

// parseLeaf decodes a leaf and insists on its canonical form: the leaf hash
// covers the exact bytes, so two encodings of one leaf would let the same
// fact be logged under two hashes.
func parseLeaf(body []byte) (store.Leaf, error) {
	var leaf store.Leaf
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&leaf); err != nil {
		return store.Leaf{}, fmt.Errorf("the body is not a log leaf: %w", err)
	}
	if leaf.Version != store.LeafVersion {
		return store.Leaf{}, fmt.Errorf("leaf version %d, this vigil knows %d", leaf.Version, store.LeafVersion)
	}
	if leaf.Type != store.LeafRecord && leaf.Type != store.LeafAudit {
		return store.Leaf{}, fmt.Errorf("unknown leaf type %q", leaf.Type)
	}
	if canonical := leaf.Encode(); !bytes.Equal(canonical, body) {
		return store.Leaf{}, fmt.Errorf("the body is not in canonical form (canonical: %s)", canonical)
	}
	return leaf, nil
}

package sqlite

import (
	"bytes"
	"strconv"

	"github.com/vigil-operator/vigil/internal/archive/store"
)

// A record's log leaf commits to when the archive appended it (store.Leaf.At),
// which the records row keeps as ingested_at. That time is the writer's: it
// reads its clock as it applies the batch, so leaf times follow log order as
// they always have. Everything else in the leaf is known before the batch is
// queued, and encoding it (five SHA-256 sums of the record's bytes, then JSON
// by reflection) cost the writer as much as inserting the leaf. So the
// caller encodes the leaf with its time left out, and the writer splices the
// time's digits in: the bytes are exactly those store.Leaf.Encode makes
// (TestLeafTemplateIsTheCanonicalLeaf), since the leaf format is a published
// contract.

// leafTemplate is a leaf's canonical encoding cut around the digits of its
// time.
type leafTemplate struct {
	head, tail []byte
	// leaf is set instead when the encoding could not be cut, should the
	// leaf's time no longer be encoded as a plain number: appendStamped
	// then encodes the whole leaf, as the writer did before templates.
	leaf *store.Leaf
}

// atZero is how a zero time is encoded. The sequence can only be the "at"
// key: inside a string a quote is escaped, so a comma directly before a quote
// ends a value, and the leaf has no nested objects with keys of their own.
var atZero = []byte(`,"at":0`)

// newLeafTemplate encodes l, whose time is ignored, for appendStamped.
func newLeafTemplate(l store.Leaf) leafTemplate {
	l.At = 0
	body := l.Encode()
	i := bytes.Index(body, atZero)
	if i < 0 {
		return leafTemplate{leaf: &l}
	}
	digit := i + len(atZero) - 1
	return leafTemplate{head: body[:digit], tail: body[digit+1:]}
}

// appendStamped appends to dst the leaf's canonical encoding with its time
// set to at, in unix nanoseconds (encoding/json writes an int64 as
// strconv.AppendInt does), so the writer can reuse one buffer for a batch.
func (t *leafTemplate) appendStamped(dst []byte, at int64) []byte {
	if t.leaf != nil {
		l := *t.leaf
		l.At = at
		return append(dst, l.Encode()...)
	}
	dst = append(dst, t.head...)
	dst = strconv.AppendInt(dst, at, 10)
	return append(dst, t.tail...)
}

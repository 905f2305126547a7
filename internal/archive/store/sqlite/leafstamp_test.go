package sqlite

import (
	"math"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/store"
)

// TestLeafTemplateIsTheCanonicalLeaf: a leaf encoded by the caller without
// its time and stamped by the writer is, byte for byte, the leaf the same
// inputs encode to. The leaf format is a published contract: auditors hash
// these bytes.
func TestLeafTemplateIsTheCanonicalLeaf(t *testing.T) {
	sent := time.Date(2026, 3, 1, 9, 30, 0, 123, time.UTC)
	leaf := func(at time.Time, account store.AccountKey, id, dedup, custodian, keyID string, body, findings, sealed, sealedFindings []byte) store.Leaf {
		return store.RecordLeaf(at, account, id, dedup, body, findings).Sealed(sent, keyID, sealed, sealedFindings).FiledUnder(custodian)
	}
	type inputs struct {
		account                                  store.AccountKey
		id, dedup, custodian, keyID              string
		body, findings, sealedBody, sealedFindgs []byte
	}
	cases := map[string]inputs{
		"plain":       {"desk/a", "01JABCDEF", "dedup-1", "Alice", "k-2026-03", []byte(`{"text":"早晨"}`), nil, []byte{1, 2, 3}, nil},
		"findings":    {"desk/a", "01JABCDEF", "dedup-1", "Alice", "k-2026-03", []byte(`{}`), []byte(`[{"rule":"r"}]`), []byte{1}, []byte{2}},
		"empty":       {"", "", "", "", "", nil, nil, nil, nil},
		"hostile ids": {"desk/\"at\":0", `x,"at":0,`, `,"at":0}`, `"at":12`, `\",\"at\":0`, []byte(`"at":0`), nil, []byte(`,"at":0`), nil},
		"unicode":     {"desk/日本", "id\u2028", "<&>", "Zoë", "k", []byte("x"), nil, []byte("y"), nil},
	}
	ats := []int64{0, 1, -1, 1_772_357_400_123_456_789, math.MaxInt64, math.MinInt64}
	for name, in := range cases {
		tmpl := newLeafTemplate(leaf(time.Now(), in.account, in.id, in.dedup, in.custodian, in.keyID, in.body, in.findings, in.sealedBody, in.sealedFindgs))
		if tmpl.leaf != nil {
			t.Fatalf("%s: the encoding of a leaf could not be cut around its time: every leaf is now encoded on the writer", name)
		}
		for _, at := range ats {
			want := leaf(time.Unix(0, at), in.account, in.id, in.dedup, in.custodian, in.keyID, in.body, in.findings, in.sealedBody, in.sealedFindgs).Encode()
			if got := tmpl.appendStamped(nil, at); string(got) != string(want) {
				t.Errorf("%s at %d:\n got %s\nwant %s", name, at, got, want)
			}
		}
	}
}

// TestLeafTemplateFallsBackToEncoding: a template that could not be cut
// encodes the whole leaf, with the time stamped in.
func TestLeafTemplateFallsBackToEncoding(t *testing.T) {
	l := store.RecordLeaf(time.Unix(0, 0), "desk/a", "id", "dedup", []byte("body"), nil).FiledUnder("A")
	tmpl := leafTemplate{leaf: &l}
	at := time.Date(2026, 3, 1, 0, 0, 0, 7, time.UTC)
	want := store.RecordLeaf(at, "desk/a", "id", "dedup", []byte("body"), nil).FiledUnder("A").Encode()
	if got := tmpl.appendStamped([]byte("reused"), at.UnixNano()); string(got) != "reused"+string(want) {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}

package search

import "testing"

func TestRender(t *testing.T) {
	for _, tc := range []struct{ query, fts5, tsquery string }{
		{"香港", `(("b9999x6e2f"))`, `(('b9999x6e2f'))`},
		{"内幕交易", `(("b5185x5e55" AND "b5e55x4ea4" AND "b4ea4x6613"))`,
			`(('b5185x5e55' & 'b5e55x4ea4' & 'b4ea4x6613'))`},
		{"飯 OR cash -test", `(("u996d") OR ("wcash")) NOT (("wtest"))`,
			`(('u996d') | ('wcash')) & !(('wtest'))`},
		// The phrase's terms narrow the index; an excluded phrase is left
		// to Match.
		{`"insider trading" -"trading tips"`, `(("winsider" AND "wtrading"))`,
			`(('winsider' & 'wtrading'))`},
	} {
		q, err := Parse(tc.query)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.query, err)
		}
		if got := q.FTS5(); got != tc.fts5 {
			t.Errorf("FTS5(%q) = %s, want %s", tc.query, got, tc.fts5)
		}
		if got := q.TSQuery(); got != tc.tsquery {
			t.Errorf("TSQuery(%q) = %s, want %s", tc.query, got, tc.tsquery)
		}
	}
}

func TestQuotingEscapes(t *testing.T) {
	// Terms never contain quotes, but the quoting must hold if they did.
	if got := fts5Syntax.quote(`a"b`); got != `"a""b"` {
		t.Errorf("fts5 quote = %s", got)
	}
	if got := tsquerySyntax.quote(`a'b\c`); got != `'a''b\\c'` {
		t.Errorf("tsquery quote = %s", got)
	}
}

func TestNeedsVerification(t *testing.T) {
	for query, want := range map[string]bool{
		"香港 收益":        false,
		`"香港"`:         true, // two characters, in this order
		`"飯"`:          false,
		`"香港 收益"`:      true,
		`香港 -"私人 账户"`:  true,
		`"guaranteed"`: false,
		`"case-42"`:    true,
		`"内幕交易" OR 香港`: true,
	} {
		q, err := Parse(query)
		if err != nil {
			t.Fatalf("Parse(%q): %v", query, err)
		}
		if got := q.NeedsVerification(); got != want {
			t.Errorf("NeedsVerification(%q) = %v, want %v", query, got, want)
		}
	}
}

package search

import (
	"testing"
	"unicode/utf8"

	"github.com/vigil-operator/vigil/internal/policy/normalize"
)

var fuzzSeeds = []string{
	"聽日去香港 case-42 USD100", "我哋讨论内幕交易嘅问题", "ＡＢＣ公司", "洗 钱", "c\u200bash",
	`"NEAR" (x) * col:val ^a`, "①ﬁ⑴", "привет мир", "カタカナー 한국어", "\xff\xfe", "e\u0301",
}

func FuzzAnalyze(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		tokens := Analyze(text)
		// Rune boundaries as the decoder sees them: an invalid byte is one
		// rune of its own.
		boundary := map[int]bool{len(text): true}
		for i := 0; i < len(text); {
			boundary[i] = true
			_, size := utf8.DecodeRuneInString(text[i:])
			i += size
		}
		for _, tk := range tokens {
			if tk.Start < 0 || tk.Start >= tk.End || tk.End > len(text) || tk.End > MaxAnalyzedBytes {
				t.Fatalf("token %+v out of range for %d bytes", tk, len(text))
			}
			if !boundary[tk.Start] || !boundary[tk.End] {
				t.Fatalf("token %+v does not lie on rune boundaries of %q", tk, text)
			}
			if _, _, err := DecodeTerm(tk.Term); err != nil {
				t.Fatalf("token of %q: %v", text, err)
			}
		}
		// Indexing the normalizer's output gives the same terms: the
		// analyzer's fold is the normalizer's, and folding is idempotent.
		if len(text) < MaxAnalyzedBytes/4 {
			folded := normalize.Fold(text, false).Text
			if a, b := IndexTerms(text), IndexTerms(folded); a != b {
				t.Fatalf("IndexTerms(%q) = %q\nIndexTerms(folded %q) = %q", text, a, folded, b)
			}
		}
	})
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range append(fuzzSeeds, `-"a b" OR c`, `香港 OR 内幕交易 -大学`, `"unbalanced`, `OR OR -`, `{terms}: NEAR(a b, 2)`) {
		f.Add(s)
	}
	db := openFTS5(f)
	insertFTS5(f, db, 1, "聽日去香港 case-42 内幕交易")
	f.Fuzz(func(t *testing.T, query string) {
		q, err := Parse(query)
		if err != nil {
			return
		}
		expr := q.FTS5()
		rows, err := db.Query(`SELECT rowid FROM message_fts WHERE message_fts MATCH ?`, expr)
		if err != nil {
			t.Fatalf("SQLite refused the rendering of %q: %s: %v", query, expr, err)
		}
		for rows.Next() {
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("SQLite failed on the rendering of %q: %s: %v", query, expr, err)
		}
		rows.Close()
		q.Match(query)
		q.Highlight(query)
		_ = q.TSQuery()
	})
}

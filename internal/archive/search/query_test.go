package search

import (
	"errors"
	"strings"
	"testing"
)

// shape renders a query's structure readably: clauses by " ; ", OR by " | ",
// a phrase in quotes, an exclusion with -, each term decoded.
func shape(t *testing.T, q *Query) string {
	t.Helper()
	var clauses []string
	for _, c := range q.Clauses {
		var alts []string
		for _, a := range c.Alternatives {
			var terms []string
			for _, term := range a.Terms {
				_, text, err := DecodeTerm(term)
				if err != nil {
					t.Fatal(err)
				}
				terms = append(terms, text)
			}
			s := strings.Join(terms, "+")
			if a.Phrase {
				s = `"` + s + `"`
			}
			alts = append(alts, s)
		}
		s := strings.Join(alts, " | ")
		if c.Exclude {
			s = "-" + s
		}
		clauses = append(clauses, s)
	}
	return strings.Join(clauses, " ; ")
}

func TestParse(t *testing.T) {
	for _, tc := range []struct{ query, want string }{
		{"内幕交易", "内幕+幕交+交易"},
		{"飯", "饭"},
		{"提现cash", "提现+cash"},
		{"香港 收益", "香港 ; 收益"},
		{"聽日 OR 明天 唔该", "听日 | 明天 ; 唔该"},
		{`"guaranteed return" -test`, `"guaranteed+return" ; -test`},
		{`-"内幕 消息" 内幕`, `-"内幕+幕消+消息" ; 内幕`},
		{"“内幕交易”", `"内幕+幕交+交易"`},
		{`"香港"`, `"香港"`},
		{`"cash"`, "cash"},
		{"－test 香港", "-test ; 香港"},
		{"OR 香港 OR", "or ; 香港 ; or"},
		{"香港 OR * OR 收益", "香港 | 收益"},
		{"a - b", "a ; b"},
		{`"unbalanced phrase`, `"unbalanced+phrase"`},
		{"NEAR(香港, 2) AND NOT x*", "near+香港 ; 2 ; and ; not ; x"},
	} {
		q, err := Parse(tc.query)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.query, err)
			continue
		}
		if got := shape(t, q); got != tc.want {
			t.Errorf("Parse(%q) = %s, want %s", tc.query, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  error
	}{
		{strings.Repeat("a", MaxQueryBytes+1), ErrQueryTooLong},
		{strings.Repeat("a ", MaxQueryItems+1), ErrQueryTooComplex},
		{distinctIdeographs(MaxQueryTerms + 2), ErrQueryTooComplex},
		{"", ErrEmptyQuery},
		{`"" * ()`, ErrEmptyQuery},
		{"-香港 -收益", ErrOnlyExclusions},
		{"香港 OR -收益", ErrExclusionInOR},
		{"-收益 OR 香港", ErrExclusionInOR},
	} {
		_, err := Parse(tc.query)
		if !errors.Is(err, tc.want) {
			t.Errorf("Parse(%.40q) error = %v, want %v", tc.query, err, tc.want)
		}
	}
}

// distinctIdeographs is a run of n different ideographs: n-1 distinct bigrams.
func distinctIdeographs(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteRune(rune(0x4E00 + i))
	}
	return b.String()
}

package search

import "strings"

// FTS5 renders the query as an SQLite FTS5 MATCH expression over a table
// whose indexed column holds IndexTerms:
//
//	CREATE VIRTUAL TABLE message_fts USING fts5(terms, tokenize='unicode61');
//	SELECT rowid FROM message_fts WHERE message_fts MATCH ?;
//
// Every term is a double-quoted FTS5 string, so nothing the user typed can
// become an operator, a column filter or a prefix query. Alternatives are
// joined with OR, clauses with AND, exclusions with NOT (FTS5's NOT is
// binary, hence at least one positive clause). An excluded phrase is left
// to Match: the index could only exclude records holding its words anywhere.
func (q *Query) FTS5() string {
	return q.render(fts5Syntax)
}

// TSQuery renders the query as a PostgreSQL tsquery over a tsvector column
// filled with array_to_tsvector(IndexTermArray):
//
//	SELECT id FROM messages WHERE terms @@ $1::tsquery;
//
// Cast the string with ::tsquery (or pass it to a tsquery parameter); do not
// use to_tsquery, which would run the terms through a text search
// configuration and stem them. Terms are quoted lexemes; & | ! and
// parentheses come only from the query's structure.
func (q *Query) TSQuery() string {
	return q.render(tsquerySyntax)
}

// NeedsVerification reports whether the index result must be filtered with
// Match on each candidate's original text: quoted phrases need word order,
// which neither index records (array_to_tsvector keeps no positions, and the
// FTS5 term stream interleaves unigrams and bigrams).
func (q *Query) NeedsVerification() bool {
	for _, c := range q.Clauses {
		for _, a := range c.Alternatives {
			if a.Phrase {
				return true
			}
		}
	}
	return false
}

type syntax struct {
	and, or, not string
	quote        func(string) string
}

var (
	fts5Syntax = syntax{and: " AND ", or: " OR ", not: " NOT ", quote: func(term string) string {
		return `"` + strings.ReplaceAll(term, `"`, `""`) + `"`
	}}
	tsquerySyntax = syntax{and: " & ", or: " | ", not: " & !", quote: func(term string) string {
		return "'" + strings.NewReplacer(`'`, `''`, `\`, `\\`).Replace(term) + "'"
	}}
)

func (q *Query) render(s syntax) string {
	var positive, negative []string
	for _, c := range q.Clauses {
		if c.Exclude && c.hasPhrase() {
			continue
		}
		alts := make([]string, 0, len(c.Alternatives))
		for _, a := range c.Alternatives {
			quoted := make([]string, len(a.Terms))
			for i, t := range a.Terms {
				quoted[i] = s.quote(t)
			}
			alts = append(alts, "("+strings.Join(quoted, s.and)+")")
		}
		expr := "(" + strings.Join(alts, s.or) + ")"
		if c.Exclude {
			negative = append(negative, expr)
		} else {
			positive = append(positive, expr)
		}
	}
	var b strings.Builder
	b.WriteString(strings.Join(positive, s.and))
	for _, n := range negative {
		b.WriteString(s.not)
		b.WriteString(n)
	}
	return b.String()
}

func (c *Clause) hasPhrase() bool {
	for _, a := range c.Alternatives {
		if a.Phrase {
			return true
		}
	}
	return false
}

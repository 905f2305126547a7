package search

import "sort"

// Range is a byte range [Start, End) of a record's original text.
type Range struct {
	Start, End int
}

// document is a record's text analyzed once for Match and Highlight.
type document struct {
	tokens []Token
	terms  map[string]struct{}
	units  []Token // words and characters in text order, for phrases
}

func newDocument(text string) *document {
	d := &document{tokens: Analyze(text)}
	d.terms = make(map[string]struct{}, len(d.tokens))
	for _, t := range d.tokens {
		d.terms[t.Term] = struct{}{}
		if t.Kind == Word || t.Kind == Unigram {
			d.units = append(d.units, t)
		}
	}
	return d
}

// unitTerms lists the terms of words and characters, the units a phrase is
// made of, leaving out bigrams and word parts.
func unitTerms(tokens []Token) []string {
	var units []string
	for _, t := range tokens {
		if t.Kind == Word || t.Kind == Unigram {
			units = append(units, t.Term)
		}
	}
	return units
}

// Match reports whether the record text satisfies the query. For queries
// without phrases it agrees exactly with the FTS5 and tsquery renderings on
// the record's index terms; with phrases it is stricter, and a backend keeps
// the index candidates for which it holds (see NeedsVerification).
func (q *Query) Match(text string) bool {
	return q.matches(newDocument(text))
}

func (q *Query) matches(d *document) bool {
	for _, c := range q.Clauses {
		if c.matches(d) == c.Exclude {
			return false
		}
	}
	return true
}

func (c *Clause) matches(d *document) bool {
	for i := range c.Alternatives {
		if c.Alternatives[i].matches(d) {
			return true
		}
	}
	return false
}

func (a *Alternative) matches(d *document) bool {
	for _, t := range a.Terms {
		if _, ok := d.terms[t]; !ok {
			return false
		}
	}
	return !a.Phrase || len(a.phraseRanges(d, true)) > 0
}

// phraseRanges finds where the phrase's units occur one after the other.
func (a *Alternative) phraseRanges(d *document, firstOnly bool) []Range {
	var out []Range
	n := len(a.units)
	for i := 0; i+n <= len(d.units); i++ {
		j := 0
		for j < n && d.units[i+j].Term == a.units[j] {
			j++
		}
		if j == n {
			out = append(out, Range{d.units[i].Start, d.units[i+n-1].End})
			if firstOnly {
				break
			}
		}
	}
	return out
}

// Highlight returns the byte ranges of text, sorted and merged, that made
// its positive clauses hold: every occurrence of a matched term's token, and
// every occurrence of a matched phrase. Excluded clauses are not shown, and a
// text the query does not match has no ranges.
// Ranges point into the original text, so 聽日 is highlighted where the
// sender wrote it, though the query said 听日.
func (q *Query) Highlight(text string) []Range {
	d := newDocument(text)
	if !q.matches(d) {
		return nil
	}
	var ranges []Range
	for _, c := range q.Clauses {
		if c.Exclude {
			continue
		}
		for i := range c.Alternatives {
			a := &c.Alternatives[i]
			if !a.matches(d) {
				continue
			}
			if a.Phrase {
				ranges = append(ranges, a.phraseRanges(d, false)...)
				continue
			}
			want := make(map[string]bool, len(a.Terms))
			for _, t := range a.Terms {
				want[t] = true
			}
			for _, t := range d.tokens {
				if want[t.Term] {
					ranges = append(ranges, Range{t.Start, t.End})
				}
			}
		}
	}
	return mergeRanges(ranges)
}

// mergeRanges sorts ranges and joins those that overlap or touch, so the
// overlapping bigrams of 内幕交易 highlight as one span.
func mergeRanges(ranges []Range) []Range {
	if len(ranges) == 0 {
		return nil
	}
	sort.Slice(ranges, func(i, j int) bool { return ranges[i].Start < ranges[j].Start })
	out := ranges[:1]
	for _, r := range ranges[1:] {
		last := &out[len(out)-1]
		if r.Start <= last.End {
			last.End = max(last.End, r.End)
			continue
		}
		out = append(out, r)
	}
	return out
}

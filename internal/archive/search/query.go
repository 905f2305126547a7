package search

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Query limits. A search box is not a programming language: the limits keep
// one request from turning into thousands of index lookups.
const (
	// MaxQueryBytes bounds the raw query.
	MaxQueryBytes = 1024
	// MaxQueryItems bounds the terms and phrases of a query.
	MaxQueryItems = 32
	// MaxQueryTerms bounds the index terms a query looks up in all; a
	// 30-character Chinese sentence is 29 bigrams.
	MaxQueryTerms = 64
)

// Query errors, wrapped with details by Parse.
var (
	ErrQueryTooLong    = errors.New("search: query too long")
	ErrQueryTooComplex = errors.New("search: query too complex")
	ErrEmptyQuery      = errors.New("search: query has nothing to search for")
	// ErrOnlyExclusions: neither engine can list "everything but X"
	// through the index, and an archive search for it is a listing.
	ErrOnlyExclusions = errors.New("search: query has only exclusions")
	ErrExclusionInOR  = errors.New("search: an exclusion cannot be an alternative of OR")
)

// Query is a parsed search: its clauses must all hold.
type Query struct {
	Clauses []Clause
}

// Clause holds when any of its alternatives holds (they were joined by OR).
// An excluded clause must not hold.
type Clause struct {
	Exclude      bool
	Alternatives []Alternative
}

// Alternative is one term or quoted phrase of the query.
type Alternative struct {
	// Text is what the user typed, without quotes or the leading minus.
	Text string
	// Terms are the index terms that must all be present.
	Terms []string
	// Phrase is set for a quoted phrase of several words or characters:
	// beyond its terms, its words and characters must appear in this order,
	// one after the other (punctuation and spaces between are ignored),
	// which only Match can check.
	Phrase bool
	// units are the phrase's words and characters as terms, in order.
	units []string
}

// Parse parses a user's query:
//
//	香港 收益          both (AND is implicit)
//	内幕交易           one term: the AND of its bigrams 内幕 幕交 交易
//	"guaranteed return" a phrase: these words, in this order
//	提现 OR withdraw   either
//	refund -test      refund, but not test; -"内幕 消息" excludes a phrase
//
// Everything else is literal text: quotes inside a word, *, :, ^, +,
// parentheses, NEAR, AND and NOT have no meaning and, being punctuation or
// plain words, are searched as such. “”「」『』 quote like ", and a
// full-width minus excludes like -.
func Parse(query string) (*Query, error) {
	if len(query) > MaxQueryBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrQueryTooLong, len(query), MaxQueryBytes)
	}
	if !utf8.ValidString(query) {
		// Invalid bytes would decode as U+FFFD; accept them as that, like
		// the analyzer does for record text.
		query = string([]rune(query))
	}
	items, err := lexQuery(query)
	if err != nil {
		return nil, err
	}
	if n := countTerms(items); n > MaxQueryItems {
		return nil, fmt.Errorf("%w: %d terms, limit %d", ErrQueryTooComplex, n, MaxQueryItems)
	}
	q := &Query{}
	terms := 0
	var clause *Clause
	joinNext := false
	for i, it := range items {
		if it.or {
			continue
		}
		alt := newAlternative(it)
		terms += len(alt.Terms)
		if terms > MaxQueryTerms {
			return nil, fmt.Errorf("%w: %d index terms, limit %d", ErrQueryTooComplex, terms, MaxQueryTerms)
		}
		orBefore := i > 0 && items[i-1].or
		orAfter := i+1 < len(items) && items[i+1].or
		if it.exclude && (orBefore || orAfter) {
			return nil, fmt.Errorf("%w: -%s", ErrExclusionInOR, it.text)
		}
		if !joinNext || clause == nil {
			q.Clauses = append(q.Clauses, Clause{Exclude: it.exclude})
			clause = &q.Clauses[len(q.Clauses)-1]
		}
		// A term or phrase with nothing searchable (punctuation, emoji) is
		// dropped, as the index drops it from records.
		if len(alt.Terms) > 0 {
			clause.Alternatives = append(clause.Alternatives, alt)
		}
		joinNext = orAfter
	}
	positive := 0
	kept := q.Clauses[:0]
	for _, c := range q.Clauses {
		if len(c.Alternatives) == 0 {
			continue
		}
		if !c.Exclude {
			positive++
		}
		kept = append(kept, c)
	}
	q.Clauses = kept
	if len(q.Clauses) == 0 {
		return nil, fmt.Errorf("%w: %q", ErrEmptyQuery, query)
	}
	if positive == 0 {
		return nil, fmt.Errorf("%w: %q", ErrOnlyExclusions, query)
	}
	return q, nil
}

func countTerms(items []queryItem) int {
	n := 0
	for _, it := range items {
		if !it.or {
			n++
		}
	}
	return n
}

func newAlternative(it queryItem) Alternative {
	alt := Alternative{Text: it.text}
	seen := map[string]bool{}
	for _, t := range analyzeQuery(it.text) {
		if !seen[t.Term] {
			seen[t.Term] = true
			alt.Terms = append(alt.Terms, t.Term)
		}
	}
	if it.quoted {
		alt.units = unitTerms(Analyze(it.text))
		alt.Phrase = len(alt.units) > 1
	}
	return alt
}

// queryItem is a lexeme of the query: a term, a phrase or the OR operator.
type queryItem struct {
	text    string
	quoted  bool
	exclude bool
	or      bool
}

func isQuote(r rune) bool {
	switch r {
	case '"', '＂', '“', '”', '「', '」', '『', '』':
		return true
	}
	return false
}

func isMinus(r rune) bool { return r == '-' || r == '－' || r == '−' }

func lexQuery(q string) ([]queryItem, error) {
	var items []queryItem
	for i := 0; i < len(q); {
		r, size := utf8.DecodeRuneInString(q[i:])
		if unicode.IsSpace(r) {
			i += size
			continue
		}
		if len(items) > MaxQueryItems*2 {
			return nil, fmt.Errorf("%w: more than %d terms", ErrQueryTooComplex, MaxQueryItems)
		}
		it := queryItem{}
		if isMinus(r) && i+size < len(q) {
			next, _ := utf8.DecodeRuneInString(q[i+size:])
			if !unicode.IsSpace(next) {
				it.exclude = true
				i += size
				r, size = next, utf8.RuneLen(next)
			}
		}
		if isQuote(r) {
			// A phrase runs to the next quote or, unbalanced, to the end.
			start := i + size
			end := len(q)
			next := len(q)
			for j := start; j < len(q); {
				c, n := utf8.DecodeRuneInString(q[j:])
				if isQuote(c) {
					end, next = j, j+n
					break
				}
				j += n
			}
			it.text, it.quoted = q[start:end], true
			i = next
		} else {
			end := len(q)
			for j := i; j < len(q); {
				c, n := utf8.DecodeRuneInString(q[j:])
				if unicode.IsSpace(c) {
					end = j
					break
				}
				j += n
			}
			it.text = q[i:end]
			i = end
			it.or = it.text == "OR" && !it.exclude
		}
		items = append(items, it)
	}
	// OR is an operator only between two items; elsewhere it is the word.
	for i := range items {
		if items[i].or && (i == 0 || i == len(items)-1 || items[i-1].or || items[i+1].or) {
			items[i].or = false
		}
	}
	return items, nil
}

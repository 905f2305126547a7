// Package lexicon matches every term of every policy of an account in one pass:
// one Aho–Corasick automaton, stored as a double array, over folded and
// squeezed text. Folding and scanning happen in the same loop, a rune at a
// time, so there is no normalized copy of the message and no second pass;
// every hit carries byte offsets into the original text.
//
// Terms are written once, in Simplified Chinese or English: they are folded
// like the text (Traditional to Simplified, width, case, look-alikes), so they
// match every script. Ideographic ends of a term match as substrings, since
// Chinese has no spaces; Latin and digit ends must sit on a word boundary
// (提现cash吗 matches cash, cashier does not).
package lexicon

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"

	"github.com/vigil-operator/vigil/internal/policy/normalize"
)

// MaxTermSymbols bounds a term's folded length; hits are located through a
// ring of recent symbol offsets as long as the longest term.
const MaxTermSymbols = 512

// TermID names a term in a Matcher.
type TermID int32

// Term is one distinct folded term.
type Term struct {
	// Text is the term as first written.
	Text string
	// Symbols is the folded, squeezed form the automaton matches.
	Symbols []rune
	// Gaps counts separators inside the written term ("money laundering" has one).
	Gaps int
	// WordStart and WordEnd are set when that end of the term is a Latin
	// letter or digit, so a hit there must sit on a word boundary.
	WordStart, WordEnd bool
}

// Builder collects terms and builds a Matcher.
type Builder struct {
	terms []Term
	index map[string]TermID
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{index: map[string]TermID{}}
}

// ErrTooShort is returned for terms of one folded character, which would
// match nearly every message.
var ErrTooShort = errors.New("term is too short: it needs at least two letters, digits or ideographs")

// Add folds a term and returns its id; terms that fold alike share an id.
func (b *Builder) Add(text string) (TermID, error) {
	var symbols []rune
	gaps, inWord := 0, false
	for _, r := range text {
		e := normalize.Lookup(r)
		switch e.Kind() {
		case normalize.KindInvisible, normalize.KindMark:
			continue
		case normalize.KindSeparator:
			if inWord {
				gaps++
			}
			inWord = false
			continue
		}
		inWord = true
		if f, ok := e.Rune(); ok {
			symbols = append(symbols, f)
			continue
		}
		for _, p := range e.Multi() {
			if normalize.Lookup(p).Kind() == normalize.KindText {
				symbols = append(symbols, p)
			}
		}
	}
	if !inWord && gaps > 0 {
		gaps--
	}
	switch {
	case len(symbols) < 2:
		return 0, fmt.Errorf("%q: %w", text, ErrTooShort)
	case len(symbols) > MaxTermSymbols:
		return 0, fmt.Errorf("%q: term is longer than %d characters", text, MaxTermSymbols)
	}
	key := string(symbols)
	if id, ok := b.index[key]; ok {
		return id, nil
	}
	id := TermID(len(b.terms))
	b.terms = append(b.terms, Term{
		Text: text, Symbols: symbols, Gaps: gaps,
		WordStart: isWordRune(symbols[0]), WordEnd: isWordRune(symbols[len(symbols)-1]),
	})
	b.index[key] = id
	return id, nil
}

// Len is the number of distinct terms added.
func (b *Builder) Len() int { return len(b.terms) }

// isWordRune is true for folded runes that need word boundaries: Latin letters
// and digits, and letters of other alphabetic scripts. Ideographs, kana and
// Hangul match as substrings.
func isWordRune(r rune) bool {
	e := normalize.Lookup(r)
	if e.Kind() != normalize.KindText {
		return false
	}
	if e.Flags()&normalize.FlagHan != 0 {
		return false
	}
	return r < 0x3000 || r >= 0xA000 && r < 0xAC00
}

// Build compiles the terms into a Matcher.
func (b *Builder) Build() *Matcher {
	m := &Matcher{terms: b.terms}
	longest := 1
	for _, t := range b.terms {
		longest = max(longest, len(t.Symbols))
	}
	m.ringMask = int32(1<<bits.Len(uint(longest-1))) - 1
	m.assignClasses()
	trie := m.buildTrie()
	m.buildDoubleArray(trie)
	return m
}

// assignClasses numbers every folded rune that appears in a term, most
// frequent first (small classes pack the double array tighter). Class 0 is
// "in no term".
func (m *Matcher) assignClasses() {
	freq := map[rune]int{}
	for _, t := range m.terms {
		for _, r := range t.Symbols {
			freq[r]++
		}
	}
	runes := make([]rune, 0, len(freq))
	for r := range freq {
		runes = append(runes, r)
	}
	sortRunesByFrequency(runes, freq)
	m.classOf = make(map[rune]uint16, len(runes))
	for i, r := range runes {
		m.classOf[r] = uint16(i + 1)
	}
	m.classes = len(runes) + 1
	// The per-rune table folds, classifies and flags in one lookup.
	for r := rune(0); r < 0x10000; r++ {
		m.sym[r] = m.symbolOf(r)
	}
}

// symbolOf packs what the scan loop needs about an original rune: the class
// of its fold, its kind and its flags, or that it folds to several runes.
func (m *Matcher) symbolOf(r rune) symbol {
	e := normalize.Lookup(r)
	s := symbol(e.Kind())<<symKindShift | symbol(e.Flags())<<symFlagShift | scriptBucket(e.Kind(), e.Flags())<<symScriptShift
	if f, ok := e.Rune(); ok {
		return s | symbol(m.classOf[f])
	}
	return s | symMulti
}

func sortRunesByFrequency(runes []rune, freq map[rune]int) {
	slices.SortFunc(runes, func(a, b rune) int {
		if freq[a] != freq[b] {
			return freq[b] - freq[a]
		}
		return int(a - b)
	})
}

package search

import (
	"unicode"
	"unicode/utf8"

	"github.com/vigil-operator/vigil/internal/policy/normalize"
)

// TokenKind is the form of a token. Forms are encoded with different
// prefixes, so a query bigram can only match a bigram in the index, never two
// unigrams, and a Latin word can never match a Chinese character's code.
type TokenKind uint8

// Token kinds.
const (
	// Word is a run of letters and digits of an alphabetic script (Latin,
	// Cyrillic, Greek...), split at separators: "case-42" is "case" and "42".
	Word TokenKind = iota + 1
	// WordPart is the letter or digit part of a word that mixes both, so
	// searching 100 finds usd100 and 100hkd. Only indexed, never a query term.
	WordPart
	// Unigram is one Han, Kana or Hangul character: a one-character query
	// (飯) can only be answered by unigrams.
	Unigram
	// Bigram is two adjacent Han, Kana or Hangul characters. Most Chinese
	// and Cantonese words are two characters, and a longer query is the AND
	// of its bigrams.
	Bigram
)

// String names the kind.
func (k TokenKind) String() string {
	switch k {
	case Word:
		return "word"
	case WordPart:
		return "wordpart"
	case Unigram:
		return "unigram"
	case Bigram:
		return "bigram"
	}
	return "unknown"
}

// Token is one index term and where it came from.
type Token struct {
	Kind TokenKind
	// Term is the encoded term as stored in the index (see IndexTerms).
	Term string
	// Start and End are byte offsets of the token's source in the original,
	// unnormalized text, so the review console can highlight what the sender
	// wrote.
	Start, End int
}

const (
	// MaxAnalyzedBytes bounds the work for one text: bytes after it are not
	// indexed. Chat messages are far shorter; this guards against a pasted
	// log or a hostile payload making one insert take seconds.
	MaxAnalyzedBytes = 1 << 20
	// MaxWordBytes bounds a word's folded form; the rest of a longer word is
	// ignored, in the index and in queries alike, so it still matches.
	MaxWordBytes = 64
)

// Analyze splits text into index tokens, in text order: each word followed
// by its parts, each CJK character as a unigram preceded by the bigram it
// closes. Only the first MaxAnalyzedBytes of text are read.
func Analyze(text string) []Token {
	a := analyzer{mode: indexMode}
	a.run(text)
	return a.tokens
}

// analyzeQuery splits one query term: a CJK run becomes its bigrams, or its
// unigram when it is one character long, and words are not split into parts.
// That is what the index must contain for the term to be present.
func analyzeQuery(text string) []Token {
	a := analyzer{mode: queryMode}
	a.run(text)
	return a.tokens
}

type analyzeMode uint8

const (
	indexMode analyzeMode = iota
	queryMode
)

// wordSegment is a run of letters or of digits inside a word.
type wordSegment struct {
	from, to   int // byte range in the folded word
	start, end int // byte range in the original text
	digits     bool
}

type analyzer struct {
	mode   analyzeMode
	tokens []Token
	// All terms are encoded into one buffer and become one string at the
	// end, sliced per token: one allocation instead of one per token.
	terms    []byte
	termEnds []int

	// The word being read.
	word               []byte
	wordStart, wordEnd int
	wordFull           bool
	segments           []wordSegment

	// The CJK run being read: its last character and its length.
	prevCJK            rune
	prevStart, prevEnd int
	runStart           int
	runLen             int
}

func (a *analyzer) run(text string) {
	if len(text) > MaxAnalyzedBytes {
		text = text[:MaxAnalyzedBytes]
	}
	// About one token per two bytes for Chinese, fewer for English.
	a.tokens = make([]Token, 0, len(text)/2+1)
	a.termEnds = make([]int, 0, len(text)/2+1)
	a.terms = make([]byte, 0, len(text)*2)
	for i := 0; i < len(text); {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		a.rune(r, i, i+size)
		i += size
	}
	a.endWord()
	a.endCJK()
	all := string(a.terms)
	from := 0
	for i, end := range a.termEnds {
		a.tokens[i].Term = all[from:end]
		from = end
	}
}

// rune feeds one original rune spanning [start, end) of the text.
func (a *analyzer) rune(r rune, start, end int) {
	e := normalize.Lookup(r)
	switch e.Kind() {
	case normalize.KindInvisible, normalize.KindMark:
		// Dropped without ending the run, so a zero-width space or a
		// combining mark cannot split a word and hide it from search.
		return
	}
	if f, ok := e.Rune(); ok {
		if e.Kind() == normalize.KindText {
			a.text(f, start, end)
		} else {
			a.folded(f, start, end)
		}
		return
	}
	// A separator, or a rune that folds to several (①, ﬁ, ⑴): each folded
	// part is classified again, as the normalizer's output would be when
	// read back, so "(1)" stays a separated 1, ㊙ reads as 秘 and an
	// ideographic space as a space.
	for _, p := range e.Multi() {
		a.folded(p, start, end)
	}
}

// folded feeds a folded rune whose kind is not known yet.
func (a *analyzer) folded(f rune, start, end int) {
	switch normalize.Lookup(f).Kind() {
	case normalize.KindText:
		a.text(f, start, end)
	case normalize.KindSeparator:
		a.separator(f)
	}
}

func (a *analyzer) separator(r rune) {
	a.endWord()
	// Chinese is written without spaces, so a space between two characters
	// is layout or an attempt to dodge a keyword (洗 钱); the run goes on
	// across it. Punctuation ends the run: 香港。内 has no bigram 港内.
	if !unicode.IsSpace(r) {
		a.endCJK()
	}
}

// text feeds one folded letter, digit or ideograph.
func (a *analyzer) text(f rune, start, end int) {
	if isCJK(f) {
		a.endWord()
		a.cjk(f, start, end)
		return
	}
	a.endCJK()
	a.wordRune(f, start, end)
}

// isCJK reports scripts written without spaces between words.
func isCJK(r rune) bool {
	switch {
	case r < 0x1100:
		return false
	case r >= 0x4E00 && r <= 0x9FFF:
		return true
	case r == 0x30FC || r == 0x3005 || r == 0x3007:
		// ー, 々 and 〇 are script Common or letter-like marks but belong
		// inside Japanese and Chinese runs.
		return true
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

func (a *analyzer) cjk(r rune, start, end int) {
	if a.runLen > 0 {
		a.emitRunes(Bigram, 'b', a.prevCJK, r, a.prevStart, end)
	} else {
		a.runStart = start
	}
	if a.mode == indexMode {
		a.emitRunes(Unigram, 'u', r, -1, start, end)
	}
	a.prevCJK, a.prevStart, a.prevEnd = r, start, end
	a.runLen++
}

func (a *analyzer) endCJK() {
	if a.runLen == 1 && a.mode == queryMode {
		a.emitRunes(Unigram, 'u', a.prevCJK, -1, a.prevStart, a.prevEnd)
	}
	a.runLen = 0
}

func (a *analyzer) wordRune(f rune, start, end int) {
	if len(a.word) == 0 {
		a.wordStart, a.wordFull = start, false
		a.segments = a.segments[:0]
	}
	if a.wordFull || len(a.word)+utf8.RuneLen(f) > MaxWordBytes {
		a.wordFull = true
		return
	}
	digits := unicode.IsDigit(f)
	n := len(a.segments)
	if n == 0 || a.segments[n-1].digits != digits {
		a.segments = append(a.segments, wordSegment{from: len(a.word), start: start, digits: digits})
		n++
	}
	a.word = utf8.AppendRune(a.word, f)
	a.wordEnd = end
	a.segments[n-1].to, a.segments[n-1].end = len(a.word), end
}

func (a *analyzer) endWord() {
	if len(a.word) == 0 {
		return
	}
	a.emitWord(Word, a.word, a.wordStart, a.wordEnd)
	if a.mode == indexMode && len(a.segments) > 1 {
		for _, s := range a.segments {
			a.emitWord(WordPart, a.word[s.from:s.to], s.start, s.end)
		}
	}
	a.word = a.word[:0]
}

func (a *analyzer) emitWord(kind TokenKind, word []byte, start, end int) {
	a.terms = appendWordTerm(a.terms, word)
	a.endToken(kind, start, end)
}

// emitRunes emits a unigram (second < 0) or a bigram.
func (a *analyzer) emitRunes(kind TokenKind, prefix byte, first, second rune, start, end int) {
	a.terms = append(a.terms, prefix)
	a.terms = appendHexRune(a.terms, first)
	if second >= 0 {
		a.terms = append(a.terms, runeJoiner)
		a.terms = appendHexRune(a.terms, second)
	}
	a.endToken(kind, start, end)
}

// endToken records a token whose term was just appended to a.terms.
func (a *analyzer) endToken(kind TokenKind, start, end int) {
	a.tokens = append(a.tokens, Token{Kind: kind, Start: start, End: end})
	a.termEnds = append(a.termEnds, len(a.terms))
}

package search

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Every term is written in [0-9a-z] only, led by a letter naming its form:
//
//	w<word>            an ASCII word or word part: "wcase", "w42"
//	n<hex>x<hex>...    a word of another alphabet, by code point: "n43fx440"
//	u<hex>             a CJK unigram by code point: 饭 is "u996d"
//	b<hex>x<hex>       a CJK bigram: 香港 is "b9999x6e2f"
//
// FTS5's unicode61 treats exactly letters and digits as token characters,
// so each term survives it as one token whatever its script or Unicode
// version (unicode61 knows Unicode 6.1; newer ideographs would vanish), and
// no term can carry FTS5 or tsquery syntax. The prefixes keep the forms apart:
// the word "u996d" is "wu996d", not 饭.
const (
	prefixWord     = 'w'
	prefixForeign  = 'n'
	prefixUnigram  = 'u'
	prefixBigram   = 'b'
	runeJoiner     = 'x'
	hexDigits      = "0123456789abcdef"
	maxTermsPerRow = 1 << 16
)

func appendHexRune(dst []byte, r rune) []byte {
	return strconv.AppendInt(dst, int64(r), 16)
}

func appendWordTerm(dst, word []byte) []byte {
	ascii := true
	for _, c := range word {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		dst = append(dst, prefixWord)
		return append(dst, word...)
	}
	dst = append(dst, prefixForeign)
	for i, r := range string(word) {
		if i > 0 {
			dst = append(dst, runeJoiner)
		}
		dst = appendHexRune(dst, r)
	}
	return dst
}

// IndexTerms is the text's index form for SQLite FTS5: its distinct terms,
// space-separated, for a column of a table created with
// tokenize='unicode61'. Duplicates are dropped because the index answers
// "does the record contain the term"; a repeated character adds nothing but
// index size.
func IndexTerms(text string) string {
	return strings.Join(IndexTermArray(text), " ")
}

// IndexTermArray is the text's distinct terms in first-seen order, for
// PostgreSQL: array_to_tsvector($1::text[]) takes them as lexemes unchanged
// (no text search configuration, so no stemming or stop words).
func IndexTermArray(text string) []string {
	tokens := Analyze(text)
	seen := make(map[string]struct{}, len(tokens))
	terms := make([]string, 0, len(tokens))
	for _, t := range tokens {
		if _, dup := seen[t.Term]; dup {
			continue
		}
		seen[t.Term] = struct{}{}
		terms = append(terms, t.Term)
		if len(terms) == maxTermsPerRow {
			break
		}
	}
	return terms
}

// ErrMalformedTerm is returned by DecodeTerm for a string that is not a term.
var ErrMalformedTerm = errors.New("search: malformed term")

// DecodeTerm turns a term back into its kind and folded text ("b9999x6e2f"
// is a Bigram "香港"), for debugging an index. Word parts decode as Word: the
// index does not tell them apart, on purpose.
func DecodeTerm(term string) (TokenKind, string, error) {
	if term == "" {
		return 0, "", fmt.Errorf("%w: empty", ErrMalformedTerm)
	}
	body := term[1:]
	switch term[0] {
	case prefixWord:
		if body == "" || strings.Trim(body, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
			return 0, "", fmt.Errorf("%w: %q is not an ASCII word", ErrMalformedTerm, term)
		}
		return Word, body, nil
	case prefixForeign, prefixUnigram, prefixBigram:
		parts := strings.Split(body, string(runeJoiner))
		want := map[byte]int{prefixUnigram: 1, prefixBigram: 2}[term[0]]
		if want != 0 && len(parts) != want {
			return 0, "", fmt.Errorf("%w: %q has %d characters", ErrMalformedTerm, term, len(parts))
		}
		var b strings.Builder
		for _, p := range parts {
			if p == "" || strings.Trim(p, hexDigits) != "" {
				return 0, "", fmt.Errorf("%w: %q: bad code point %q", ErrMalformedTerm, term, p)
			}
			r, err := strconv.ParseInt(p, 16, 32)
			if err != nil || !utf8.ValidRune(rune(r)) {
				return 0, "", fmt.Errorf("%w: %q: bad code point %q", ErrMalformedTerm, term, p)
			}
			b.WriteRune(rune(r))
		}
		kind := map[byte]TokenKind{prefixForeign: Word, prefixUnigram: Unigram, prefixBigram: Bigram}[term[0]]
		return kind, b.String(), nil
	}
	return 0, "", fmt.Errorf("%w: %q has no known prefix", ErrMalformedTerm, term)
}

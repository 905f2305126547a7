// Package search is the archive's one tokenizer and query language. Every
// backend indexes the terms this package produces and runs the expressions it
// renders, so a query returns the same records on SQLite FTS5 and on
// PostgreSQL tsvector.
//
// Neither engine segments Chinese: FTS5's unicode61 tokenizer makes a whole
// run of Han characters one token, its trigram tokenizer cannot answer
// two-character queries, and PostgreSQL's parser has no Chinese support
// without extensions most managed offerings lack. So the segmentation happens
// here, in Go: text is folded by the policy engine's normalizer (width, case,
// Traditional to Simplified, look-alikes), Latin and digit runs become words,
// and Han, Kana and Hangul runs become every character (unigram) and every
// pair of adjacent characters (bigram). Terms are written in a plain
// [0-9a-z] encoding, so the database tokenizer only has to split on spaces
// and can neither re-segment a term nor read query syntax into one.
//
// A backend stores IndexTerms (FTS5, tokenize='unicode61') or IndexTermArray
// (PostgreSQL, array_to_tsvector) beside each record, parses the user's query
// with Parse, runs Query.FTS5 or Query.TSQuery against the index, and, when
// Query.NeedsVerification reports true (quoted phrases), keeps only the
// candidates for which Query.Match holds on the original text. See
// docs/search.md.
package search

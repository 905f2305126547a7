package policy

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/policy/lexicon"
	"github.com/vigil-operator/vigil/internal/policy/normalize"
)

// Keyword confidence: a clean or deliberately disguised match is a real
// match; separators the term does not have, in a pattern that is not
// letter-spacing ("the rapist" for "therapist"), make it a guess.
const (
	confidenceKeyword   = 90
	confidenceAmbiguous = 50
)

// Evasion signals, as they appear in findings.
const (
	evasionInvisible = "invisible-characters"
	evasionSpacing   = "letter-spacing"
	evasionLookalike = "lookalike-letters"
	evasionGaps      = "ambiguous-separators"
)

// keywordFindings turns term hits into findings: exceptions cancel the hits
// they contain, proximity needs a partner term nearby, a language filter
// skips rules for other languages, and a negation just before the hit
// halves its confidence (不保本 is still worth a look in a sales chat).
func (e *Engine) keywordFindings(m *message, s *scratch, out []capture.Finding) []capture.Finding {
	s.ruleHits = s.ruleHits[:0]
	for i, h := range s.hits {
		for _, ref := range e.termRefs[h.Term] {
			s.ruleHits = append(s.ruleHits, ruleHit{rule: ref.rule, role: ref.role, hit: int32(i)})
		}
	}
	slices.SortFunc(s.ruleHits, func(a, b ruleHit) int {
		return cmp.Or(cmp.Compare(a.rule, b.rule), cmp.Compare(a.role, b.role), cmp.Compare(a.hit, b.hit))
	})
	terms := e.matcher.Terms()
	for lo := 0; lo < len(s.ruleHits); {
		r := s.ruleHits[lo].rule
		hi := lo
		for hi < len(s.ruleHits) && s.ruleHits[hi].rule == r {
			hi++
		}
		group := s.ruleHits[lo:hi]
		lo = hi
		rule := &e.rules[r]
		if rule.languages != 0 && rule.languages&m.languages == 0 {
			continue
		}
		reported := 0
		var last lexicon.Hit
		for _, rh := range group {
			if rh.role != roleTerm || reported == maxFindingsPerRule {
				continue
			}
			h := s.hits[rh.hit]
			if reported > 0 && h.Start == last.Start && h.End == last.End {
				continue
			}
			if excepted(h, group, s.hits) || rule.within > 0 && !near(m.text, h, group, s.hits, rule.within) {
				continue
			}
			term := &terms[h.Term]
			f := e.finding(int(r))
			f.Start, f.End = int(h.Start), int(h.End)
			f.Confidence, f.Evasion = matchQuality(m.text, h, term)
			if negated(m.text, int(h.Start)) {
				f.Confidence /= 2
			}
			f.Evidence = term.Text
			out = append(out, f)
			reported++
			last = h
		}
	}
	return out
}

// excepted is true when an exception hit of the same rule contains h.
func excepted(h lexicon.Hit, group []ruleHit, hits []lexicon.Hit) bool {
	for _, rh := range group {
		if rh.role != roleException {
			continue
		}
		x := hits[rh.hit]
		if x.Start <= h.Start && h.End <= x.End {
			return true
		}
	}
	return false
}

// near is true when a proximity term of the rule is within `within`
// characters of h, before or after it.
func near(text string, h lexicon.Hit, group []ruleHit, hits []lexicon.Hit, within int) bool {
	for _, rh := range group {
		if rh.role != roleProximity {
			continue
		}
		p := hits[rh.hit]
		var gap string
		switch {
		case p.End <= h.Start:
			gap = text[p.End:h.Start]
		case h.End <= p.Start:
			gap = text[h.End:p.Start]
		}
		if len(gap) <= within || utf8.RuneCountInString(gap) <= within {
			return true
		}
	}
	return false
}

// matchQuality compares the written span with the term: separators the term
// does not have after nearly every character are letter-spacing (evasion,
// still confident); other extra separators make the match a guess. Invisible
// characters and look-alike letters inside the span are evasion.
func matchQuality(text string, h lexicon.Hit, term *lexicon.Term) (int, []string) {
	var evasion []string
	gaps, invisible, lookalike, inGap := 0, 0, false, false
	for _, r := range text[h.Start:h.End] {
		e := normalize.Lookup(r)
		switch e.Kind() {
		case normalize.KindInvisible:
			invisible++
		case normalize.KindSeparator:
			if !inGap {
				gaps++
			}
			inGap = true
			continue
		case normalize.KindText:
			if e.Flags()&normalize.FlagLookalike != 0 {
				lookalike = true
			}
		}
		inGap = false
	}
	confidence := confidenceKeyword
	if invisible > 0 {
		evasion = append(evasion, evasionInvisible)
	}
	if lookalike {
		evasion = append(evasion, evasionLookalike)
	}
	if extra := gaps - term.Gaps; extra > 0 {
		if extra*5 >= (len(term.Symbols)-1)*4 {
			evasion = append(evasion, evasionSpacing)
		} else {
			evasion = append(evasion, evasionGaps)
			confidence = confidenceAmbiguous
		}
	}
	return confidence, evasion
}

// negationCues are the words that, just before a term, turn it around.
var negationCues = map[rune]bool{'不': true, '没': true, '沒': true, '无': true, '無': true, '非': true, '未': true, '别': true, '別': true, '勿': true, '唔': true, '冇': true}

// negated looks up to three characters before start for a Chinese negation,
// or the two words before it for not, no or never.
func negated(text string, start int) bool {
	i := start
	for n := 0; i > 0 && n < 3; n++ {
		r, size := utf8.DecodeLastRuneInString(text[:i])
		if negationCues[r] {
			return true
		}
		i -= size
	}
	words := strings.FieldsFunc(text[max(0, start-32):start], func(r rune) bool {
		return !(r < utf8.RuneSelf && unicode.IsLetter(r) || r == '\'')
	})
	for j := len(words) - 1; j >= 0 && j >= len(words)-2; j-- {
		switch strings.ToLower(words[j]) {
		case "not", "no", "never", "don't", "dont", "isn't", "aren't":
			return true
		}
	}
	return false
}

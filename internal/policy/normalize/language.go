package normalize

import "unicode/utf8"

// Languages is the set of languages a message is written in; a message mixing
// Chinese and English has both bits.
type Languages uint8

// Language bits, named as in CompliancePolicy keywords.languages.
const (
	// Simplified is Mandarin in Simplified characters (zh-Hans).
	Simplified Languages = 1 << iota
	// Traditional is Chinese in Traditional characters (zh-Hant).
	Traditional
	// Cantonese is written Cantonese (yue), told by its own characters.
	Cantonese
	// English is Latin-script text (en).
	English
)

// ParseLanguage maps a CompliancePolicy language code to its bit.
func ParseLanguage(code string) (Languages, bool) {
	switch code {
	case "zh-Hans":
		return Simplified, true
	case "zh-Hant":
		return Traditional, true
	case "yue":
		return Cantonese, true
	case "en":
		return English, true
	}
	return 0, false
}

// Names lists the language codes of the set, in a fixed order.
func (l Languages) Names() []string {
	var out []string
	for _, c := range []struct {
		bit  Languages
		name string
	}{{Simplified, "zh-Hans"}, {Traditional, "zh-Hant"}, {Cantonese, "yue"}, {English, "en"}} {
		if l&c.bit != 0 {
			out = append(out, c.name)
		}
	}
	return out
}

// Script counts runes of a message by script, gathered before folding, since
// folding erases what tells Traditional and Cantonese apart (係 becomes 系).
type Script struct {
	Han, HanTraditional, Cantonese, Latin, Other int
}

// Add counts one original rune by its kind and flags.
func (s *Script) Add(k Kind, f Flag) {
	switch {
	case f&FlagHan != 0:
		s.Han++
		if f&FlagTraditional != 0 {
			s.HanTraditional++
		}
		if f&FlagCantonese != 0 {
			s.Cantonese++
		}
	case f&FlagLatin != 0:
		s.Latin++
	case k == KindText:
		s.Other++
	}
}

// Languages decides the message's languages from its script counts: one
// Cantonese character marks Cantonese; Traditional when at least a tenth of
// the ideographs change under Traditional to Simplified (many characters are
// the same in both); English when it has a word's worth of Latin letters.
func (s Script) Languages() Languages {
	var l Languages
	if s.Han > 0 {
		switch {
		case s.Cantonese > 0:
			l |= Cantonese
		case s.HanTraditional*10 >= s.Han:
			l |= Traditional
		default:
			l |= Simplified
		}
		if s.Cantonese > 0 && s.HanTraditional*10 < s.Han {
			l |= Simplified
		}
	}
	if s.Latin >= 3 {
		l |= English
	}
	return l
}

// DetectLanguages counts the scripts of text and returns its languages.
func DetectLanguages(text string) Languages {
	var s Script
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		e := Lookup(r)
		s.Add(e.Kind(), e.Flags())
		i += size
	}
	return s.Languages()
}

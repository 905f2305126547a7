package normalize

import (
	"unicode/utf8"
)

// View is folded text with a map back to the original bytes: output byte i
// came from original bytes [Starts[i], Ends[i]).
type View struct {
	Text   string
	Starts []int32
	Ends   []int32
	// Invisible counts dropped format characters, an evasion signal.
	Invisible int
}

// Span maps a byte range of the view back to the original text.
func (v *View) Span(start, end int) (int, int) {
	if start >= end || end > len(v.Text) {
		return 0, 0
	}
	return int(v.Starts[start]), int(v.Ends[end-1])
}

// Fold folds s for matching. With squeeze, separators are left out (洗 钱 and
// c.a.s.h read as 洗钱 and cash); without, they are kept, folded like the
// rest (a full-width hyphen reads as '-'), so patterns can rely on them.
func Fold(s string, squeeze bool) View {
	v := View{}
	buf := make([]byte, 0, len(s))
	starts := make([]int32, 0, len(s))
	ends := make([]int32, 0, len(s))
	emit := func(r rune, start, end int) {
		n := len(buf)
		buf = utf8.AppendRune(buf, r)
		for i := n; i < len(buf); i++ {
			starts = append(starts, int32(start))
			ends = append(ends, int32(end))
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		e := Lookup(r)
		runes := [1]rune{}
		parts := runes[:0]
		if f, ok := e.Rune(); ok {
			parts = append(parts, f)
		} else {
			parts = e.Multi()
		}
		switch e.Kind() {
		case KindInvisible:
			v.Invisible++
		case KindMark:
		case KindSeparator:
			if !squeeze {
				for _, p := range parts {
					// A part that is itself dropped (˙ folds to a space
					// and a combining dot) is dropped here too, so
					// folding twice changes nothing.
					if len(parts) == 1 || keeps(Lookup(p).Kind(), false) {
						emit(p, i, i+size)
					}
				}
			}
		default:
			for _, p := range parts {
				if len(parts) == 1 || keeps(Lookup(p).Kind(), squeeze) {
					emit(p, i, i+size)
				}
			}
		}
		i += size
	}
	v.Text, v.Starts, v.Ends = string(buf), starts, ends
	return v
}

// keeps says whether a part of a several-rune fold stays in the view.
func keeps(k Kind, squeeze bool) bool {
	return k == KindText || k == KindSeparator && !squeeze
}

// Skeleton is the fold used to compare names that may be disguised (domain
// labels, display names): look-alike letters to ASCII, width and case folded,
// invisible characters and marks dropped, separators kept as they are.
func Skeleton(s string) string {
	buf := make([]byte, 0, len(s))
	for _, r := range s {
		e := Lookup(r)
		switch e.Kind() {
		case KindInvisible, KindMark:
			continue
		case KindSeparator:
			if r < 0x80 {
				buf = append(buf, byte(r))
				continue
			}
		}
		if f, ok := e.Rune(); ok {
			buf = utf8.AppendRune(buf, f)
			continue
		}
		for _, p := range e.Multi() {
			buf = utf8.AppendRune(buf, p)
		}
	}
	return string(buf)
}

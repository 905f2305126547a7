package lexicon

import (
	"unicode/utf8"

	"github.com/vigil-operator/vigil/internal/policy/normalize"
)

// symbol is the scan loop's view of one original rune: class of its fold
// (bits 0-15), kind (16-17), multi-rune fold (18), script bucket (19-21),
// flags (24-31).
type symbol uint32

const (
	symClassMask   = 1<<16 - 1
	symKindShift   = 16
	symMulti       = 1 << 18
	symScriptShift = 19
	symFlagShift   = 24
)

// Script buckets: the loop counts runes per bucket with one increment, and
// Stats turns the buckets into normalize.Script counts at the end.
const (
	bucketNone = iota
	bucketHan
	bucketHanTraditional
	bucketHanCantonese
	bucketHanTraditionalCantonese
	bucketLatin
	bucketOther
	bucketCount
)

func scriptBucket(k normalize.Kind, f normalize.Flag) symbol {
	switch {
	case f&normalize.FlagHan != 0:
		b := symbol(bucketHan)
		if f&normalize.FlagTraditional != 0 {
			b = bucketHanTraditional
		}
		if f&normalize.FlagCantonese != 0 {
			b += bucketHanCantonese - bucketHan
		}
		return b
	case f&normalize.FlagLatin != 0:
		return bucketLatin
	case k == normalize.KindText:
		return bucketOther
	}
	return bucketNone
}

// Matcher is a compiled, immutable term automaton, safe for concurrent use.
type Matcher struct {
	terms   []Term
	classOf map[rune]uint16
	classes int
	sym     [0x10000]symbol

	// nodes is the double array; base and check are its halves while it is
	// built. term is the term ending at a state, or -1.
	nodes       []daNode
	base, check []int32
	term        []TermID
	// ringMask is one less than the size of the scan's ring of recent
	// symbol offsets: a power of two no smaller than the longest term.
	ringMask int32
	// root is the root's transition per class: nearly every character of a
	// message goes through the root, and this small dense table stays in
	// cache where the root's slots of the double array, spread over the
	// whole class range, do not.
	root []rootEdge
}

// rootEdge is the root's transition on one class: the state it leads to (0
// for none) and a signature of that state's own transitions, bit c%64 set
// for each class c it has one on. With thousands of terms most characters
// begin some term, and the next character rarely continues it; the
// signature tells so without touching the double array, and since a state
// one symbol deep fails to the root, the scan goes straight back to this
// table.
type rootEdge struct {
	children uint64
	state    int32
}

// smallRing is the largest ring of symbol offsets kept on the stack.
const smallRing = 64

// allChildren is the signature of a state whose transitions are not known:
// the scan takes the full step.
const allChildren = ^uint64(0)

// daNode is one slot of the double array. A transition from state s on
// class c goes to t = base[s]+c when nodes[t].check == s; fail is the
// Aho–Corasick failure link; emit is the first state on the failure chain
// (the state itself included) where a term ends, or -1.
type daNode struct {
	base, check, fail, emit int32
}

// Terms returns the distinct terms, indexed by TermID.
func (m *Matcher) Terms() []Term { return m.terms }

// States is the automaton's size, for metrics.
func (m *Matcher) States() int { return len(m.nodes) }

// Hit is one term found in the original text.
type Hit struct {
	Term TermID
	// Start and End are byte offsets into the original text.
	Start, End int32
	// Symbol is the index, in the squeezed view, of the hit's last character;
	// distances between hits are measured in it.
	Symbol int32
}

// Stats describes the scanned text: its scripts and the evasion signals
// found while folding it.
type Stats struct {
	Script normalize.Script
	// buckets counts runes by script bucket during the scan.
	buckets [bucketCount]int
	// Invisible counts dropped format characters (zero-width spaces, bidi
	// controls).
	Invisible int
	// Symbols is the length of the squeezed view.
	Symbols int
}

// Scan folds text and appends every term occurrence to hits, overlapping and
// nested ones included (exceptions and proximity need them all). Hits whose
// Latin ends are not on word boundaries are dropped.
func (m *Matcher) Scan(text string, hits []Hit, st *Stats) []Hit {
	// The ring of recent symbol offsets needs only as many entries as the
	// longest term has symbols; a small one on the stack costs nothing to
	// clear, where clearing MaxTermSymbols entries for every message did.
	var small [smallRing]int32
	ring := small[:]
	if m.ringMask >= smallRing {
		ring = make([]int32, m.ringMask+1)
	}
	state := int32(0)
	// children is the signature of state's transitions when state is the
	// root (none: every class goes through the root table) or one symbol
	// deep (see rootEdge), and allChildren otherwise.
	children := uint64(0)
	symIdx := int32(-1)
	for i := 0; i < len(text); {
		var r rune
		var s symbol
		size := 1
		if c := text[i]; c < utf8.RuneSelf {
			r, s = rune(c), m.sym[c]
		} else if r, size = decode3(text, i); size != 0 {
			s = m.sym[r]
		} else {
			if r, size = utf8.DecodeRuneInString(text[i:]); r < 0x10000 {
				s = m.sym[r]
			} else {
				s = m.symbolOf(r)
			}
		}
		st.buckets[s>>symScriptShift&7]++
		switch normalize.Kind(s >> symKindShift & 3) {
		case normalize.KindText:
		case normalize.KindInvisible:
			st.Invisible++
			i += size
			continue
		default:
			i += size
			continue
		}
		if s&symMulti != 0 {
			for _, p := range normalize.Lookup(r).Multi() {
				if normalize.Lookup(p).Kind() != normalize.KindText {
					continue
				}
				symIdx++
				ring[symIdx&m.ringMask] = int32(i)
				state = m.step(state, m.classOf[p])
				hits = m.report(text, state, symIdx, ring, i+size, hits)
			}
			children = allChildren
			i += size
			continue
		}
		symIdx++
		ring[symIdx&m.ringMask] = int32(i)
		class := uint16(s & symClassMask)
		switch {
		case children&(1<<(class&63)) == 0:
			// The state is the root or one symbol deep, and has no
			// transition on class: the transition is the root's. No term
			// ends one symbol deep, so there is nothing to report. Class 0,
			// in no term, lands here too, on the root's empty entry.
			e := &m.root[class]
			state, children = e.state, e.children
		default:
			state, children = m.step(state, class), allChildren
			if m.nodes[state].emit >= 0 {
				hits = m.report(text, state, symIdx, ring, i+size, hits)
			}
		}
		i += size
	}
	st.Symbols = int(symIdx + 1)
	st.Script = normalize.Script{
		Han:            st.buckets[bucketHan] + st.buckets[bucketHanTraditional] + st.buckets[bucketHanCantonese] + st.buckets[bucketHanTraditionalCantonese],
		HanTraditional: st.buckets[bucketHanTraditional] + st.buckets[bucketHanTraditionalCantonese],
		Cantonese:      st.buckets[bucketHanCantonese] + st.buckets[bucketHanTraditionalCantonese],
		Latin:          st.buckets[bucketLatin],
		Other:          st.buckets[bucketOther],
	}
	return hits
}

// step follows the goto function, falling back along failure links.
func (m *Matcher) step(state int32, class uint16) int32 {
	for {
		if state == 0 {
			return m.root[class].state
		}
		t := m.nodes[state].base + int32(class)
		if t < int32(len(m.nodes)) && m.nodes[t].check == state {
			return t
		}
		state = m.nodes[state].fail
	}
}

// report appends the terms ending at state whose word boundaries hold.
func (m *Matcher) report(text string, state, symIdx int32, ring []int32, end int, hits []Hit) []Hit {
	for x := m.nodes[state].emit; x >= 0; x = m.nodes[m.nodes[x].fail].emit {
		id := m.term[x]
		t := &m.terms[id]
		start := ring[(symIdx-int32(len(t.Symbols))+1)&m.ringMask]
		if (!t.WordStart || boundaryBefore(text, int(start))) && (!t.WordEnd || boundaryAfter(text, end)) {
			hits = append(hits, Hit{Term: id, Start: start, End: int32(end), Symbol: symIdx})
		}
	}
	return hits
}

// boundaryBefore is true when the text before i does not continue a word:
// start of text, a separator, or an ideograph. Invisible characters and
// marks are looked through, so they cannot glue a term to a word.
func boundaryBefore(text string, i int) bool {
	for i > 0 {
		r, size := utf8.DecodeLastRuneInString(text[:i])
		e := normalize.Lookup(r)
		switch e.Kind() {
		case normalize.KindInvisible, normalize.KindMark:
			i -= size
			continue
		case normalize.KindText:
			return e.Flags()&normalize.FlagHan != 0 || !continuesWord(e)
		}
		return true
	}
	return true
}

func boundaryAfter(text string, i int) bool {
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		e := normalize.Lookup(r)
		switch e.Kind() {
		case normalize.KindInvisible, normalize.KindMark:
			i += size
			continue
		case normalize.KindText:
			return e.Flags()&normalize.FlagHan != 0 || !continuesWord(e)
		}
		return true
	}
	return true
}

// continuesWord is true for text runes that extend a Latin word: letters and
// digits of alphabetic scripts, not kana or Hangul.
func continuesWord(e normalize.Entry) bool {
	f, ok := e.Rune()
	if !ok {
		return true
	}
	return isWordRune(f)
}

// decode3 decodes a well-formed three-byte sequence (all of CJK and most
// symbols) without the general decoder's branches; size 0 sends anything
// else to utf8.DecodeRuneInString. It is small enough to be inlined: Chinese
// text is mostly these sequences, and a call for each would cost as much as
// the rest of the character's work.
func decode3(text string, i int) (rune, int) {
	if i+2 >= len(text) {
		return 0, 0
	}
	// The three bytes as one word: lead byte 1110xxxx and two continuation
	// bytes 10xxxxxx are one masked compare.
	v := uint32(text[i])<<16 | uint32(text[i+1])<<8 | uint32(text[i+2])
	r := rune(v>>4&0xF000 | v>>2&0x0FC0 | v&0x3F)
	// Not overlong, not a surrogate (U+D800-U+DFFF share their top five
	// bits).
	if v&0xF0C0C0 != 0xE08080 || r < 0x800 || r>>11 == 0xD800>>11 {
		return 0, 0
	}
	return r, 3
}

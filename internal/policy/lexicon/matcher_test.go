package lexicon

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vigil-operator/vigil/internal/policy/normalize"
)

func build(t testing.TB, terms ...string) *Matcher {
	t.Helper()
	b := NewBuilder()
	for _, term := range terms {
		if _, err := b.Add(term); err != nil {
			t.Fatal(err)
		}
	}
	return b.Build()
}

// found lists "term@original-span" for every hit.
func found(m *Matcher, text string) []string {
	var st Stats
	var out []string
	for _, h := range m.Scan(text, nil, &st) {
		out = append(out, m.Terms()[h.Term].Text+"@"+text[h.Start:h.End])
	}
	return out
}

func TestScanAcrossScriptsAndEvasion(t *testing.T) {
	m := build(t, "洗钱", "反洗钱", "内幕消息", "cash", "money laundering", "usdt", "guaranteed return", "稳赚")
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"他在做洗钱", []string{"洗钱@洗钱"}},
		{"他在做洗錢", []string{"洗钱@洗錢"}},
		{"洗 钱", []string{"洗钱@洗 钱"}},
		{"洗\u200b钱", []string{"洗钱@洗\u200b钱"}},
		{"反洗钱培训", []string{"反洗钱@反洗钱", "洗钱@洗钱"}}, // nested hits are all reported
		{"有內幕消息", []string{"内幕消息@內幕消息"}},
		{"提现cash吗", []string{"cash@cash"}},           // Han is a boundary for Latin
		{"c.a.s.h please", []string{"cash@c.a.s.h"}}, // dotted
		{"the cashier", nil},                         // not on a word boundary
		{"pay in cash.", []string{"cash@cash"}},
		{"ＵＳＤＴ收款", []string{"usdt@ＵＳＤＴ"}},
		{"саsh", []string{"cash@саsh"}}, // Cyrillic look-alikes
		{"Money  Laundering!", []string{"money laundering@Money  Laundering"}},
		{"穩賺不賠", []string{"稳赚@穩賺"}},
		{"nothing to see", nil},
	} {
		got := found(m, tc.text)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Scan(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestAddRejectsShortAndDedupes(t *testing.T) {
	b := NewBuilder()
	if _, err := b.Add("钱"); !errors.Is(err, ErrTooShort) {
		t.Fatalf("one ideograph: %v", err)
	}
	if _, err := b.Add("  "); !errors.Is(err, ErrTooShort) {
		t.Fatalf("blank: %v", err)
	}
	a, _ := b.Add("洗钱")
	c, _ := b.Add("洗錢")
	if a != c || b.Len() != 1 {
		t.Fatalf("Traditional and Simplified forms should share a term: %d %d", a, c)
	}
	id, _ := b.Add("money  laundering")
	if g := b.terms[id].Gaps; g != 1 {
		t.Fatalf("gaps = %d", g)
	}
}

// TestScanAgreesWithNaiveSearch compares every hit against a brute-force
// search over the squeezed view on random texts built from the terms.
func TestScanAgreesWithNaiveSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("洗钱内幕消息稳赚保本收益拉升的了是我你他")
	var terms []string
	for range 300 {
		n := 2 + rng.IntN(4)
		var sb strings.Builder
		for range n {
			sb.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		terms = append(terms, sb.String())
	}
	m := build(t, terms...)
	for trial := range 200 {
		var sb strings.Builder
		for range 200 {
			sb.WriteRune(alphabet[rng.IntN(len(alphabet))])
			if rng.IntN(10) == 0 {
				sb.WriteString(" ")
			}
		}
		text := sb.String()
		var st Stats
		got := map[string]int{}
		for _, h := range m.Scan(text, nil, &st) {
			got[fmt.Sprintf("%d:%d", h.Term, h.End)]++
		}
		squeezed, ends := []rune{}, []int{}
		for i, r := range text {
			if r != ' ' {
				squeezed = append(squeezed, r)
				ends = append(ends, i+utf8.RuneLen(r))
			}
		}
		want := map[string]int{}
		for id, term := range m.Terms() {
			for i := 0; i+len(term.Symbols) <= len(squeezed); i++ {
				if slices.Equal(squeezed[i:i+len(term.Symbols)], term.Symbols) {
					want[fmt.Sprintf("%d:%d", id, ends[i+len(term.Symbols)-1])]++
				}
			}
		}
		if len(got) != len(want) {
			t.Fatalf("trial %d: %d distinct hits, naive search finds %d", trial, len(got), len(want))
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("trial %d: hit %s seen %d times, want %d", trial, k, got[k], v)
			}
		}
	}
}

func TestStatsCountScriptsAndInvisibles(t *testing.T) {
	m := build(t, "洗钱")
	var st Stats
	m.Scan("佢哋\u200b唔係 ok", nil, &st)
	if st.Invisible != 1 || st.Script.Cantonese == 0 || st.Script.Latin != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// TestScanLocatesLongTerms checks hit offsets for terms around the size of
// the ring kept on the stack and far past it, each written with a separator
// after every letter so that the span differs from the symbol count.
func TestScanLocatesLongTerms(t *testing.T) {
	for _, n := range []int{smallRing - 1, smallRing, smallRing + 1, 3 * smallRing, MaxTermSymbols} {
		var term, spaced strings.Builder
		for i := range n {
			letter := string(rune('a' + i%7))
			term.WriteString(letter)
			spaced.WriteString(letter + " ")
		}
		m := build(t, term.String(), "洗钱")
		text := "洗钱 " + spaced.String() + "洗钱"
		want := []string{"洗钱@洗钱", term.String() + "@" + strings.TrimSpace(spaced.String()), "洗钱@洗钱"}
		if got := found(m, text); !slices.Equal(got, want) {
			t.Fatalf("term of %d symbols: got %q", n, got)
		}
	}
}

// TestDecode3MatchesTheStandardDecoder tries every lead byte E0-EF with
// every pair of following bytes: decode3 must decode exactly the
// sequences Go's decoder reads as one three-byte rune, to the same rune.
func TestDecode3MatchesTheStandardDecoder(t *testing.T) {
	for c0 := 0xE0; c0 <= 0xEF; c0++ {
		for c1 := range 256 {
			for c2 := range 256 {
				text := string([]byte{byte(c0), byte(c1), byte(c2)})
				want, wantSize := utf8.DecodeRuneInString(text)
				got, size := decode3(text, 0)
				if wantSize == 3 && (size != 3 || got != want) || wantSize != 3 && size != 0 {
					t.Fatalf("decode3(% x) = %U, %d; the standard decoder reads %U, %d", text, got, size, want, wantSize)
				}
			}
		}
	}
	if _, size := decode3("\xe4\xb8", 0); size != 0 {
		t.Fatal("decode3 read past the end of a truncated sequence")
	}
}

// TestScanDecodesEveryIdeograph checks the scan's decoding against Go's
// decoder: every rune of U+4000-U+9FFF, then invalid and truncated
// sequences with those lead bytes, must be counted exactly as ranging over
// the string and looking each rune up counts them.
func TestScanDecodesEveryIdeograph(t *testing.T) {
	var sb strings.Builder
	for r := rune(0x4000); r <= 0x9FFF; r++ {
		sb.WriteRune(r)
	}
	sb.WriteString("\xe4\x80a\xe9\xbf\xc0\xe5\xe6\xb8\xad\xe4\xb8")
	text := sb.String()
	var want Stats
	for _, r := range text {
		e := normalize.Lookup(r)
		want.Script.Add(e.Kind(), e.Flags())
		if e.Kind() == normalize.KindText {
			want.Symbols++
		}
	}
	m := build(t, "洗钱")
	var st Stats
	hits := m.Scan(text, nil, &st)
	if st.Script != want.Script || st.Symbols != want.Symbols {
		t.Fatalf("stats %+v %d symbols, want %+v %d", st.Script, st.Symbols, want.Script, want.Symbols)
	}
	if len(hits) != 0 {
		t.Fatalf("hits %v in a text without the term", hits)
	}
	if got := found(m, "\xe4\xb8洗\xe9钱"); !slices.Equal(got, []string{"洗钱@洗\xe9钱"}) {
		t.Fatalf("invalid bytes inside a term: %q", got)
	}
}

func FuzzScan(f *testing.F) {
	m := build(f, "洗钱", "反洗钱", "cash", "money laundering", "ｕｓｄｔ", "ﬁle", "内幕")
	for _, s := range []string{"洗 钱", "c.a.s.h", "反洗錢", "\xff洗钱\xfe", "ﬁle", "ⅰⅱ", "cash\u0301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		// Offsets must fall where decoding starts a rune (invalid bytes
		// decode one at a time).
		starts := map[int32]bool{int32(len(text)): true}
		for i := 0; i < len(text); {
			starts[int32(i)] = true
			_, size := utf8.DecodeRuneInString(text[i:])
			i += size
		}
		var st Stats
		for _, h := range m.Scan(text, nil, &st) {
			if h.Start < 0 || h.Start >= h.End || int(h.End) > len(text) {
				t.Fatalf("hit [%d,%d) outside %d bytes", h.Start, h.End, len(text))
			}
			if !starts[h.Start] || !starts[h.End] {
				t.Fatalf("hit [%d,%d) splits a rune", h.Start, h.End)
			}
		}
	})
}

// benchTerms makes n terms of 2-4 common ideographs, and a fifth of them
// English word pairs, like a large compliance lexicon.
func benchTerms(n int) []string {
	rng := rand.New(rand.NewPCG(7, 7))
	words := strings.Fields("cash return profit guaranteed inside info deal fund stock pump dump offshore wallet transfer account private chat delete record gift card rebate fee")
	var out []string
	for i := range n {
		if i%5 == 0 {
			out = append(out, words[rng.IntN(len(words))]+" "+words[rng.IntN(len(words))]+fmt.Sprint(i))
			continue
		}
		var sb strings.Builder
		for range 2 + rng.IntN(3) {
			sb.WriteRune(rune(0x4E00 + rng.IntN(3000)))
		}
		out = append(out, sb.String())
	}
	return out
}

func benchText(size int) string {
	rng := rand.New(rand.NewPCG(9, 9))
	var sb strings.Builder
	for sb.Len() < size {
		switch rng.IntN(10) {
		case 0:
			sb.WriteString(" please transfer the fund today, ")
		case 1:
			sb.WriteString("，")
		default:
			sb.WriteRune(rune(0x4E00 + rng.IntN(6000)))
		}
	}
	return sb.String()
}

func BenchmarkScan10kTerms(b *testing.B) {
	m := build(b, benchTerms(10000)...)
	text := benchText(1 << 20)
	var hits []Hit
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		var st Stats
		hits = m.Scan(text, hits[:0], &st)
	}
	b.ReportMetric(float64(len(hits)), "hits/op")
}

func BenchmarkBuild50kTerms(b *testing.B) {
	terms := benchTerms(50000)
	for b.Loop() {
		build(b, terms...)
	}
}

package detect

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// refKeywordHits finds keyword hits the slow way: every keyword at every
// rune start, with the Latin boundary rules. It is the oracle for the hits
// the collection pass gathers on the fly.
func refKeywordHits(text string) []kwHit {
	var hits []kwHit
	for i := 0; i < len(text); i++ {
		if text[i]&0xC0 == 0x80 {
			continue
		}
		var g ctxGroup
		e := 0
		for _, k := range keywordList {
			if !hasPrefixFold(text[i:], k.kw) {
				continue
			}
			if k.kw[0] < 0x80 {
				if i > 0 && isWordByte(text[i-1]) {
					continue
				}
				last := k.kw[len(k.kw)-1]
				if ke := i + len(k.kw); last < 0x80 && isWordByte(last) && ke < len(text) && isWordByte(text[ke]) {
					continue
				}
			}
			g |= k.g
			e = max(e, i+len(k.kw))
		}
		if g != 0 {
			hits = append(hits, kwHit{int32(i), int32(e), g})
		}
	}
	return hits
}

func TestKeywordHitsMatchOracle(t *testing.T) {
	texts := []string{
		"我的身份证号码是 and my ID card, Tel: 123, hotel, telephone 手机 USDT地址 u商 U商",
		"開戶行 户名 银行卡 卡号 IBAN swift BIC bic123 統一社會信用代碼 营业执照 护照 台胞證",
		"E-mail: x; email; mailbox; Passport No; travel document; home return permit",
		benchText(7, 20000, 3),
	}
	s := NewScanner()
	for _, text := range texts {
		s.Scan(text, All, nil)
		want := refKeywordHits(text)
		got := s.hits
		if len(got) != len(want) {
			t.Errorf("%d hits, oracle %d in %.60q", len(got), len(want), text)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("hit %d = %+v (%q), oracle %+v (%q)", i, got[i], text[got[i].start:got[i].end],
					want[i], text[want[i].start:want[i].end])
				break
			}
		}
	}
}

func TestLatinKeywordBoundaries(t *testing.T) {
	cases := []struct {
		text string
		want bool
	}{
		{"Tel: X", true},
		{"TEL X", true},
		{"hotel X", false},    // tel inside a word
		{"telex X", false},    // tel followed by letters
		{"telephone X", true}, // its own keyword
		{"PhOnE X", true},     // case-insensitive
		{"iphone X", false},   //
		{"phones X", false},   // plural is a different word
		{"vx: X", true},       // contact shorthand
		{"微信 X", true},        // CJK: substring
		{"我的手机号 X", true},     // CJK inside a longer word
	}
	s := NewScanner()
	for _, c := range cases {
		s.Scan(c.text, All, nil)
		s.text = c.text // Scan leaves the hits but drops the text
		x := strings.LastIndexByte(c.text, 'X')
		if got := s.hasContext(x, x+1, ctxMobile); got != c.want {
			t.Errorf("%q: context %v, want %v", c.text, got, c.want)
		}
	}
}

// TestContextWindow pins the 300-character window in both directions, with
// CJK filler so that characters and bytes differ.
func TestContextWindow(t *testing.T) {
	const mobile = "13800138000"
	fill := func(n int) string { return strings.Repeat("好", n) }
	cases := []struct {
		text string
		ctx  bool
	}{
		{"手机" + fill(300) + mobile, true},
		{"手机" + fill(301) + mobile, false},
		{mobile + fill(300) + "手机", true},
		{mobile + fill(301) + "手机", false},
		{"phone" + strings.Repeat("#", 300) + mobile, true},
		{"phone" + strings.Repeat("#", 301) + mobile, false},
		{mobile + strings.Repeat("#", 300) + "PHONE", true},
		{mobile + strings.Repeat("#", 301) + "PHONE", false},
		{"手机" + fill(150) + "😀" + fill(149) + mobile, true}, // a 4-byte rune is one character
	}
	s := NewScanner()
	for i, c := range cases {
		ds := s.Scan(c.text, SetOf(ChinaMobile), nil)
		if len(ds) != 1 {
			t.Fatalf("case %d: %d detections", i, len(ds))
		}
		if ds[0].Context != c.ctx || (ds[0].Confidence == 85) != c.ctx {
			t.Errorf("case %d: context %v conf %d, want context %v", i, ds[0].Context, ds[0].Confidence, c.ctx)
		}
	}
}

func TestKeywordIndex(t *testing.T) {
	if kwIndex.maxLen == 0 || len(kwIndex.han) == 0 {
		t.Fatal("empty keyword index")
	}
	// Every keyword is reachable from its first character.
	for _, k := range keywordList {
		s := NewScanner()
		s.Scan(k.kw+" ", All, nil)
		if len(s.hits) == 0 || s.hits[0].g&k.g != k.g {
			t.Errorf("keyword %q not found (hits %+v)", k.kw, s.hits)
		}
	}
}

func TestRuneCount(t *testing.T) {
	for _, s := range []string{"", "a", "好", "abc好好好😀xyzé", strings.Repeat("好a", 37), "\xff\x80\x80abc"} {
		if got, want := runeCount(s), utf8.RuneCountInString(s); got != want && utf8.ValidString(s) {
			t.Errorf("runeCount(%q) = %d, want %d", s, got, want)
		}
	}
}

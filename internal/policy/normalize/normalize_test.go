package normalize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFoldSqueezed(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"洗钱", "洗钱"},
		{"洗錢", "洗钱"},           // Traditional
		{"洗 钱", "洗钱"},          // spacing
		{"洗\u200b钱", "洗钱"},     // zero-width space
		{"洗❤钱", "洗钱"},          // symbol between
		{"c.a.s.h", "cash"},    // dotted Latin
		{"ＵＳＤＴ", "usdt"},       // full width
		{"саsh", "cash"},       // Cyrillic с and а
		{"Café", "cafe"},       // diacritics
		{"cafe\u0301", "cafe"}, // combining mark
		{"內幕消息", "内幕消息"},       // Traditional 內
		{"①③⑧", "138"},         // circled digits
		{"⑴", "1"},             // parenthesised number keeps its digit only
		{"係唔係", "系唔系"},         // Cantonese copula folds like the rest
		{"𝐜𝐚𝐬𝐡", "cash"},       // mathematical bold
		{"悅", "悦"},             // Hong Kong variant
		{"INSIDE Info", "insideinfo"},
	} {
		got := Fold(tc.in, true)
		if got.Text != tc.want {
			t.Errorf("Fold(%q) = %q, want %q", tc.in, got.Text, tc.want)
		}
	}
}

func TestFoldKeepsSeparatorsWhenNotSqueezed(t *testing.T) {
	got := Fold("Buy  NOW，ＯＲＤ－１２３​!", false).Text
	if got != "buy  now,ord-123!" {
		t.Fatalf("String = %q", got)
	}
}

func TestOffsetsPointAtOriginalBytes(t *testing.T) {
	in := "请加我 洗\u200b 錢 now"
	v := Fold(in, true)
	i := strings.Index(v.Text, "洗钱")
	start, end := v.Span(i, i+len("洗钱"))
	if got := in[start:end]; got != "洗\u200b 錢" {
		t.Fatalf("span %q", got)
	}
	if v.Invisible != 1 {
		t.Fatalf("Invisible = %d", v.Invisible)
	}
}

func TestSkeletonMatchesLookalikeDomains(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"аpple.com", "apple.com"},   // Cyrillic а
		{"ｉｃｂｃ.com", "icbc.com"},     // full width
		{"WeChat.com", "wechat.com"}, // case
	} {
		if Skeleton(tc.a) != Skeleton(tc.b) {
			t.Errorf("Skeleton(%q)=%q != Skeleton(%q)=%q", tc.a, Skeleton(tc.a), tc.b, Skeleton(tc.b))
		}
	}
	if Skeleton("icbc.com") == Skeleton("icbe.com") {
		t.Error("different letters must keep different skeletons")
	}
	if Skeleton("0") == Skeleton("o") {
		t.Error("ASCII digits must not fold to letters")
	}
}

func TestDetectLanguages(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Languages
	}{
		{"这个产品保证收益", Simplified},
		{"這個產品保證收益", Traditional},
		{"佢哋唔係講笑", Cantonese},
		{"guaranteed return", English},
		{"这只股票明天拉升, buy now", Simplified | English},
		{"ok", 0},
	} {
		if got := DetectLanguages(tc.in); got != tc.want {
			t.Errorf("DetectLanguages(%q) = %v, want %v", tc.in, got.Names(), tc.want.Names())
		}
	}
}

func TestEveryTableEntryIsValid(t *testing.T) {
	folds, err := parseFoldTable(foldTSV)
	if err != nil {
		t.Fatal(err)
	}
	if len(folds) < 10000 {
		t.Fatalf("fold table has %d entries; it should hold OpenCC, NFKC and confusables", len(folds))
	}
	for r, f := range folds {
		for _, x := range f {
			if !utf8.ValidRune(x) {
				t.Fatalf("%U folds to invalid %U", r, x)
			}
		}
	}
}

func FuzzFold(f *testing.F) {
	for _, s := range []string{"洗 钱", "c.a.s.h", "ＵＳＤＴ", "⑴①", "cafe\u0301", "\xff\xfe", "內幕\u200b消息"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, squeeze := range []bool{true, false} {
			v := Fold(s, squeeze)
			if len(v.Starts) != len(v.Text) || len(v.Ends) != len(v.Text) {
				t.Fatalf("offset map has %d/%d entries for %d bytes", len(v.Starts), len(v.Ends), len(v.Text))
			}
			for i := range v.Text {
				if v.Starts[i] < 0 || v.Ends[i] > int32(len(s)) || v.Starts[i] >= v.Ends[i] {
					t.Fatalf("byte %d maps to [%d,%d) of %d", i, v.Starts[i], v.Ends[i], len(s))
				}
				if i > 0 && v.Starts[i] < v.Starts[i-1] {
					t.Fatalf("offsets go backwards at %d", i)
				}
			}
			if !utf8.ValidString(v.Text) {
				t.Fatalf("folded text is not UTF-8: %q", v.Text)
			}
			// Folding is idempotent: folded text folds to itself.
			if again := Fold(v.Text, squeeze).Text; again != v.Text {
				t.Fatalf("Fold not idempotent: %q -> %q", v.Text, again)
			}
		}
	})
}

func BenchmarkFold(b *testing.B) {
	text := strings.Repeat("客户说这个产品保证收益，稳赚不赔。請加我私人微信 guaranteed return! 佢哋唔係講笑 ", 2000)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		Fold(text, true)
	}
}

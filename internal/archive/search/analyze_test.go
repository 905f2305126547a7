package search

import (
	"slices"
	"strings"
	"testing"
)

// tok is a token in readable form: kind, decoded text, original source.
type tok struct {
	kind   TokenKind
	text   string
	source string
}

func readable(t *testing.T, text string, tokens []Token) []tok {
	t.Helper()
	out := make([]tok, len(tokens))
	for i, tk := range tokens {
		kind, decoded, err := DecodeTerm(tk.Term)
		if err != nil {
			t.Fatalf("token %d of %q: %v", i, text, err)
		}
		if kind == Word && tk.Kind == WordPart {
			kind = WordPart
		}
		if kind != tk.Kind {
			t.Fatalf("token %d of %q: term %q decodes as %v, token says %v", i, text, tk.Term, kind, tk.Kind)
		}
		out[i] = tok{tk.Kind, decoded, text[tk.Start:tk.End]}
	}
	return out
}

func TestAnalyze(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []tok
	}{
		{"traditional folds to simplified, offsets stay original", "聽日", []tok{
			{Unigram, "听", "聽"}, {Bigram, "听日", "聽日"}, {Unigram, "日", "日"}}},
		{"full width and case", "ＡＢＣ Cash", []tok{{Word, "abc", "ＡＢＣ"}, {Word, "cash", "Cash"}}},
		{"separators split words", "case-42", []tok{{Word, "case", "case"}, {Word, "42", "42"}}},
		{"letters and digits: word and parts", "USD100", []tok{
			{Word, "usd100", "USD100"}, {WordPart, "usd", "USD"}, {WordPart, "100", "100"}}},
		{"mixed scripts switch runs", "提现cash", []tok{
			{Unigram, "提", "提"}, {Bigram, "提现", "提现"}, {Unigram, "现", "现"}, {Word, "cash", "cash"}}},
		{"space inside chinese keeps the run", "洗 钱", []tok{
			{Unigram, "洗", "洗"}, {Bigram, "洗钱", "洗 钱"}, {Unigram, "钱", "钱"}}},
		{"punctuation ends the run", "香。港", []tok{{Unigram, "香", "香"}, {Unigram, "港", "港"}}},
		{"zero-width space is ignored", "c\u200bash", []tok{{Word, "cash", "c\u200bash"}}},
		{"emoji are dropped", "😀ok😀", []tok{{Word, "ok", "ok"}}},
		{"cantonese", "佢哋", []tok{{Unigram, "佢", "佢"}, {Bigram, "佢哋", "佢哋"}, {Unigram, "哋", "哋"}}},
		{"kana with long mark", "カー", []tok{{Unigram, "カ", "カ"}, {Bigram, "カー", "カー"}, {Unigram, "ー", "ー"}}},
		{"circled digit folds", "①", []tok{{Word, "1", "①"}}},
		{"diacritics removed", "Café", []tok{{Word, "cafe", "Café"}}},
		{"only punctuation", `"*" (NEAR) :`, []tok{{Word, "near", "NEAR"}}},
		{"empty", "", []tok{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := readable(t, tc.text, Analyze(tc.text))
			if !slices.Equal(got, tc.want) {
				t.Errorf("Analyze(%q)\n got %v\nwant %v", tc.text, got, tc.want)
			}
		})
	}
}

func TestAnalyzeQueryUsesBigramsOrUnigram(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"内幕交易", []string{"内幕", "幕交", "交易"}},
		{"飯", []string{"饭"}},
		{"提现cash", []string{"提现", "cash"}},
		{"usd100", []string{"usd100"}},
	} {
		var got []string
		for _, tk := range analyzeQuery(tc.text) {
			_, text, err := DecodeTerm(tk.Term)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, text)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("analyzeQuery(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestAnalyzeBoundsWork(t *testing.T) {
	long := strings.Repeat("香港", MaxAnalyzedBytes) // 6 bytes each, far over the limit
	tokens := Analyze(long)
	last := tokens[len(tokens)-1]
	if last.End > MaxAnalyzedBytes {
		t.Errorf("token ends at %d, past MaxAnalyzedBytes %d", last.End, MaxAnalyzedBytes)
	}
	word := strings.Repeat("a", 1000)
	tokens = Analyze(word + " b")
	if len(tokens) != 2 || len(tokens[0].Term) != 1+MaxWordBytes || tokens[1].Term != "wb" {
		t.Errorf("long word tokens = %d, first %q, want the word cut to %d bytes and then b", len(tokens), tokens[0].Term, MaxWordBytes)
	}
}

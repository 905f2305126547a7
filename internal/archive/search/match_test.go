package search

import (
	"slices"
	"testing"
)

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		query, text string
		want        bool
	}{
		{"聽日", "听日见", true},
		{"听日", "聽日見", true},
		{"帳戶", "转到私人账户", true},
		{"ＡＢＣ", "abc", true},
		{"内幕交易", "我哋讨论内幕交易嘅问题", true},
		{"内幕交易", "内幕消息 交易所", false},
		{"香港", "港香", false},
		{"香港", "香。港", false},
		{"收益", "收到利益", false},
		{"飯", "食饭", true},
		{"guaranteed", "guarantee", false},
		{"guarantee", "guaranteed", false},
		{"提现cash", "cash 提现", true},
		{`"提现 cash"`, "cash 提现", false},
		{`"提现 cash"`, "提现，cash!", true},
		{`"内幕交易"`, "内幕交易", true},
		{`"case 42"`, "case 17 and 42", false},
		{"香港 -大学", "香港大学", false},
		{`香港 -"香港 大学"`, "香港 大学", false},
		{`香港 -"香港 大学"`, "大学在香港", true},
		{"唔该 OR thanks", "Thanks!", true},
		{"唔该 OR thanks", "唔好", false},
	} {
		q, err := Parse(tc.query)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.query, err)
		}
		if got := q.Match(tc.text); got != tc.want {
			t.Errorf("Parse(%q).Match(%q) = %v, want %v", tc.query, tc.text, got, tc.want)
		}
	}
}

func TestHighlight(t *testing.T) {
	for _, tc := range []struct {
		query, text string
		want        []string
	}{
		// Overlapping bigrams merge; offsets are in the original text.
		{"内幕交易", "讨论內幕交易嘅", []string{"內幕交易"}},
		{"听日", "聽日去，听日返", []string{"聽日", "听日"}},
		{"ＡＢＣ", "abc和ＡＢＣ", []string{"abc", "ＡＢＣ"}},
		{"100", "USD100 or 100 HKD", []string{"100", "100"}},
		{"cash", "c\u200bash!", []string{"c\u200bash"}},
		{`"insider trading"`, "trading insider, insider trading", []string{"insider trading"}},
		{"香港 -大学", "香港大学", nil},
		{"香港 -旅行", "去香港", []string{"香港"}},
		{"收益 OR 利益", "收到利益", []string{"利益"}},
	} {
		q, err := Parse(tc.query)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.query, err)
		}
		var got []string
		for _, r := range q.Highlight(tc.text) {
			got = append(got, tc.text[r.Start:r.End])
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Highlight(%q, %q) = %q, want %q", tc.query, tc.text, got, tc.want)
		}
	}
}

func TestMergeRanges(t *testing.T) {
	got := mergeRanges([]Range{{6, 9}, {0, 3}, {3, 6}, {12, 15}, {13, 14}})
	want := []Range{{0, 9}, {12, 15}}
	if !slices.Equal(got, want) {
		t.Errorf("mergeRanges = %v, want %v", got, want)
	}
}

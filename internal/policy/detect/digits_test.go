package detect

import "testing"

func TestUnitAt(t *testing.T) {
	cases := []struct {
		in   string
		cls  uint8
		val  byte
		size int
	}{
		{"7", uDigit, '7', 1},
		{"A", uUpper, 'A', 1},
		{"z", uLower, 'z', 1},
		{" ", uSep, ' ', 1},
		{"-", uSep, '-', 1},
		{".", uSep, '.', 1},
		{"_", uOther, '_', 1},
		{"０", uDigit, '0', 3},
		{"９", uDigit, '9', 3},
		{"Ｘ", uUpper, 'X', 3},
		{"ｘ", uLower, 'x', 3},
		{"①", uDigit, '1', 3},
		{"⑨", uDigit, '9', 3},
		{"⑩", uOther, 0, 3}, // two digits: not folded
		{"　", uSep, ' ', 3},
		{"－", uSep, '-', 3},
		{"．", uSep, '.', 3},
		{"〇", uHan, '0', 3},
		{"零", uHan, '0', 3},
		{"十", uOther, 0, 3}, // not a digit: 二十三 is not 2_3
		{"é", uOther, 0, 2},
		{"😀", uOther, 0, 4},
		{"\xff", uOther, 0, 1},
		{"\xe4\xb8", uOther, 0, 1}, // truncated sequence
		{"\xe4\x41\x41", uOther, 0, 1},
	}
	for _, c := range cases {
		cls, val, size := unitAt(c.in, 0)
		if cls != c.cls || size != c.size || (c.cls != uOther && val != c.val) {
			t.Errorf("unitAt(%q) = %d %q %d, want %d %q %d", c.in, cls, val, size, c.cls, c.val, c.size)
		}
	}
}

// TestChineseNumerals checks every numeral of research note §2.4 plus the
// Traditional forms.
func TestChineseNumerals(t *testing.T) {
	want := map[string]byte{
		"〇": '0', "零": '0', "一": '1', "壹": '1', "幺": '1', "二": '2', "贰": '2', "两": '2',
		"貳": '2', "兩": '2', "三": '3', "叁": '3', "參": '3', "四": '4', "肆": '4', "五": '5',
		"伍": '5', "六": '6', "陆": '6', "陸": '6', "七": '7', "柒": '7', "拐": '7', "八": '8',
		"捌": '8', "九": '9', "玖": '9', "勾": '9',
	}
	for s, d := range want {
		cls, val, size := unitAt(s, 0)
		if cls != uHan || val != d || size != 3 {
			t.Errorf("%s → %d %q %d, want Han %q", s, cls, val, size, d)
		}
	}
}

func TestAllSameAllDigits(t *testing.T) {
	if !allSame("0000") || allSame("0001") || !allSame("") {
		t.Error("allSame")
	}
	if !allDigits("0123") || allDigits("") || allDigits("12a") {
		t.Error("allDigits")
	}
}

package detect

import (
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	cases := []struct{ got, want string }{
		{maskValue("13800138000"), "13*******00"},
		{maskValue("A1234563"), "A******3"},
		{maskValue("1234"), "****"},
		{maskValue("12345"), "1***5"},
		{maskValue(""), ""},
		{maskPRC("11010519491231002X"), "11***************X"},
		{maskPRC("110105491231002"), "11*************"},
		{maskCrypto("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"), "TR7N**************************Lj6t"},
		{maskEmail("john", "gmail.com"), "j***@gmail.com"},
		{maskEmail("", "gmail.com"), "***@gmail.com"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestMaskPRCHidesSexAndBirthDate: digit 17 (sex) and digits 7-14 (birth
// date) must never show, whatever the ID.
func TestMaskPRCHidesSexAndBirthDate(t *testing.T) {
	for _, id := range []string{"11010519491231002X", "440524188001010014", "110105491231002"} {
		m := maskPRC(id)
		if len(m) != len(id) {
			t.Fatalf("%q masked to %q", id, m)
		}
		for i := 6; i < len(id); i++ {
			if m[i] != '*' && (i < 14 || i == 16 || len(id) == 15) {
				t.Errorf("%q: position %d shown in %q", id, i+1, m)
			}
		}
		if strings.Contains(m, id[6:14]) {
			t.Errorf("%q: birth date visible in %q", id, m)
		}
	}
}

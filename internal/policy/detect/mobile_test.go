package detect

import "testing"

func TestValidChinaMobile(t *testing.T) {
	cases := []struct {
		n    string
		want bool
	}{
		{"13800138000", true},
		{"+8613800138000", true},
		{"8613800138000", true},
		{"008613800138000", true},
		{"+13800138000", false}, // +1 380...: a US number
		{"138001380001", false}, // a 12th digit
		{"1380013800", false},
		{"12345678901", false}, // 12x is not mobile
		{"11012345678", false},
		{"14512345678", true},
		{"14612345678", false}, // data-only range left out
		{"15412345678", false},
		{"16212345678", true},
		{"16312345678", false},
		{"17012345678", true},
		{"17400123456", true}, // satellite 1740[0-5]
		{"17406123456", false},
		{"17912345678", false},
		{"19912345678", true},
		{"19412345678", false},
		{"1380013800a", false},
	}
	for _, c := range cases {
		if got := ValidChinaMobile(c.n); got != c.want {
			t.Errorf("ValidChinaMobile(%q) = %v, want %v", c.n, got, c.want)
		}
	}
}

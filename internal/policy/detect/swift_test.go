package detect

import "testing"

func TestValidBIC(t *testing.T) {
	cases := []struct {
		s    string
		want bool
	}{
		{"BKCHCNBJ", true}, // research note §2.7 example shape
		{"BKCHCNBJ110", true},
		{"DEUTDEFF", true},
		{"DEUTDEFF500", true},
		{"BKCHCNB0", false},  // test BIC
		{"BKCHXXBJ", false},  // XX is no country
		{"BKC1CNBJ", false},  // digit in the institution code
		{"bkchcnbj", false},  // lower case
		{"BKCHCNBJ1", false}, // 9 characters
		{"CUSTOMER", true},   // shape only: this is why the scanner wants context
	}
	for _, c := range cases {
		if got := ValidBIC(c.s); got != c.want {
			t.Errorf("ValidBIC(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

func TestCountryName(t *testing.T) {
	if countryName('C', 'N') != "CN" || countryName('X', 'K') != "XK" || countryName('Q', 'Q') != "" {
		t.Error("countryName")
	}
	n := 0
	for _, ok := range countryCode {
		if ok {
			n++
		}
	}
	if n != 250 { // 249 ISO 3166-1 codes plus XK
		t.Errorf("%d country codes, want 250", n)
	}
}

package detect

import "testing"

func TestLuhn(t *testing.T) {
	cases := []struct {
		n    string
		want bool
	}{
		{"4111111111111111", true}, // research note §2.5 ✓
		{"6212345678901232", true}, // research note §2.5 ✓
		{"6212345678901233", false},
		{"79927398713", true},
		{"79927398710", false},
		{"0", true},
		{"", false},
		{"4111 1111 1111 1111", false}, // digits only
		{"411111111111111a", false},
	}
	for _, c := range cases {
		if got := Luhn(c.n); got != c.want {
			t.Errorf("Luhn(%q) = %v, want %v", c.n, got, c.want)
		}
	}
}

func TestCardNetwork(t *testing.T) {
	cases := []struct{ n, want string }{
		{"6212345678901232", netUnionPay},
		{"6221260000000000000", netUnionPay}, // co-branded range reported as UnionPay
		{"4000000000000", netVisa},
		{"4000000000000000", netVisa},
		{"400000000000000", ""}, // Visa has no 15-digit numbers
		{"340000000000000", netAmex},
		{"370000000000000", netAmex},
		{"5100000000000000", netMastercard},
		{"2221000000000000", netMastercard},
		{"2720000000000000", netMastercard},
		{"2721000000000000", ""},
		{"6011000000000000", netDiscover},
		{"6440000000000000", netDiscover},
		{"6500000000000000", netDiscover},
		{"3528000000000000", netJCB},
		{"3589000000000000", netJCB},
		{"36000000000000", netDiners},
		{"30000000000000", netDiners},
		{"5000000000000000", netMaestro},
		{"690000000000", netMaestro},
		{"20260301093000", ""}, // a timestamp
		{"12345678901234", ""},
		{"62123456789", ""}, // too short
	}
	for _, c := range cases {
		if got := cardNetwork(c.n); got != c.want {
			t.Errorf("cardNetwork(%q) = %q, want %q", c.n, got, c.want)
		}
	}
}

func TestValidPaymentCard(t *testing.T) {
	cases := []struct {
		n    string
		want bool
	}{
		{"6212345678901232", true},
		{"4111111111111111", false}, // test PAN
		{"5555555555554444", false}, // test PAN
		{"4242424242424242", false}, // test PAN
		{"0000000000000000", false},
		{"4000000000000002", false},
		{"79927398713", false}, // Luhn but no network/length
	}
	for _, c := range cases {
		if got := ValidPaymentCard(c.n); got != c.want {
			t.Errorf("ValidPaymentCard(%q) = %v, want %v", c.n, got, c.want)
		}
	}
}

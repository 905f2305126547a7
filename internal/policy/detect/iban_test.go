package detect

import (
	"math/big"
	"testing"
)

func TestValidIBAN(t *testing.T) {
	cases := []struct {
		s    string
		want bool
	}{
		{"GB82WEST12345698765432", true}, // research note §2.7 ✓
		{"GB82 WEST 1234 5698 7654 32", true},
		{"gb82west12345698765432", true},
		{"GB82WEST12345698765433", false}, // one digit off
		{"GB28WEST12345698765432", false}, // transposed check digits
		{"GB82WEST1234569876543", false},  // too short for GB
		{"DE89370400440532013000", true},
		{"FR1420041010050500013M02606", true},
		{"CH9300762011623852957", true},
		{"NL91ABNA0417164300", true},
		{"BE68539007547034", true},
		{"NO9386011117947", true},
		{"XX82WEST12345698765432", false}, // unknown country
		{"CN82WEST12345698765432", false}, // China has no IBAN
		{"GB82  WEST12345698765432", false},
		{" GB82WEST12345698765432", false},
		{"", false},
	}
	for _, c := range cases {
		if got := ValidIBAN(c.s); got != c.want {
			t.Errorf("ValidIBAN(%q) = %v, want %v", c.s, got, c.want)
		}
	}
}

// TestIBANLengths spot-checks the registry table for the countries the
// brief names.
func TestIBANLengths(t *testing.T) {
	for cc, n := range map[string]int{"GB": 22, "CH": 21, "AE": 23, "SA": 24, "TR": 26, "BR": 29,
		"DE": 22, "FR": 27, "IT": 27, "ES": 24, "NL": 18, "BE": 16, "AT": 20, "IE": 22, "PT": 25,
		"FI": 18, "SE": 24, "DK": 18, "NO": 15, "PL": 28, "LU": 20, "MT": 31, "CY": 28, "GR": 27} {
		if got := ibanCountryLen(cc[0], cc[1]); got != n {
			t.Errorf("%s length %d, want %d", cc, got, n)
		}
	}
}

// refIBANMod97 is an oracle using math/big on the rearranged digit string.
func refIBANMod97(s string) int64 {
	r := s[4:] + s[:4]
	digits := ""
	for i := 0; i < len(r); i++ {
		c := r[i]
		if c >= 'A' && c <= 'Z' {
			digits += big.NewInt(int64(c-'A') + 10).String()
		} else {
			digits += string(c)
		}
	}
	n, _ := new(big.Int).SetString(digits, 10)
	return new(big.Int).Mod(n, big.NewInt(97)).Int64()
}

func TestIBANAgainstBigInt(t *testing.T) {
	for _, s := range []string{"GB82WEST12345698765432", "GB82WEST12345698765433", "DE89370400440532013000"} {
		ok := checkIBAN(s)
		if ok != (refIBANMod97(s) == 1) {
			t.Errorf("%s: checkIBAN %v disagrees with big.Int", s, ok)
		}
	}
}

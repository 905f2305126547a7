package detect

import "testing"

func TestPassportType(t *testing.T) {
	cases := []struct{ s, want string }{
		{"E12345678", detailPRCPassport},
		{"EA1234567", detailPRCPassport},
		{"G12345678", detailPRCPassport},
		{"PE1234567", detailPRCPassportOfficial},
		{"SE1234567", detailPRCPassportOfficial},
		{"DE1234567", detailPRCPassportOfficial},
		{"K12345678", detailPRCPassportHK},
		{"MA1234567", detailPRCPassportMO},
		{"C12345678", detailHKMacauPermit},
		{"W12345678", detailHKMacauPermit},
		{"H12345678", detailHomeReturnPermit},
		{"M1234567890", detailHomeReturnPermit},
		{"e12345678", detailPRCPassport},
		{"E1234567", ""},
		{"X12345678", ""},
		{"E1234567A", ""},
		{"H123456789012", ""},
	}
	for _, c := range cases {
		if got := PassportType(c.s); got != c.want {
			t.Errorf("PassportType(%q) = %q, want %q", c.s, got, c.want)
		}
	}
}

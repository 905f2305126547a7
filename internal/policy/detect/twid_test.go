package detect

import "testing"

func TestValidTaiwanID(t *testing.T) {
	cases := []struct {
		id, detail string
	}{
		{"A123456789", detailTWNational}, // research note §2.3 ✓
		{"a123456789", detailTWNational},
		{"A800000014", detailTWARC}, // new resident certificate ✓
		{"AC01234567", detailTWARCLegacy},
		{"AA00000009", detailTWARCLegacy},
		{"A123456788", ""},
		{"A800000015", ""},
		{"A323456789", ""}, // second character 3
		{"AE01234567", ""}, // old ARC second letter must be A-D
		{"1123456789", ""},
		{"A12345678", ""},
		{"A1234567890", ""},
	}
	for _, c := range cases {
		want := c.detail != ""
		if got := ValidTaiwanID(c.id); got != want {
			t.Errorf("ValidTaiwanID(%q) = %v, want %v", c.id, got, want)
		}
		var d [10]byte
		if len(c.id) == 10 && want {
			for i := range d {
				d[i] = upper(c.id[i])
			}
			if _, detail := checkTWID(d[:]); detail != c.detail {
				t.Errorf("%s: detail %q, want %q", c.id, detail, c.detail)
			}
		}
	}
}

func TestTWLetterValues(t *testing.T) {
	// Research note §2.3: I34 O35 W32 Z33 are out of alphabetical order.
	for c, v := range map[byte]int{'A': 10, 'H': 17, 'I': 34, 'J': 18, 'O': 35, 'W': 32, 'X': 30, 'Y': 31, 'Z': 33} {
		if twLetterValue[c-'A'] != v {
			t.Errorf("%c = %d, want %d", c, twLetterValue[c-'A'], v)
		}
	}
}

package detect

// International bank account numbers (ISO 13616), research note §2.7.
//
// A country code, two check digits and a country-specific BBAN. Valid iff the
// length matches the SWIFT IBAN registry for the country and, with the first
// four characters moved to the end and letters replaced by 10-35, the number
// is 1 mod 97. China, Hong Kong and Taiwan do not use IBANs.

// ibanLengths is the registry length per country (SWIFT IBAN registry; SEPA
// countries plus the other registered ones). Keep it sorted for review.
var ibanLengths = map[string]uint8{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
	"BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
	"DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
	"FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
	"GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
	"IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
	"LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
	"MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
	"PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
	"SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
	"SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}

// ibanLen is ibanLengths flattened to a 26x26 table so the scanner can look
// a country up without hashing.
var ibanLen [26 * 26]uint8

func init() {
	for cc, n := range ibanLengths {
		ibanLen[int(cc[0]-'A')*26+int(cc[1]-'A')] = n
	}
}

// ibanCountryLen returns the registry length for the two upper-case letters
// a, b, or 0 when the country does not use IBAN.
func ibanCountryLen(a, b byte) int {
	if a < 'A' || a > 'Z' || b < 'A' || b > 'Z' {
		return 0
	}
	return int(ibanLen[int(a-'A')*26+int(b-'A')])
}

// checkIBAN validates a compact upper-case IBAN candidate.
func checkIBAN[T ~string | ~[]byte](d T) bool {
	n := len(d)
	if n < 15 || n > 34 || ibanCountryLen(d[0], d[1]) != n {
		return false
	}
	if d[2] < '0' || d[2] > '9' || d[3] < '0' || d[3] > '9' {
		return false
	}
	// Check digits 00, 01 and 99 are never issued (ISO 7064 MOD 97-10).
	if cd := int(d[2]-'0')*10 + int(d[3]-'0'); cd < 2 || cd > 98 {
		return false
	}
	rem := 0
	for i := 0; i < n; i++ {
		c := d[(i+4)%n]
		switch {
		case c >= '0' && c <= '9':
			rem = (rem*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			rem = (rem*100 + int(c-'A') + 10) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// ValidIBAN reports whether s is a valid IBAN, compact or in the printed
// form with single spaces between groups. Letters may be in either case.
func ValidIBAN(s string) bool {
	var d [34]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			if i == 0 || i == len(s)-1 || s[i-1] == ' ' {
				return false
			}
			continue
		}
		if n == len(d) {
			return false
		}
		d[n] = upper(c)
		n++
	}
	return checkIBAN(d[:n])
}

// detectIBAN reports an IBAN starting with the current word: either the
// whole compact IBAN, or its first group of four in the printed form
// "GB82 WEST 1234 5698 7654 32", whose groups it then reads from the text.
// It returns the end of the detection.
func (s *Scanner) detectIBAN(start, end int) (bool, int) {
	up := s.wup
	n := len(up)
	if n < 4 || up[2] < '0' || up[2] > '9' || up[3] < '0' || up[3] > '9' {
		return false, 0
	}
	l := ibanCountryLen(up[0], up[1])
	if l == 0 || (n != l && n != 4) {
		return false, 0
	}
	buf, e := up, end
	if n == 4 {
		text := s.text
		buf = append(s.tmp[:0], up...)
		for len(buf) < l {
			if e >= len(text) || text[e] != ' ' {
				return false, 0
			}
			e++
			g := 0
			for g < 4 && e < len(text) {
				cls, val, size := unitAt(text, e)
				if !isLatinAlnum(cls) {
					break
				}
				buf = append(buf, upper(val))
				g++
				e += size
			}
			if g == 0 || len(buf) > l || (g < 4 && len(buf) < l) {
				return false, 0
			}
		}
		if e < len(text) {
			if cls, _, _ := unitAt(text, e); isLatinAlnum(cls) {
				return false, 0
			}
		}
	}
	if !checkIBAN(buf) {
		return false, 0
	}
	conf, ctx := s.checksumTier(start, e, ctxIBAN)
	s.emit(IBAN, start, e, conf, true, ctx, maskValue(buf), countryName(buf[0], buf[1]))
	return true, e
}

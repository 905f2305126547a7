package detect

// Mainland China mobile numbers, research note §2.4.
//
// The prefix set follows libphonenumber's CN mobile pattern
//
//	1740[0-5]\d{6}|1(?:[38]\d|4[57]|[59][0-35-9]|6[25-7]|7[0-35-8])\d{8}
//
// i.e. 13x, 145, 147, 15x and 19x except 154/194, 162, 165-167, 17x except
// 174/179 (plus the 1740[0-5] satellite block), and 18x. The 14x data-only
// ranges other than 145/147 are left out on purpose: they are IoT SIMs that
// people do not hand out as contact numbers, and admitting them widens the
// net for 11-digit order numbers.

// checkMobile reports whether d is exactly 11 ASCII digits with a mobile
// prefix.
func checkMobile[T ~string | ~[]byte](d T) bool {
	if len(d) != 11 || !allDigits(d) || d[0] != '1' {
		return false
	}
	b, c := d[1], d[2]
	switch b {
	case '3', '8':
		return true
	case '4':
		return c == '5' || c == '7'
	case '5', '9':
		return c != '4'
	case '6':
		return c == '2' || c == '5' || c == '6' || c == '7'
	case '7':
		if c == '4' {
			return d[3] == '0' && d[4] <= '5'
		}
		return c != '9'
	}
	return false
}

// mobileNational returns the offset of the 11-digit national number inside
// d when d is a mobile number optionally prefixed with the country code 86
// or the international prefix 0086, else -1.
func mobileNational[T ~string | ~[]byte](d T) int {
	switch len(d) {
	case 11:
		if checkMobile(d) {
			return 0
		}
	case 13:
		if d[0] == '8' && d[1] == '6' && checkMobile(d[2:]) {
			return 2
		}
	case 15:
		if d[0] == '0' && d[1] == '0' && d[2] == '8' && d[3] == '6' && checkMobile(d[4:]) {
			return 4
		}
	}
	return -1
}

// ValidChinaMobile reports whether s is a mainland mobile number: 11 digits
// with a current mobile prefix, optionally preceded by +86, 86 or 0086.
// Separators are not accepted here; the scanner removes them.
func ValidChinaMobile(s string) bool {
	if len(s) > 0 && s[0] == '+' {
		s = s[1:]
		if len(s) != 13 {
			return false
		}
	}
	return mobileNational(s) >= 0
}

// detailMobile is the Detail of every ChinaMobile detection.
const detailMobile = "cn-mobile"

// detectMobile reports a mobile number in the digits d. The prefix check is
// the validator (75, 85 with a phone keyword). With a '+' before the run
// (plus set, start at the '+'), the country code 86 is mandatory.
func (s *Scanner) detectMobile(d []byte, start, end int, plus bool) bool {
	off := mobileNational(d)
	if off < 0 || (plus && off != 2) {
		return false
	}
	conf, ctx := s.checksumTier(start, end, ctxMobile)
	s.emit(ChinaMobile, start, end, conf, true, ctx, maskValue(d[off:]), detailMobile)
	return true
}

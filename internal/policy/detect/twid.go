package detect

// Taiwan national ID and resident certificate numbers, research note §2.3.
//
// A letter then nine digits. The letter is worth its index in
// "ABCDEFGHJKLMNPQRSTUVXYWZIO" plus 10 (the order is historical, hence the
// odd placement of I, O, W). Its two decimal digits n1 n2 are weighted 1 and
// 9, the next eight characters 8..1 and the check digit 1; the sum must be
// divisible by 10. The second character is 1/2 for citizens and 8/9 for the
// 2021 resident certificates. Old-style resident certificates (before 2021)
// have a second letter A-D that contributes only the units digit of its own
// letter value.

const twLetters = "ABCDEFGHJKLMNPQRSTUVXYWZIO"

// twLetterValue maps A-Z to the Taiwan letter value (10-35).
var twLetterValue [26]int

func init() {
	for i := 0; i < len(twLetters); i++ {
		twLetterValue[twLetters[i]-'A'] = i + 10
	}
}

// Taiwan ID subtypes, reported in Detection.Detail.
const (
	detailTWNational  = "tw-national-id"
	detailTWARC       = "tw-arc"
	detailTWARCLegacy = "tw-arc-legacy"
)

// checkTWID validates a normalized (upper-case) 10-character Taiwan ID and
// returns its subtype.
func checkTWID[T ~string | ~[]byte](d T) (bool, string) {
	if len(d) != 10 || d[0] < 'A' || d[0] > 'Z' {
		return false, ""
	}
	v := twLetterValue[d[0]-'A']
	s := v/10 + v%10*9
	var detail string
	switch c := d[1]; {
	case c == '1' || c == '2':
		detail = detailTWNational
		s += int(c-'0') * 8
	case c == '8' || c == '9':
		detail = detailTWARC
		s += int(c-'0') * 8
	case c >= 'A' && c <= 'D':
		detail = detailTWARCLegacy
		s += twLetterValue[c-'A'] % 10 * 8
	default:
		return false, ""
	}
	for i := 2; i < 10; i++ {
		c := d[i]
		if c < '0' || c > '9' {
			return false, ""
		}
		w := 9 - i // 7..1 for positions 3..9, then 1 for the check digit
		if i == 9 {
			w = 1
		}
		s += int(c-'0') * w
	}
	if s%10 != 0 {
		return false, ""
	}
	return true, detail
}

// ValidTaiwanID reports whether s is a valid Taiwan national ID, new (2021)
// resident certificate number or old-style (two-letter) resident certificate
// number. Letters may be in either case.
func ValidTaiwanID(s string) bool {
	if len(s) != 10 {
		return false
	}
	var d [10]byte
	for i := 0; i < 10; i++ {
		d[i] = upper(s[i])
	}
	ok, _ := checkTWID(d[:])
	return ok
}

// detectTWID reports a Taiwan ID in the current word.
func (s *Scanner) detectTWID(start, end int) bool {
	if len(s.wup) != 10 {
		return false
	}
	ok, detail := checkTWID(s.wup)
	if !ok {
		return false
	}
	conf, ctx := s.checksumTier(start, end, ctxTWID)
	s.emit(TaiwanID, start, end, conf, true, ctx, maskValue(s.wup), detail)
	return true
}

package detect

// Unified Social Credit Code (统一社会信用代码, GB 32100-2015), research
// note §2.6.
//
// 18 characters over the 31-symbol alphabet 0-9 A-H J-N P-R T U W X Y (no I,
// O, S, V, Z): registering authority, organisation type, 6-digit admin
// division code, 9-character organisation code (GB 11714, itself carrying a
// mod-11 check at position 17) and a mod-31 check character with weights
// 3^i mod 31.

const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccValue maps an upper-case byte to its index in usccAlphabet, or -1.
var usccValue [256]int8

func init() {
	for i := range usccValue {
		usccValue[i] = -1
	}
	for i := 0; i < len(usccAlphabet); i++ {
		usccValue[usccAlphabet[i]] = int8(i)
	}
}

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// usccShape reports whether the upper-case d has the USCC shape
// ^[0-9A-HJ-NPQRTUWY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$. X is excluded from the
// first two positions, as in the standard's code tables.
func usccShape[T ~string | ~[]byte](d T) bool {
	if len(d) != 18 {
		return false
	}
	for i := 0; i < 18; i++ {
		c := d[i]
		switch {
		case i >= 2 && i < 8:
			if c < '0' || c > '9' {
				return false
			}
		case usccValue[c] < 0:
			return false
		case i < 2 && c == 'X':
			return false
		}
	}
	return true
}

// usccOuter reports whether the mod-31 check character (position 18) holds.
func usccOuter[T ~string | ~[]byte](d T) bool {
	s := 0
	for i := 0; i < 17; i++ {
		s += int(usccValue[d[i]]) * usccWeights[i]
	}
	return usccAlphabet[(31-s%31)%31] == d[17]
}

// usccInner reports whether the embedded GB 11714 organisation code
// (positions 9-17) carries a valid check character: weights 3,7,9,10,5,8,4,2
// over positions 9-16 with 0-9/A-Z worth 0-35, C = 11 - S mod 11, where 10 is
// X and 11 is 0.
func usccInner[T ~string | ~[]byte](d T) bool {
	s := 0
	for i, w := range [8]int{3, 7, 9, 10, 5, 8, 4, 2} {
		c := d[8+i]
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		default:
			return false
		}
		s += v * w
	}
	var want byte
	switch c := 11 - s%11; c {
	case 10:
		want = 'X'
	case 11:
		want = '0'
	default:
		want = byte('0' + c)
	}
	return d[16] == want
}

// usccRegion reports whether the admin division code (positions 3-4) names
// a province, or 10 for organisations registered with the central
// government (admin code 100000).
func usccRegion[T ~string | ~[]byte](d T) bool {
	return prcRegion(d[2], d[3]) || (d[2] == '1' && d[3] == '0')
}

// USCC subtypes, reported in Detection.Detail.
const (
	detailUSCC          = "uscc"          // outer check passes, organisation code unchecked or failing
	detailUSCCOrgCode   = "uscc-org-code" // both the outer and the GB 11714 check pass
	detailUSCCUnchecked = "checksum-failed"
)

// checkUSCC validates an upper-case candidate. An all-digit candidate must
// also pass the inner organisation-code check, because 18-digit order and
// waybill numbers would otherwise pass the mod-31 check one time in 31.
func checkUSCC[T ~string | ~[]byte](d T) (bool, string) {
	if !usccShape(d) || !usccRegion(d) || !usccOuter(d) {
		return false, ""
	}
	inner := usccInner(d)
	if inner {
		return true, detailUSCCOrgCode
	}
	if allDigits(d) {
		return false, ""
	}
	return true, detailUSCC
}

// ValidUSCC reports whether s is a Unified Social Credit Code with a valid
// mod-31 check character and a real province code. An all-digit code must
// also carry a valid GB 11714 organisation-code check, for the reason given
// at checkUSCC. Lower-case letters are accepted.
func ValidUSCC(s string) bool {
	if len(s) != 18 {
		return false
	}
	var d [18]byte
	for i := 0; i < 18; i++ {
		d[i] = upper(s[i])
	}
	ok, _ := checkUSCC(d[:])
	return ok
}

// detectUSCC reports a USCC in the upper-case candidate d. A code failing
// its checksum is still reported at 65 next to a USCC keyword, because
// codes that fail our checksum circulate (a public validator hard-codes
// 91350203M0001QAY9B as an exception); whole is false for spans cut out of
// longer runs, which never get that benefit of the doubt.
func (s *Scanner) detectUSCC(d []byte, start, end int, whole bool) bool {
	if ok, detail := checkUSCC(d); ok {
		conf, ctx := s.checksumTier(start, end, ctxUSCC)
		s.emit(USCC, start, end, conf, true, ctx, maskValue(d), detail)
		return true
	}
	if !whole || !usccShape(d) || !usccRegion(d) || !s.hasContext(start, end, ctxUSCC) {
		return false
	}
	s.emit(USCC, start, end, 65, false, true, maskValue(d), detailUSCCUnchecked)
	return true
}

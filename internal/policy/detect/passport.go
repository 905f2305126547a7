package detect

// Passports and travel permits, research note §2.9. None has a public
// checksum, so like Purview's Taiwan passport type they are reported only
// with a keyword within the window, at 75, and Validated is false.
//
//	PRC ordinary passport        E + 8 digits, E + letter + 7 digits, G + 8 (older)
//	PRC official passports       PE/SE/DE + 7 digits
//	PRC passport, HK residents   K + 8 digits
//	PRC passport, Macau          MA + 7 digits
//	往来港澳通行证                C + 8 digits (older W + 8)
//	回乡证                        H or M + 8 digits, or + 10 digits
//	台胞证                        8 digits (older 10)
//	Taiwan passport              9 digits ("3" + 8 on biometric ones)

// Passport subtypes, reported in Detection.Detail.
const (
	detailPRCPassport         = "prc-passport"
	detailPRCPassportOfficial = "prc-passport-official"
	detailPRCPassportHK       = "prc-passport-hk"
	detailPRCPassportMO       = "prc-passport-mo"
	detailHKMacauPermit       = "hk-macau-permit"
	detailHomeReturnPermit    = "home-return-permit"
	detailTWCompatriotPermit  = "tw-compatriot-permit"
	detailTWPassport          = "tw-passport"
)

// digitsFrom reports whether d[k:] is non-empty and all digits.
func digitsFrom[T ~string | ~[]byte](d T, k int) bool { return k < len(d) && allDigits(d[k:]) }

// passportShape returns the subtype of an upper-case letter-prefixed
// document number, or "".
func passportShape[T ~string | ~[]byte](d T) string {
	switch len(d) {
	case 9:
		c0, c1 := d[0], d[1]
		switch {
		case c0 == 'E' && digitsFrom(d, 1):
			return detailPRCPassport
		case c0 == 'E' && c1 >= 'A' && c1 <= 'Z' && digitsFrom(d, 2):
			return detailPRCPassport
		case (c0 == 'P' || c0 == 'S' || c0 == 'D') && c1 == 'E' && digitsFrom(d, 2):
			return detailPRCPassportOfficial
		case c0 == 'G' && digitsFrom(d, 1):
			return detailPRCPassport
		case c0 == 'K' && digitsFrom(d, 1):
			return detailPRCPassportHK
		case c0 == 'M' && c1 == 'A' && digitsFrom(d, 2):
			return detailPRCPassportMO
		case (c0 == 'C' || c0 == 'W') && digitsFrom(d, 1):
			return detailHKMacauPermit
		case (c0 == 'H' || c0 == 'M') && digitsFrom(d, 1):
			return detailHomeReturnPermit
		}
	case 11:
		if (d[0] == 'H' || d[0] == 'M') && digitsFrom(d, 1) {
			return detailHomeReturnPermit
		}
	}
	return ""
}

// PassportType returns the subtype ("prc-passport", "hk-macau-permit",
// "home-return-permit", ...) whose shape s has, or "" for none. Letters may
// be in either case. Shape is all there is to check, so a non-empty result
// alone is weak evidence; the scanner also requires a keyword.
func PassportType(s string) string {
	var d [11]byte
	if len(s) > len(d) {
		return ""
	}
	for i := 0; i < len(s); i++ {
		d[i] = upper(s[i])
	}
	return passportShape(d[:len(s)])
}

// detectPassportWord reports a letter-prefixed document number in the
// current word when a passport or permit keyword is near.
func (s *Scanner) detectPassportWord(start, end int) bool {
	detail := passportShape(s.wup)
	if detail == "" || allSame(s.wup[len(s.wup)-7:]) || !s.hasContext(start, end, ctxPassport) {
		return false
	}
	s.emit(Passport, start, end, 75, false, true, maskValue(s.wup), detail)
	return true
}

// detectPassportDigits reports an all-digit document number: a 9-digit
// Taiwan passport next to a passport keyword proper, or an 8- or 10-digit
// 台胞证 next to a 台胞证 keyword. Generic permit keywords are not enough
// for bare digits, which are everywhere.
func (s *Scanner) detectPassportDigits(d []byte, start, end int) bool {
	if allSame(d) {
		return false
	}
	g, detail := ctxTWCompat, detailTWCompatriotPermit
	if len(d) == 9 {
		g, detail = ctxPassportOnly, detailTWPassport
	}
	if !s.hasContext(start, end, g) {
		return false
	}
	s.emit(Passport, start, end, 75, false, true, maskValue(d), detail)
	return true
}

package detect

import "time"

// PRC resident identity numbers (GB 11643-1999), research note §2.1.
//
// 18 characters: 6-digit address code, YYYYMMDD birth date, 3-digit order
// code, and an ISO 7064 MOD 11-2 check character (0-9 or X). The same layout
// and checksum are used by the residence permits for Hong Kong, Macau and
// Taiwan residents (address codes 810000, 820000, 830000) and by the 2023
// foreign permanent resident card (leading 9). Legacy 15-digit numbers
// (YYMMDD, no check digit) predate 1999.

// prcWeights are 2^(17-i) mod 11 for positions 1-17.
var prcWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// prcCheckChars maps S mod 11 to the check character.
const prcCheckChars = "10X98765432"

// prcRegion reports whether the two-digit province code (GB/T 2260 first
// level) exists: 11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71, 81, 82 (83 is
// valid only as a residence permit code, handled by the caller).
func prcRegion(a, b byte) bool {
	d := b - '0'
	switch a {
	case '1':
		return d >= 1 && d <= 5
	case '2':
		return d >= 1 && d <= 3
	case '3':
		return d >= 1 && d <= 7
	case '4':
		return d >= 1 && d <= 6
	case '5':
		return d <= 4
	case '6':
		return d >= 1 && d <= 5
	case '7':
		return d == 1
	case '8':
		return d == 1 || d == 2
	}
	return false
}

// foreignRegion accepts the two layouts seen for numbers beginning with 9:
// region 91 ("国外", accepted by common validators), and the 2023 foreign
// permanent resident card [recalled, unverified]: 9, the province code of
// the issuing authority, a 3-digit nationality code, then the usual date,
// order code and check. Anything else (99...) is rejected; the caller also
// demands a context keyword, because neither layout is verified.
func foreignRegion[T ~string | ~[]byte](d T) bool {
	return d[1] == '1' || prcRegion(d[1], d[2])
}

// prcCheck returns the check character for the first 17 digits of d, or 0
// when one of them is not a digit.
func prcCheck[T ~string | ~[]byte](d T) byte {
	s := 0
	for i := 0; i < 17; i++ {
		c := d[i]
		if c < '0' || c > '9' {
			return 0
		}
		s += int(c-'0') * prcWeights[i]
	}
	return prcCheckChars[s%11]
}

// dateOK reports whether the 8 digits of d form a real calendar date between
// 1900-01-01 and today (a yyyymmdd integer).
func dateOK[T ~string | ~[]byte](d T, today int) bool {
	v := 0
	for i := 0; i < 8; i++ {
		c := d[i]
		if c < '0' || c > '9' {
			return false
		}
		v = v*10 + int(c-'0')
	}
	y, m, day := v/10000, v/100%100, v%100
	if y < 1900 || v > today || m < 1 || m > 12 || day < 1 {
		return false
	}
	return day <= daysIn(y, m)
}

// daysIn returns the number of days of month m in year y (Gregorian).
func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// todayInt returns t's date as a yyyymmdd integer, in China Standard Time
// because that is where the IDs are issued and the upper date bound matters
// only around midnight.
func todayInt(t time.Time) int {
	t = t.In(cst)
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

// cst is UTC+8 without the tz database, which may be absent in the image.
var cst = time.FixedZone("CST", 8*3600)

// PRC ID subtypes, reported in Detection.Detail.
const (
	detailResidentID       = "resident-id"
	detailPermitHK         = "resident-permit-hk"
	detailPermitMO         = "resident-permit-mo"
	detailPermitTW         = "resident-permit-tw"
	detailForeignPermanent = "foreign-permanent-resident"
	detailLegacy15         = "legacy-15"
)

// checkPRC18 validates an 18-character PRC ID (upper-case X) and returns its
// subtype. needCtx is set for the foreign permanent resident card, whose
// region layout is unverified, so the caller demands a context keyword.
func checkPRC18[T ~string | ~[]byte](d T, today int) (ok bool, detail string, needCtx bool) {
	if len(d) != 18 {
		return false, "", false
	}
	last := d[17]
	if last == 'x' {
		last = 'X'
	}
	if (last < '0' || last > '9') && last != 'X' {
		return false, "", false
	}
	// Cheapest test first: most 18-digit numbers fail on the region.
	if !(d[0] == '9' && foreignRegion(d)) && !(d[0] == '8' && d[1] >= '1' && d[1] <= '3') && !prcRegion(d[0], d[1]) {
		return false, "", false
	}
	if !dateOK(d[6:14], today) || prcCheck(d) != last {
		return false, "", false
	}
	switch {
	case d[0] == '9':
		return true, detailForeignPermanent, true
	case d[0] == '8' && d[1] >= '1' && d[1] <= '3' && d[2] == '0' && d[3] == '0' && d[4] == '0' && d[5] == '0':
		return true, [...]string{detailPermitHK, detailPermitMO, detailPermitTW}[d[1]-'1'], false
	case d[0] == '8':
		// 81/82 with another county code are not issued; permits use x10000.
		return false, "", false
	case prcRegion(d[0], d[1]):
		return true, detailResidentID, false
	}
	return false, "", false
}

// checkPRC15 validates a legacy 15-digit ID: a real region and a real
// 19YYMMDD birth date. It has no check digit, so callers require context.
func checkPRC15[T ~string | ~[]byte](d T) bool {
	if len(d) != 15 || !allDigits(d) || d[0] == '8' || !prcRegion(d[0], d[1]) {
		return false
	}
	var date [8]byte
	date[0], date[1] = '1', '9'
	for i := 0; i < 6; i++ {
		date[2+i] = d[6+i]
	}
	return dateOK(date[:], 19991231)
}

// ValidChinaResidentID reports whether s is a valid 18-character PRC
// resident identity number or HK/Macau/Taiwan residence permit number: region
// code, real birth date between 1900-01-01 and today, and MOD 11-2 check
// character (x or X). Numbers beginning with 9 (region 91, or 2023 foreign
// permanent resident cards with the province code in positions 2-3) are
// accepted on the same checks, though the scanner reports them only next to
// an ID keyword.
func ValidChinaResidentID(s string) bool {
	ok, _, _ := checkPRC18(s, todayInt(time.Now()))
	return ok
}

// ValidChinaResidentID15 reports whether s is a plausible legacy 15-digit
// PRC ID (region and date only; there is no check digit).
func ValidChinaResidentID15(s string) bool { return checkPRC15(s) }

// detectPRC18 reports an 18-character PRC ID. The foreign permanent
// resident form needs a context keyword (its layout is unverified).
func (s *Scanner) detectPRC18(d []byte, start, end int) bool {
	ok, detail, needCtx := checkPRC18(d, s.todayDate())
	if !ok {
		return false
	}
	conf, ctx := s.checksumTier(start, end, ctxID)
	if needCtx && !ctx {
		return false
	}
	s.emit(ChinaResidentID, start, end, conf, true, ctx, maskPRC(d), detail)
	return true
}

// detectPRC15 reports a legacy 15-digit ID, which has no check digit and so
// is reported only next to an ID keyword, at 75.
func (s *Scanner) detectPRC15(d []byte, start, end int) bool {
	if !checkPRC15(d) || !s.hasContext(start, end, ctxID) {
		return false
	}
	s.emit(ChinaResidentID, start, end, 75, true, true, maskPRC(d), detailLegacy15)
	return true
}

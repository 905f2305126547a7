package detect

// SWIFT/BIC codes (ISO 9362), research note §2.7.
//
// Four letters (institution), an ISO 3166 country code, a two-character
// location and an optional three-character branch. There is no checksum and
// BIC-shaped words occur in ordinary English capitals (CUSTOMER is "CUST" +
// "OM" + "ER"), so the scanner reports a BIC only with a context keyword.

// iso3166 lists the ISO 3166-1 alpha-2 codes, plus XK (Kosovo) which SWIFT
// uses although ISO has not assigned it.
const iso3166 = "" +
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ " +
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
	"DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY " +
	"HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY " +
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY " +
	"QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ " +
	"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ " +
	"VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW"

// countryCode is iso3166 as a 26x26 membership table.
var countryCode [26 * 26]bool

func init() {
	for i := 0; i+1 < len(iso3166); i += 3 {
		countryCode[int(iso3166[i]-'A')*26+int(iso3166[i+1]-'A')] = true
	}
}

// isCountry reports whether a, b (upper case) is an ISO 3166 alpha-2 code.
func isCountry(a, b byte) bool {
	if a < 'A' || a > 'Z' || b < 'A' || b > 'Z' {
		return false
	}
	return countryCode[int(a-'A')*26+int(b-'A')]
}

// BIC subtypes, reported in Detection.Detail.
const (
	detailBIC8  = "bic8"
	detailBIC11 = "bic11"
)

// checkBIC validates the shape of an upper-case BIC candidate
// ^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$ with a real country code.
// Test BICs (location code ending in 0) are rejected because they name no
// real institution.
func checkBIC[T ~string | ~[]byte](d T) (bool, string) {
	n := len(d)
	if n != 8 && n != 11 {
		return false, ""
	}
	for i := 0; i < n; i++ {
		c := d[i]
		letter := c >= 'A' && c <= 'Z'
		if i < 6 && !letter {
			return false, ""
		}
		if !letter && (c < '0' || c > '9') {
			return false, ""
		}
	}
	if !isCountry(d[4], d[5]) || d[7] == '0' {
		return false, ""
	}
	if n == 8 {
		return true, detailBIC8
	}
	return true, detailBIC11
}

// ValidBIC reports whether s has the shape of a SWIFT/BIC code (upper case,
// 8 or 11 characters) with a real country code. There is no checksum, so a
// true result alone is weak evidence.
func ValidBIC(s string) bool {
	ok, _ := checkBIC(s)
	return ok
}

// countryNames holds each valid code as a string, so a Detail can name the
// country without allocating.
var countryNames [26 * 26]string

func init() {
	for i := 0; i+1 < len(iso3166); i += 3 {
		countryNames[int(iso3166[i]-'A')*26+int(iso3166[i+1]-'A')] = iso3166[i : i+2]
	}
}

// countryName returns the ISO code a, b as a string, or "" if unknown.
func countryName(a, b byte) string {
	if !isCountry(a, b) {
		return ""
	}
	return countryNames[int(a-'A')*26+int(b-'A')]
}

// detectBIC reports a SWIFT/BIC code in the current (upper-case) word. No
// checksum exists, so a SWIFT keyword is required and the tier is 75; the
// country-code check sets Validated.
func (s *Scanner) detectBIC(start, end int) bool {
	ok, detail := checkBIC(s.wup)
	if !ok || !s.hasContext(start, end, ctxSWIFT) {
		return false
	}
	s.emit(SWIFT, start, end, 75, true, true, maskValue(s.wup), detail)
	return true
}

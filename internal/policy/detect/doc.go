// Package detect holds Vigil's built-in detectors of sensitive identifiers in
// chat text (Mandarin, Cantonese, English and mixed): PRC, Hong Kong and
// Taiwan IDs, mainland mobile numbers, payment cards, IBAN, SWIFT/BIC, USCC,
// e-mail, crypto addresses and passports/travel permits.
//
// It follows the policy-engine research note (§2, §4.2, §4.3): no regular
// expressions over the text. One byte-oriented pass collects candidates
// (maximal digit runs with single internal separators, folding full-width,
// circled and Chinese numerals; Latin alphanumeric words, full-width
// letters folded; the '@' signs of e-mail addresses) together with every
// context keyword, skipping CJK text at one table load per character. A
// second pass dispatches each candidate by shape and length to O(length),
// allocation-free validators, when the keywords on both sides of it are
// already known. Offsets always refer to the original text.
//
// Memory is bounded: on long inputs (attachment text) candidates are
// dispatched as soon as the first pass is past their context window, so a
// Scanner's buffers stay within fixed limits whatever the input's length.
//
// # Confidence
//
// Scores follow Purview's tiers; a context keyword is one of the detector's
// keywords within 300 characters before or after the value:
//
//	85  checksum/validator passed and a context keyword is near
//	75  checksum/validator passed
//	75  no checksum exists, and the required keyword is near
//	    (Passport and permits, Taiwan passport, legacy 15-digit IDs, SWIFT/BIC)
//	75  Ethereum address in one case (no EIP-55 checksum) with a keyword
//	65  Ethereum address in one case, no keyword: the 0x+40-hex shape is
//	    specific enough to report but nothing verifies it
//	65  "possible": a checksum exists and failed, but a strong keyword is
//	    near — a 16-19 digit run next to 银行卡/卡号/账号/开户行/户名 (old
//	    domestic BINs), or a USCC-shaped code next to 统一社会信用代码
//
// Detectors without a checksum never fire without their keyword. IDs
// beginning with 9 (region 91, and the 2023 foreign permanent resident card)
// pass the checksum and date, but their region layout is unverified, so they
// also need an ID keyword (and then score 85). Mobile numbers count the
// libphonenumber prefix set as their validator. Every detection carries
// Validated and Context, so callers can apply their own thresholds.
//
// # Evidence
//
// Detection.Evidence is always masked (see mask.go): at most the first two
// and last two characters of the normalized value, and for PRC IDs never
// the birth date or the sex digit (11***************X). Callers must never
// log text[Start:End] in its place.
//
// # Out of scope here
//
// Zero-width and other invisible characters are stripped upstream, before
// the text reaches Scan; Traditional→Simplified folding is not needed since
// keyword lists carry both scripts.
package detect

package detect

// The digit view. Detectors see every candidate as a string of ASCII digits,
// letters and separators, but the text may spell them with full-width forms,
// circled digits or Chinese numerals to dodge naive matchers. unitAt folds
// one rune of the original text into that alphabet and reports its byte
// length, so offsets always stay in the original text and no folded copy of
// the whole message is ever built.

// Unit classes.
const (
	uOther uint8 = iota // anything else: a boundary
	uDigit              // ASCII, full-width or circled digit
	uHan                // Chinese numeral (〇零一壹幺二贰两...)
	uUpper              // ASCII or full-width A-Z
	uLower              // ASCII or full-width a-z
	uSep                // single separator allowed inside a digit run
)

// hanTab covers U+4000-U+9FFF, every rune whose UTF-8 lead byte is E4-E9:
// the CJK Unified Ideographs block (from U+4E00), where every Chinese numeral
// except 〇 and the first character of every CJK context keyword lie, and
// the tail of Extension A below it. Covering whole lead bytes lets the hot
// loop index the table without a range check.
const (
	hanBase = 0x4000
	hanLast = 0x9FFF
)

// hanNumerals lists the Chinese numerals folded into the digit view, per the
// research note §2.4: formal (大写) forms, and the spoken forms 幺 (1), 两 (2),
// 拐 (7) and 勾 (9) used when reading numbers aloud.
var hanNumerals = [...]struct {
	r rune
	d byte
}{
	{'零', '0'},
	{'一', '1'}, {'壹', '1'}, {'幺', '1'},
	{'二', '2'}, {'贰', '2'}, {'两', '2'}, {'貳', '2'}, {'兩', '2'},
	{'三', '3'}, {'叁', '3'}, {'參', '3'},
	{'四', '4'}, {'肆', '4'},
	{'五', '5'}, {'伍', '5'},
	{'六', '6'}, {'陆', '6'}, {'陸', '6'},
	{'七', '7'}, {'柒', '7'}, {'拐', '7'},
	{'八', '8'}, {'捌', '8'},
	{'九', '9'}, {'玖', '9'}, {'勾', '9'},
}

// hanDigitMax is the largest hanTab value that encodes a digit.
const hanDigitMax = 10

// asciiUnit classifies ASCII bytes; it is indexed by the byte itself. It is
// built by a variable initializer, not init(), because the keyword tables'
// initializers depend on it.
var asciiUnit = func() (t [128]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = uDigit
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = uUpper
		t[c+'a'-'A'] = uLower
	}
	t[' '], t['-'], t['.'] = uSep, uSep, uSep
	return t
}()

// asciiInc packs the class of an ASCII letter or digit into counters of a
// uint64 (digits in bits 0-19, letters in 20-39, lower case in 40-59), so the
// scanner can measure a word with one add per byte. Other bytes are 0.
var asciiInc = func() (t [256]uint64) {
	for c := '0'; c <= '9'; c++ {
		t[c] = incDigit
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = incLetter
		t[c+'a'-'A'] = incLetter | incLower
	}
	return t
}()

const (
	incDigit  = 1
	incLetter = 1 << 20
	incLower  = 1 << 40
	incMask   = 1<<20 - 1
	// incMaxRun bounds a word measured with asciiInc so no counter overflows.
	incMaxRun = 1 << 19
)

// hanBucket0 is the hanTab value of keyword bucket 0.
const hanBucket0 = hanDigitMax + 1

// hanTab maps a rune in [hanBase, hanLast] to 0 (nothing), 1-10 (a Chinese
// numeral: digit + 1) or hanBucket0+b (the first character of the CJK
// context keywords in bucket b, see context.go). A flat table costs 20 KiB
// but is one load per CJK character on the hot path and serves both the
// digit view and the keyword search.
var hanTab = func() (t [hanLast - hanBase + 1]uint8) {
	for _, n := range hanNumerals {
		t[n.r-hanBase] = n.d - '0' + 1
	}
	if len(kwIndex.hanFirst) > 255-hanBucket0 {
		panic("detect: too many keyword buckets")
	}
	for b, r := range kwIndex.hanFirst {
		if t[r-hanBase] != 0 {
			panic("detect: keyword starts with a numeral: " + string(r))
		}
		t[r-hanBase] = uint8(hanBucket0 + b)
	}
	return t
}()

// unitAt decodes the rune starting at s[i] (i < len(s)) into the digit view:
// its class, its folded ASCII value ('0'-'9', 'A'-'Z', 'a'-'z', or ' ', '-',
// '.' for separators) and its length in bytes. Runes outside the view are
// uOther with their UTF-8 length (1 for invalid bytes), so callers can step
// over them.
func unitAt(s string, i int) (cls, val uint8, size int) {
	c := s[i]
	if c < 0x80 {
		return asciiUnit[c], c, 1
	}
	if c < 0xE0 {
		if c >= 0xC2 && i+1 < len(s) && s[i+1]&0xC0 == 0x80 {
			return uOther, 0, 2
		}
		return uOther, 0, 1
	}
	if c >= 0xF0 {
		if c <= 0xF4 && i+3 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80 && s[i+3]&0xC0 == 0x80 {
			return uOther, 0, 4
		}
		return uOther, 0, 1
	}
	if i+2 >= len(s) || s[i+1]&0xC0 != 0x80 || s[i+2]&0xC0 != 0x80 {
		return uOther, 0, 1
	}
	r := rune(c&0x0F)<<12 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F)
	switch {
	case r >= hanBase && r <= hanLast:
		if d := hanTab[r-hanBase]; d != 0 && d <= hanDigitMax {
			return uHan, '0' + d - 1, 3
		}
	case r >= 0xFF10 && r <= 0xFF19: // full-width digits
		return uDigit, byte('0' + r - 0xFF10), 3
	case r >= 0xFF21 && r <= 0xFF3A: // full-width capitals
		return uUpper, byte('A' + r - 0xFF21), 3
	case r >= 0xFF41 && r <= 0xFF5A: // full-width small letters
		return uLower, byte('a' + r - 0xFF41), 3
	case r >= 0x2460 && r <= 0x2468: // circled digits one to nine
		return uDigit, byte('1' + r - 0x2460), 3
	case r == 0x3007: // 〇, the ideographic zero, outside the CJK block
		return uHan, '0', 3
	case r == 0x3000: // ideographic space
		return uSep, ' ', 3
	case r == 0xFF0D: // full-width hyphen-minus
		return uSep, '-', 3
	case r == 0xFF0E: // full-width full stop
		return uSep, '.', 3
	}
	return uOther, 0, 3
}

// isLatinAlnum reports whether a unit class is a Latin letter or digit, the
// classes that glue a candidate to its neighbour.
func isLatinAlnum(cls uint8) bool { return cls == uDigit || cls == uUpper || cls == uLower }

// upper folds an ASCII letter to upper case.
func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// allSame reports whether every byte of d equals the first; such runs
// (0000000000000000) are placeholders, never real identifiers.
func allSame[T ~string | ~[]byte](d T) bool {
	for i := 1; i < len(d); i++ {
		if d[i] != d[0] {
			return false
		}
	}
	return true
}

// allDigits reports whether d is non-empty and only ASCII digits.
func allDigits[T ~string | ~[]byte](d T) bool {
	if len(d) == 0 {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

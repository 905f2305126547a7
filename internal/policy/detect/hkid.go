package detect

// Hong Kong identity card numbers, research note §2.2.
//
// One or two letters, six digits and a check character (0-9 or A), usually
// written with the check in brackets: A123456(3). The value of a one-letter
// prefix is padded with a leading space worth 36; letters are A=10 ... Z=35.
// With weights 9..2 over the eight positions, S + check ≡ 0 (mod 11), check
// A meaning 10. Some published validators map A=1 and drop the pad, which
// agrees for one-letter prefixes only; two-letter vectors in the tests guard
// against that mistake.

// hkidCheck computes the check value (0-10) for a normalized HKID body: one
// or two upper-case letters followed by six digits. It returns -1 if body is
// not of that shape.
func hkidCheck[T ~string | ~[]byte](body T) int {
	var v [8]int
	switch len(body) {
	case 7:
		v[0] = 36
		if body[0] < 'A' || body[0] > 'Z' {
			return -1
		}
		v[1] = int(body[0]-'A') + 10
	case 8:
		for i := 0; i < 2; i++ {
			if body[i] < 'A' || body[i] > 'Z' {
				return -1
			}
			v[i] = int(body[i]-'A') + 10
		}
	default:
		return -1
	}
	digits := body[len(body)-6:]
	for i := 0; i < 6; i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return -1
		}
		v[2+i] = int(digits[i] - '0')
	}
	s := 0
	for i, w := range [8]int{9, 8, 7, 6, 5, 4, 3, 2} {
		s += v[i] * w
	}
	return (11 - s%11) % 11
}

// hkidCheckOK reports whether the check character c matches body.
func hkidCheckOK[T ~string | ~[]byte](body T, c byte) bool {
	want := hkidCheck(body)
	if want < 0 {
		return false
	}
	if c == 'A' || c == 'a' {
		return want == 10
	}
	return c >= '0' && c <= '9' && int(c-'0') == want
}

// ValidHKID reports whether s is a valid HKID, written either with the check
// character in ASCII brackets, A123456(3), or run on, A1234563. Letters may
// be in either case because people type them that way in chat.
func ValidHKID(s string) bool {
	n := len(s)
	if n >= 3 && s[n-1] == ')' && s[n-3] == '(' {
		s = s[:n-3] + s[n-2:n-1]
		n = len(s)
	}
	if n != 8 && n != 9 {
		return false
	}
	var body [8]byte
	for i := 0; i < n-1; i++ {
		body[i] = upper(s[i])
	}
	return hkidCheckOK(body[:n-1], s[n-1])
}

// detailHKID is the Detail of every HongKongID detection.
const detailHKID = "hkid"

// detectHKID reports an HKID in the current word: the check character is
// either the word's last character or bracketed right after it. It returns
// the end of the detection, which includes the brackets.
func (s *Scanner) detectHKID(start, end int) (bool, int) {
	up := s.wup
	n := len(up)
	l := 0
	for l < n && l < 3 && up[l] >= 'A' && up[l] <= 'Z' {
		l++
	}
	if l < 1 || l > 2 {
		return false, 0
	}
	body, e := up, end
	var check byte
	switch n - l {
	case 6:
		c, ce, ok := s.bracketCheck(end)
		if !ok {
			return false, 0
		}
		check, e = c, ce
	case 7:
		body, check = up[:n-1], up[n-1]
	default:
		return false, 0
	}
	if !hkidCheckOK(body, check) {
		return false, 0
	}
	norm := append(append(s.tmp[:0], body...), check)
	conf, ctx := s.checksumTier(start, e, ctxHKID)
	s.emit(HongKongID, start, e, conf, true, ctx, maskValue(norm), detailHKID)
	return true, e
}

// bracketCheck reads a bracketed check character "(3)" at i, with ASCII or
// full-width brackets, and returns it upper-cased with the end offset.
func (s *Scanner) bracketCheck(i int) (byte, int, bool) {
	text := s.text
	var j int
	switch {
	case i < len(text) && text[i] == '(':
		j = i + 1
	case len(text)-i >= 3 && text[i:i+3] == "（":
		j = i + 3
	default:
		return 0, 0, false
	}
	if j >= len(text) {
		return 0, 0, false
	}
	cls, val, size := unitAt(text, j)
	val = upper(val)
	if !(cls == uDigit || ((cls == uUpper || cls == uLower) && val == 'A')) {
		return 0, 0, false
	}
	j += size
	switch {
	case j < len(text) && text[j] == ')':
		return val, j + 1, true
	case len(text)-j >= 3 && text[j:j+3] == "）":
		return val, j + 3, true
	}
	return 0, 0, false
}

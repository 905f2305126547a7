// Package link finds links in chat messages and rates how risky each one is:
// blocked and shortened links, open redirects, punycode and mixed-script
// hosts, raw IP hosts, and look-alikes of protected brands (same skeleton,
// small edit distance, brand plus a word, the brand name on another TLD, the
// brand's domain as a subdomain of someone else's).
//
// Extraction is a byte scan that stops only at '.', ':' and the full-width
// dots, testing eight bytes at a time for them, so chat without links costs
// well under a nanosecond a byte. Checking is per link and never touches the
// network: shorteners are flagged, not resolved.
//
// Limits, on purpose: hosts written in Han or kana (例子.中国) end at the CJK
// characters like any other link in Chinese text and are found only in
// punycode form; only http and https schemes are read; brand names shorter
// than four characters (qq, boc, cib) fire only on an exact skeleton, the
// name on another suffix, or the name as a subdomain label, since one edit
// away from them lies half the namespace.
package link

import (
	"math/bits"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-operator/vigil/internal/policy/normalize"
)

// MaxLinks bounds the links Extract reports for one message, so a message
// stuffed with domains cannot make the policy engine do unbounded work.
const MaxLinks = 64

// maxURLLen bounds a link's Raw; a longer link is cut, since the host and the
// start of the query are what the checks read.
const maxURLLen = 4096

// maxHostBytes bounds a host as written: DNS names have at most 253
// characters, and a longer run is not worth an IDNA pass.
const maxHostBytes = 4 * 253

// maxTokenBack bounds how far Extract walks back from a '.' or ':' to find
// where a link starts, so one long run of link characters is not rescanned.
const maxTokenBack = 4096

// URL is one link found in a message, with byte offsets into the ORIGINAL text.
type URL struct {
	// Start and End are byte offsets into the text given to Extract:
	// text[Start:End] == Raw.
	Start, End int
	// Raw is the link as written.
	Raw string
	// Host is the lower-case IDNA ToASCII (punycode) form of the host, with
	// full-width dots, percent escapes and invisible characters undone, and an
	// IP address in canonical form; "" when the host cannot be parsed.
	Host string
	// Display is the Unicode form of Host (idna.Display.ToUnicode), what a
	// reader would see.
	Display string
	// ETLD1 is the registrable domain (public suffix plus one label); "" for
	// IP addresses and hosts that are themselves a public suffix.
	ETLD1 string
}

// Byte classes for the scan.
const (
	bTrigger = 1 << iota // a byte Extract stops at: '.', ':', or the lead byte of a full-width dot
	bHost                // ASCII letter, digit, '-', '_' or '.': part of a host run
	bLink                // may appear in a link (path, query, userinfo)
	bTrim                // trailing punctuation that is not part of a link
)

var byteClass = func() (t [256]uint8) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] |= bLink
	}
	// Quotes, angle brackets and characters URLs never contain unescaped end
	// a link; round and square brackets are kept and balanced instead, so
	// "(see x.com)" and "wiki/Foo_(bar)" both come out right.
	for _, c := range "\"'<>`{}|^" {
		t[c] &^= bLink
	}
	for c := '0'; c <= '9'; c++ {
		t[c] |= bHost
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] |= bHost
		t[c-'a'+'A'] |= bHost
	}
	t['-'] |= bHost
	t['_'] |= bHost
	t['.'] |= bHost | bTrigger
	t[':'] |= bTrigger
	// 0xE3 leads 。 (E3 80 82); 0xEF leads ． (EF BC 8E) and ｡ (EF BD A1).
	t[0xE3] |= bTrigger
	t[0xEF] |= bTrigger
	for _, c := range ".,;:!?" {
		t[c] |= bTrim
	}
	return t
}()

// fullDot reports the length of a full-width or ideographic full stop at
// text[i]: senders write icbc-login。xyz so that naive linkifiers miss it.
func fullDot(text string, i int) int {
	if i+2 >= len(text) {
		return 0
	}
	switch {
	case text[i] == 0xE3 && text[i+1] == 0x80 && text[i+2] == 0x82: // 。 U+3002
		return 3
	case text[i] == 0xEF && text[i+1] == 0xBC && text[i+2] == 0x8E: // ． U+FF0E
		return 3
	case text[i] == 0xEF && text[i+1] == 0xBD && text[i+2] == 0xA1: // ｡ U+FF61
		return 3
	}
	return 0
}

// isCJK reports ideographs, kana, hangul, bopomofo and CJK punctuation: chat
// in Chinese runs words and links together without spaces, so these end a
// link. (Hosts written in Han, like 例子.中国, are therefore only found in
// their punycode form.)
func isCJK(r rune) bool {
	switch {
	case r < 0x1100:
		return false
	case r <= 0x11FF, // Hangul Jamo
		r >= 0x2E80 && r <= 0x9FFF,   // radicals, CJK symbols and punctuation, kana, bopomofo, ideographs
		r >= 0xA960 && r <= 0xA97F,   // Hangul Jamo Extended-A
		r >= 0xAC00 && r <= 0xD7FF,   // Hangul syllables and Jamo Extended-B
		r >= 0xF900 && r <= 0xFAFF,   // compatibility ideographs
		r >= 0xFE30 && r <= 0xFE4F,   // CJK compatibility forms
		r >= 0xFF61 && r <= 0xFFDC,   // half-width kana and hangul
		r >= 0x20000 && r <= 0x3FFFF: // ideograph extensions
		return true
	}
	return false
}

// hostRune reports whether the rune at text[i] can be part of a host as
// written, its size, and whether it is a dot (ASCII or full-width).
func hostRune(text string, i int) (size int, ok, dot bool) {
	c := text[i]
	if c < utf8.RuneSelf {
		return 1, byteClass[c]&bHost != 0, c == '.'
	}
	if n := fullDot(text, i); n > 0 {
		return n, true, true
	}
	r, size := utf8.DecodeRuneInString(text[i:])
	if r == utf8.RuneError || isCJK(r) {
		return size, false, false
	}
	if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) {
		return size, true, false
	}
	// Zero-width and other invisible characters inside a host are an
	// evasion; they belong to the link and are dropped from Host.
	return size, normalize.Lookup(r).Kind() == normalize.KindInvisible, false
}

// linkRune reports whether the rune at text[i] can be part of a link, and
// its size.
func linkRune(text string, i int) (size int, ok bool) {
	c := text[i]
	if c < utf8.RuneSelf {
		return 1, byteClass[c]&bLink != 0
	}
	size, ok, _ = hostRune(text, i)
	return size, ok
}

// schemeAt returns the length of "http://" or "https://" (any case) at
// text[i:], or 0.
func schemeAt(text string, i int) int {
	s := text[i:]
	if len(s) < 7 || s[0]|0x20 != 'h' || s[1]|0x20 != 't' || s[2]|0x20 != 't' || s[3]|0x20 != 'p' {
		return 0
	}
	if s[4] == ':' && s[5] == '/' && s[6] == '/' {
		return 7
	}
	if len(s) >= 8 && s[4]|0x20 == 's' && s[5] == ':' && s[6] == '/' && s[7] == '/' {
		return 8
	}
	return 0
}

// Extract appends to out the links found in text and returns it: http(s)://
// URLs, www. hosts, and bare domains under a real ICANN public suffix (so
// "hello.world" is not a link but "icbc-login.xyz" and "t.cn/abc" are).
// Links end at white space, CJK characters, quotes and unbalanced closing
// brackets; trailing .,;:!? are left out. Full-width dots in hosts count as
// dots. Host parts right after '@' (e-mail addresses) are not links. At most
// MaxLinks links are appended per call.
func Extract(text string, out []URL) []URL {
	limit := len(out) + MaxLinks
	floor := 0 // text before floor has been scanned as part of a token
	for i := 0; i < len(text); i++ {
		// Skip eight bytes at a time while none of them is a trigger.
		for i+8 <= len(text) {
			m := triggerMask(load64(text, i))
			if m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(text) {
			break
		}
		c := text[i]
		if byteClass[c]&bTrigger == 0 {
			continue
		}
		// Most 0xE3 and 0xEF lead bytes are CJK punctuation or kana, not a
		// full-width dot: rule them out without a call.
		if c >= utf8.RuneSelf && fullDot(text, i) == 0 {
			continue
		}
		if !candidate(text, i, floor) {
			continue
		}
		start := tokenStart(text, i, floor)
		end := tokenEnd(text, i)
		out = scanToken(text, start, end, out, limit)
		if len(out) >= limit {
			break
		}
		floor = end
		i = end - 1
	}
	return out
}

const (
	swarLow  = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// load64 reads text[i:i+8] little-endian; the compiler makes it one load.
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// zeroBytes has the high bit set in the lowest zero byte of x (and maybe in
// higher bytes, which is harmless: only the lowest is used).
func zeroBytes(x uint64) uint64 {
	return (x - swarLow) &^ x & swarHigh
}

// triggerMask marks the bytes of v that are '.', ':', 0xE3 or 0xEF: the
// scan's word-at-a-time filter, accurate for the lowest marked byte.
func triggerMask(v uint64) uint64 {
	return zeroBytes(v^(swarLow*'.')) | zeroBytes(v^(swarLow*':')) |
		zeroBytes(v^(swarLow*0xE3)) | zeroBytes(v^(swarLow*0xEF))
}

// candidate is the cheap test at a trigger byte: a dot between host
// characters, or the colon of http:// or https://.
func candidate(text string, i, floor int) bool {
	switch c := text[i]; c {
	case ':':
		if i+2 >= len(text) || text[i+1] != '/' || text[i+2] != '/' || i-floor < 4 {
			return false
		}
		if schemeAt(text, i-4) > 0 {
			return true
		}
		return i-floor >= 5 && schemeAt(text, i-5) > 0
	case '.':
		if i == floor || i+1 >= len(text) {
			return false
		}
	default:
		if fullDot(text, i) == 0 || i == floor || i+3 >= len(text) {
			return false
		}
	}
	// The rune before must be a host character other than a dot, and so
	// must the rune after: "了。請" and "end. Next" stop here.
	p := text[i-1]
	if p < utf8.RuneSelf {
		if byteClass[p]&bHost == 0 || p == '.' {
			return false
		}
	} else {
		k := i - 1
		for k > floor && !utf8.RuneStart(text[k]) && i-k < utf8.UTFMax {
			k--
		}
		if _, ok, dot := hostRune(text, k); !ok || dot {
			return false
		}
	}
	next := i + 1
	if text[i] != '.' {
		next = i + 3
	}
	_, ok, dot := hostRune(text, next)
	return ok && !dot
}

// tokenStart walks back from i over link characters, not past floor.
func tokenStart(text string, i, floor int) int {
	j := i
	for j > floor && i-j < maxTokenBack {
		c := text[j-1]
		if c < utf8.RuneSelf {
			if byteClass[c]&bLink == 0 {
				break
			}
			j--
			continue
		}
		k := j - 1
		for k > floor && !utf8.RuneStart(text[k]) && j-k < utf8.UTFMax {
			k--
		}
		if _, ok := linkRune(text, k); !ok {
			break
		}
		j = k
	}
	// A walk cut short by maxTokenBack may stop inside a rune.
	for j < i && !utf8.RuneStart(text[j]) {
		j++
	}
	return j
}

// tokenEnd walks forward from i over link characters.
func tokenEnd(text string, i int) int {
	for i < len(text) {
		size, ok := linkRune(text, i)
		if !ok {
			break
		}
		i += size
	}
	return i
}

// scanToken finds the links in text[start:end], a run of link characters.
func scanToken(text string, start, end int, out []URL, limit int) []URL {
	p := start
	for p < end && len(out) < limit {
		if n := schemeAt(text[:end], p); n > 0 {
			u, next, ok := schemeURL(text, p, p+n, end)
			if ok {
				out = append(out, u)
			}
			p = next
			continue
		}
		size, isHost, _ := hostRune(text, p)
		if !isHost {
			p += size
			continue
		}
		runEnd := p
		for runEnd < end {
			n, ok, _ := hostRune(text, runEnd)
			if !ok {
				break
			}
			runEnd += n
		}
		if u, next, ok := bareURL(text, p, runEnd, end); ok {
			out = append(out, u)
			p = next
			continue
		}
		// "xhttps://..." : the scheme hides at the end of the run.
		if runEnd+3 <= end && text[runEnd] == ':' {
			for _, back := range []int{5, 4} {
				if runEnd-back >= p && schemeAt(text[:end], runEnd-back) > 0 {
					runEnd -= back
					break
				}
			}
		}
		p = runEnd
	}
	return out
}

// schemeURL reads the link whose scheme is text[start:authStart].
func schemeURL(text string, start, authStart, end int) (URL, int, bool) {
	stop, next := bodyEnd(text, authStart, end, true)
	if stop <= authStart {
		return URL{}, max(next, authStart), false
	}
	authEnd := authStart
	for authEnd < stop && strings.IndexByte("/\\?#", text[authEnd]) < 0 {
		authEnd++
	}
	host, _ := splitAuthority(text[authStart:authEnd])
	return newURL(text, start, stop, host), next, true
}

// bareURL decides whether the host run text[runStart:runEnd] (inside a
// token ending at end) starts a link without a scheme.
func bareURL(text string, runStart, runEnd, end int) (URL, int, bool) {
	if runStart > 0 {
		prev, _ := utf8.DecodeLastRuneInString(text[:runStart])
		// After '@' is the domain of an e-mail address; after a slash or a
		// percent sign we are inside a path or an escape, not at a host.
		if prev == '@' || prev == '/' || prev == '\\' || prev == '%' {
			return URL{}, 0, false
		}
	}
	if runEnd < len(text) && text[runEnd] == '@' {
		return URL{}, 0, false // the local part of an e-mail address
	}
	hs, he := trimHostRun(text, runStart, runEnd)
	if hs >= he || he-hs > maxHostBytes {
		return URL{}, 0, false
	}
	stop, next, hasPath := he, he, false
	if he < end {
		switch text[he] {
		case ':':
			// A port, then the end of the link or a path.
			k := he + 1
			for k < end && text[k] >= '0' && text[k] <= '9' {
				k++
			}
			if k > he+1 && (k == end || strings.IndexByte("/?#", text[k]) >= 0 || byteClass[text[k]]&bTrim != 0) {
				stop, next = bodyEnd(text, he, end, false)
				hasPath = true
			}
		case '/', '?', '#':
			stop, next = bodyEnd(text, he, end, false)
			hasPath = true
		}
	}
	stop, next = max(stop, he), max(next, he)
	raw := text[hs:he]
	if !quickBareHost(raw, hasPath) {
		return URL{}, 0, false
	}
	info := hostFields(raw)
	if info.host == "" || !plausibleBareHost(info, raw, text[he:stop]) {
		return URL{}, 0, false
	}
	u := newURL(text, hs, stop, raw)
	return u, next, true
}

// trimHostRun drops leading and trailing dots, hyphens, underscores and
// invisible characters from a host run: "...icbc.com." is icbc.com.
func trimHostRun(text string, s, e int) (int, int) {
	for s < e {
		size, _, dot := hostRune(text, s)
		c := text[s]
		if !dot && c != '-' && c != '_' && !(c >= utf8.RuneSelf && !isLetterOrDigitAt(text, s)) {
			break
		}
		s += size
	}
	for e > s {
		k := e - 1
		for k > s && !utf8.RuneStart(text[k]) {
			k--
		}
		_, _, dot := hostRune(text, k)
		c := text[k]
		if !dot && c != '-' && c != '_' && !(c >= utf8.RuneSelf && !isLetterOrDigitAt(text, k)) {
			break
		}
		e = k
	}
	return s, e
}

// isLetterOrDigitAt reports whether the rune at text[i] is a letter or digit.
func isLetterOrDigitAt(text string, i int) bool {
	r, _ := utf8.DecodeRuneInString(text[i:])
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// quickBareHost rejects most runs that are not links before any host
// parsing, from the last label alone: "e.g", "3.5", "readme.md" and
// "there.It" cost a map lookup, not an IDNA and public suffix pass.
func quickBareHost(raw string, hasPath bool) bool {
	last := lastLabel(raw)
	if len(last) == len(raw) {
		return false // no dot
	}
	if last == "" || !isASCII(last) {
		return true // an IDN TLD: decided after IDNA
	}
	if last[0] >= '0' && last[0] <= '9' {
		return hasPath // an IPv4 address (or a version number) needs a path or port
	}
	if hasPath || len(raw) > 4 && (raw[0]|0x20) == 'w' && (raw[1]|0x20) == 'w' && (raw[2]|0x20) == 'w' && raw[3] == '.' {
		return true
	}
	if len(last) > 24 || titleCaseTLD(last) {
		return false
	}
	var buf [24]byte
	for j := 0; j < len(last); j++ {
		buf[j] = last[j] | 0x20
	}
	tld := buf[:len(last)]
	return bareTLDs[string(tld)] || len(tld) > 4 && string(tld[:4]) == "xn--"
}

// bareIP decides whether an IPv4 address written without a scheme is a
// link: only in the plain dotted-quad form and followed by a port or by a
// path with a letter in it, so that "3.5/5", "1.2#3" and a CIDR block such
// as 10.0.0.0/8 stay text.
func bareIP(raw, rest string) bool {
	if addr, err := netip.ParseAddr(raw); err != nil || !addr.Is4() {
		return false
	}
	if len(rest) > 1 && rest[0] == ':' && rest[1] >= '0' && rest[1] <= '9' {
		return true
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i] | 0x20; c >= 'a' && c <= 'z' {
			return true
		}
	}
	return false
}

// plausibleBareHost decides whether a host written without a scheme is a
// link. It needs a real ICANN suffix below it; without a path or "www." the
// TLD must also be one people put in chat as a bare domain, and not written
// in title case, which is what a sentence missing its space looks like
// ("there.It was").
func plausibleBareHost(h hostInfo, raw, rest string) bool {
	hasPath := rest != ""
	if h.ip {
		return bareIP(raw, rest)
	}
	if !strings.Contains(h.host, ".") {
		return false
	}
	suffix := h.suffix
	if !h.icann || h.etld1 == "" {
		return false
	}
	if hasPath || strings.HasPrefix(h.host, "www.") {
		return true
	}
	tld := suffix[strings.LastIndexByte(suffix, '.')+1:]
	if !bareTLDs[tld] && !strings.HasPrefix(tld, "xn--") {
		return false
	}
	return !titleCaseTLD(lastLabel(raw))
}

// lastLabel returns the label after the last dot (ASCII or full-width).
func lastLabel(raw string) string {
	for i := len(raw) - 1; i >= 0; i-- {
		if raw[i] == '.' {
			return raw[i+1:]
		}
		if i >= 2 && (raw[i] == 0x82 || raw[i] == 0x8E || raw[i] == 0xA1) && fullDot(raw, i-2) > 0 {
			return raw[i+1:]
		}
	}
	return raw
}

// titleCaseTLD reports whether a TLD is written "Xxx": upper-case first
// letter, the rest lower-case ASCII.
func titleCaseTLD(last string) bool {
	if len(last) < 2 || last[0] < 'A' || last[0] > 'Z' {
		return false
	}
	for j := 1; j < len(last); j++ {
		if last[j] < 'a' || last[j] > 'z' {
			return false
		}
	}
	return true
}

// bodyEnd returns where a link starting its authority or path at i ends:
// at the end of the token, at a character no authority has while still in
// the authority, at a closing bracket with no opening one in the link, or at
// a full-width dot once past the host (in a path it ends a sentence, not a
// label); trailing punctuation is dropped. next is where scanning goes on.
func bodyEnd(text string, i, end int, inHost bool) (stop, next int) {
	depthRound, depthSquare := 0, 0
	j := i
loop:
	for j < end {
		c := text[j]
		// In the authority only host characters, ':', '@', '%' and IPv6
		// brackets belong to the link: "https://x.com,https://y.com" is two.
		if inHost && c < utf8.RuneSelf && byteClass[c]&bHost == 0 && strings.IndexByte(":@%[]/?#\\", c) < 0 {
			break loop
		}
		switch c {
		case '/', '?', '#', '\\':
			inHost = false
		case '(':
			depthRound++
		case '[':
			depthSquare++
		case ')':
			if depthRound == 0 {
				break loop
			}
			depthRound--
		case ']':
			if depthSquare == 0 {
				break loop
			}
			depthSquare--
		}
		if c >= utf8.RuneSelf {
			if n := fullDot(text, j); n > 0 && !inHost {
				break loop
			}
			_, size := utf8.DecodeRuneInString(text[j:])
			j += size
			continue
		}
		j++
	}
	// A link longer than maxURLLen is cut, and the scan goes on after its
	// whole body, so that one long URL costs one pass, not one per link
	// found inside it.
	next = j
	cut := j-i > maxURLLen
	if cut {
		j = i + maxURLLen
		for j > i && !utf8.RuneStart(text[j]) {
			j--
		}
	}
	// Trailing punctuation ends the sentence, not the link.
	for j > i {
		if c := text[j-1]; c < utf8.RuneSelf {
			if byteClass[c]&bTrim == 0 {
				break
			}
			j--
			continue
		}
		if j-3 >= i && fullDot(text, j-3) > 0 {
			j -= 3
			continue
		}
		break
	}
	if !cut {
		next = j
	}
	return j, next
}

// splitAuthority returns the host of an authority "user:pass@host:port",
// with IPv6 brackets kept, and the userinfo. The last '@' counts, as in
// browsers, so http://icbc.com.cn@evil.top goes to evil.top.
func splitAuthority(auth string) (host, userinfo string) {
	if k := strings.LastIndexByte(auth, '@'); k >= 0 {
		userinfo, auth = auth[:k], auth[k+1:]
	}
	if strings.HasPrefix(auth, "[") {
		if k := strings.IndexByte(auth, ']'); k >= 0 {
			return auth[:k+1], userinfo
		}
		return auth, userinfo
	}
	if k := strings.LastIndexByte(auth, ':'); k >= 0 {
		auth = auth[:k]
	}
	return auth, userinfo
}

// newURL builds the URL for text[start:end] with the host as written.
func newURL(text string, start, end int, rawHost string) URL {
	h := hostFields(rawHost)
	return URL{Start: start, End: end, Raw: text[start:end], Host: h.host, Display: h.display, ETLD1: h.etld1}
}

// Parse reads one link given on its own, such as the URL of a WeCom "link"
// message, with or without a scheme. Host is "" when there is no parseable
// host. Start is 0 and End is len(raw).
func Parse(raw string) URL {
	u := URL{Start: 0, End: len(raw), Raw: raw}
	s := strings.TrimSpace(raw)
	if n := schemeAt(s, 0); n > 0 {
		s = s[n:]
	} else if strings.HasPrefix(s, "//") {
		s = s[2:]
	} else if k := strings.Index(s, "://"); k >= 0 && k < 16 {
		s = s[k+3:] // another scheme: still read its host
	}
	if k := strings.IndexAny(s, "/\\?#"); k >= 0 {
		s = s[:k]
	}
	host, _ := splitAuthority(s)
	h := hostFields(host)
	u.Host, u.Display, u.ETLD1 = h.host, h.display, h.etld1
	return u
}

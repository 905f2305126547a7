package link

import (
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"

	"github.com/vigil-operator/vigil/internal/policy/normalize"
)

// hostInfo is a host in the forms the checks compare.
type hostInfo struct {
	host    string // lower-case ASCII (punycode); canonical form for IPs
	display string // Unicode form
	etld1   string // registrable domain; "" for IPs and bare suffixes
	suffix  string // public suffix
	icann   bool   // suffix is in the ICANN section of the list
	ip      bool
}

// lenientIDNA is the fallback when idna.Lookup refuses a host that
// browsers still open, typically one with an underscore (my_host.example.com)
// or a leading hyphen: the checks should still see it.
var lenientIDNA = idna.New(idna.MapForLookup(), idna.StrictDomainName(false), idna.ValidateLabels(false))

// hostFields turns a host as written (any case, full-width dots, percent
// escapes, invisible characters, IPv6 in brackets) into the forms the URL
// carries. The zero hostInfo means the host cannot be parsed.
func hostFields(raw string) hostInfo {
	if raw == "" || len(raw) > maxHostBytes {
		return hostInfo{}
	}
	if raw[0] == '[' {
		inner := strings.TrimSuffix(raw[1:], "]")
		addr, err := netip.ParseAddr(inner)
		if err != nil || !addr.Is6() {
			return hostInfo{}
		}
		s := addr.String()
		return hostInfo{host: s, display: s, ip: true}
	}
	s := raw
	if strings.IndexByte(s, '%') >= 0 {
		// Browsers undo percent escapes in hosts: http://%69cbc.com.cn is icbc.com.cn.
		if d, err := url.PathUnescape(s); err == nil {
			s = d
		}
	}
	if !isASCII(s) {
		s = cleanHost(s)
	}
	s = strings.TrimSuffix(s, ".") // a fully qualified name is the same host
	if s == "" {
		return hostInfo{}
	}
	host := ""
	if plainASCIIHost(s) && !strings.Contains(s, "xn--") && !strings.Contains(s, "XN--") {
		host = strings.ToLower(s)
	} else {
		a, err := idna.Lookup.ToASCII(s)
		if err != nil {
			a, err = lenientIDNA.ToASCII(s)
		}
		switch {
		case err == nil:
			host = a
		case plainASCIIHost(s):
			// Invalid punycode: keep it as written so it can still be
			// blocked and flagged.
			host = strings.ToLower(s)
		default:
			return hostInfo{}
		}
	}
	if len(host) > 253 || !plainASCIIHost(host) || host[0] == '.' || strings.Contains(host, "..") || strings.HasSuffix(host, ".") {
		return hostInfo{}
	}
	if addr, ok, numeric := parseIPv4(host); ok {
		s := addr.String()
		return hostInfo{host: s, display: s, ip: true}
	} else if numeric {
		// A host whose last label is a number is an IPv4 address to a
		// browser; a malformed one (1.2.3.999) opens nothing.
		return hostInfo{}
	}
	h := hostInfo{host: host, display: host}
	if strings.Contains(host, "xn--") {
		if d, err := idna.Display.ToUnicode(host); err == nil {
			h.display = d
		}
	}
	// One public suffix lookup serves both the eTLD+1 and the ICANN test
	// (publicsuffix.EffectiveTLDPlusOne would make a second).
	h.suffix, h.icann = publicsuffix.PublicSuffix(host)
	if len(h.suffix) < len(host) {
		i := len(host) - len(h.suffix) - 1
		if host[i] == '.' {
			h.etld1 = host[strings.LastIndexByte(host[:i], '.')+1:]
		}
	}
	return h
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// plainASCIIHost reports whether s has only letters, digits, '-', '_' and '.'.
func plainASCIIHost(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || byteClass[s[i]]&bHost == 0 {
			return false
		}
	}
	return s != ""
}

// cleanHost maps full-width dots to '.' and drops invisible characters,
// which IDNA would otherwise reject or keep.
func cleanHost(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if n := fullDot(s, i); n > 0 {
			b.WriteByte('.')
			i += n
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if normalize.Lookup(r).Kind() != normalize.KindInvisible {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// parseIPv4 reads a host the way browsers (WHATWG URL) do when its last
// label is a number: 1 to 4 parts, each decimal, octal (leading 0) or hex
// (0x), the last filling the remaining bytes. So 0x7f.1 and 2130706433 are
// 127.0.0.1, a common way to hide an address. numeric reports that the last
// label is a number, so the host is an address or invalid.
func parseIPv4(host string) (addr netip.Addr, ok, numeric bool) {
	if _, isNum := ipv4Part(host[strings.LastIndexByte(host, '.')+1:]); !isNum {
		return netip.Addr{}, false, false
	}
	nparts := strings.Count(host, ".") + 1
	if nparts > 4 {
		return netip.Addr{}, false, true
	}
	var v uint64
	for i := range nparts {
		p, rest, _ := strings.Cut(host, ".")
		host = rest
		n, isNum := ipv4Part(p)
		if !isNum {
			return netip.Addr{}, false, true
		}
		if i < nparts-1 {
			if n > 255 {
				return netip.Addr{}, false, true
			}
			v = v<<8 | n
			continue
		}
		fill := uint(5 - nparts) // bytes the last part fills
		if n >= 1<<(8*fill) {
			return netip.Addr{}, false, true
		}
		v = v<<(8*fill) | n
	}
	b := [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	return netip.AddrFrom4(b), true, true
}

// ipv4Part parses one part of a WHATWG IPv4 host.
func ipv4Part(p string) (uint64, bool) {
	if p == "" {
		return 0, false
	}
	base := 10
	switch {
	case len(p) >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'):
		base, p = 16, p[2:]
		if p == "" {
			return 0, true
		}
	case len(p) >= 2 && p[0] == '0':
		base, p = 8, p[1:]
	}
	if len(p) > 12 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(p); i++ {
		d := uint64(16)
		switch c := p[i] | 0x20; {
		case p[i] >= '0' && p[i] <= '9':
			d = uint64(p[i] - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		}
		if d >= uint64(base) {
			return 0, false
		}
		n = n*uint64(base) + d
	}
	return n, true
}

// labels splits a host into its labels.
func labels(host string) []string {
	return strings.Split(host, ".")
}

// parentDomains calls f with host and each parent domain of it, longest
// first (a.b.c, b.c, c), until f returns false.
func parentDomains(host string, f func(string) bool) {
	for {
		if !f(host) {
			return
		}
		k := strings.IndexByte(host, '.')
		if k < 0 {
			return
		}
		host = host[k+1:]
	}
}

// punycodeLabels returns the xn-- labels of an ASCII host.
func punycodeLabels(host string) []string {
	if !strings.Contains(host, "xn--") {
		return nil
	}
	var out []string
	for _, l := range labels(host) {
		if strings.HasPrefix(l, "xn--") {
			out = append(out, l)
		}
	}
	return out
}

// scriptTables are the scripts checked first, in order; rarer scripts are
// found in unicode.Scripts.
var scriptTables = []struct {
	name  string
	table *unicode.RangeTable
}{
	{"Latin", unicode.Latin}, {"Cyrillic", unicode.Cyrillic}, {"Greek", unicode.Greek},
	{"Han", unicode.Han}, {"Hiragana", unicode.Hiragana}, {"Katakana", unicode.Katakana},
	{"Hangul", unicode.Hangul}, {"Bopomofo", unicode.Bopomofo}, {"Armenian", unicode.Armenian},
	{"Cherokee", unicode.Cherokee}, {"Georgian", unicode.Georgian}, {"Arabic", unicode.Arabic},
	{"Hebrew", unicode.Hebrew}, {"Thai", unicode.Thai}, {"Devanagari", unicode.Devanagari},
}

// scriptOf names the script of r; "" for Common and Inherited (digits,
// punctuation, combining marks), which mix with anything.
func scriptOf(r rune) string {
	if unicode.Is(unicode.Common, r) || unicode.Is(unicode.Inherited, r) {
		return ""
	}
	for _, s := range scriptTables {
		if unicode.Is(s.table, r) {
			return s.name
		}
	}
	for name, t := range unicode.Scripts {
		if name != "Common" && name != "Inherited" && unicode.Is(t, r) {
			return name
		}
	}
	return "Unknown"
}

// digitZero returns the zero of the decimal digit system r belongs to: Nd
// digits come in aligned runs of ten starting at their zero.
func digitZero(r rune) rune {
	s := r
	for s > 0 && r-s < 100 && unicode.IsDigit(s-1) {
		s--
	}
	return s + (r-s)/10*10
}

// allowedScriptSets are the multi-script combinations Chrome accepts in one
// label (UTS 39 "highly restrictive": Latin with the scripts of Japanese,
// Chinese or Korean writing).
var allowedScriptSets = []map[string]bool{
	{"Latin": true, "Han": true, "Hiragana": true, "Katakana": true},
	{"Latin": true, "Han": true, "Bopomofo": true},
	{"Latin": true, "Han": true, "Hangul": true},
}

// mixedScript returns why a Unicode label breaks Chrome's IDN script-mixing
// rules, or "" when it does not. Following Chrome's policy: one script per
// label, or Latin with the CJK combinations above, or ASCII Latin with one
// other script except Cyrillic, Greek and Cherokee (whose letters pass for
// Latin) unless every letter of that script is a Latin look-alike (the
// mixed-script-confusable check, which catches gօօgle with Armenian օ); no
// non-ASCII Latin mixed with another script; no mixed numbering systems,
// and no Latin letters with another script's digits.
// Whole-script look-alikes (рф) are left alone here, as Chrome does; the
// skeleton check against brands catches those that matter.
func mixedScript(label string) string {
	var scripts []string
	latinNonASCII, otherLookalike := false, true
	var zero rune = -1
	mixedDigits, foreignDigits := false, false
	for _, r := range label {
		if r < utf8.RuneSelf {
			switch {
			case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
				scripts = addScript(scripts, "Latin")
			case r >= '0' && r <= '9':
				if zero >= 0 && zero != '0' {
					mixedDigits = true
				}
				zero = '0'
			}
			continue
		}
		if unicode.IsDigit(r) {
			z := digitZero(r)
			if zero >= 0 && zero != z {
				mixedDigits = true
			}
			zero = z
			foreignDigits = true
		}
		name := scriptOf(r)
		switch name {
		case "":
			continue
		case "Latin":
			latinNonASCII = true
		default:
			if normalize.Lookup(r).Flags()&normalize.FlagLookalike == 0 {
				otherLookalike = false
			}
		}
		scripts = addScript(scripts, name)
	}
	if mixedDigits {
		return "mixes digits of different numbering systems"
	}
	// Most other scripts' digits are Common, so the script test alone would
	// let abc١٢ through; UTS 39 (by Script_Extensions) and Chrome do not.
	if foreignDigits && slices.Contains(scripts, "Latin") {
		return "mixes Latin letters with digits of another script"
	}
	if len(scripts) < 2 {
		return ""
	}
	mix := strings.Join(scripts, "+")
	hasLatin := false
	for _, s := range scripts {
		hasLatin = hasLatin || s == "Latin"
	}
	if hasLatin && latinNonASCII {
		return "mixes non-ASCII Latin with another script (" + mix + ")"
	}
	for _, set := range allowedScriptSets {
		if subset(scripts, set) {
			return ""
		}
	}
	if len(scripts) == 2 && hasLatin {
		other := scripts[0]
		if other == "Latin" {
			other = scripts[1]
		}
		switch other {
		case "Cyrillic", "Greek", "Cherokee":
			return "mixes " + mix
		}
		if otherLookalike {
			return "mixes Latin with " + other + " letters that look Latin"
		}
		return ""
	}
	return "mixes " + mix
}

func addScript(scripts []string, name string) []string {
	for _, s := range scripts {
		if s == name {
			return scripts
		}
	}
	return append(scripts, name)
}

func subset(scripts []string, set map[string]bool) bool {
	for _, s := range scripts {
		if !set[s] {
			return false
		}
	}
	return true
}

// bareTLDs are the TLDs a domain written without scheme, "www." or path
// may end in: the generic ones, the country codes, and the new gTLDs common
// in Chinese-language spam and phishing [recalled: Spamhaus and Interisle
// abuse reports]. Other ICANN TLDs still count after http://, www. or with a
// path; without them, English words such as hello.world or end.life would
// read as links. Country codes that are also common file extensions (.md,
// .py, .sh, .pl, .rs, .ps, .pm, .mk, .sc) are left out for the same reason.
var bareTLDs = func() map[string]bool {
	m := map[string]bool{}
	generic := "com net org edu gov mil int info biz name mobi pro asia tel travel jobs " +
		"xyz top club vip shop online site icu live ltd app dev cloud tech store space " +
		"website fun wang ren xin link click work win bid loan men date party review trade " +
		"racing science download stream cricket gdn buzz monster rest cyou sbs cfd bond lol " +
		"pics mom beauty hair skin quest best news email today support help network center " +
		"company group kim ink red pub gold money finance cash loans capital credit fund " +
		"investments exchange markets trading games life cool zone plus one page blog " +
		"uno host press agency digital solutions services global world"
	for _, t := range strings.Fields(generic) {
		m[t] = true
	}
	delete(m, "world") // hello.world
	cc := "ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo br bs bt bw by bz " +
		"ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec ee eg er es et eu fi fj fk fm fo fr " +
		"ga gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp " +
		"ke kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc me mg mh ml mm mn mo mp mq mr ms mt mu mv " +
		"mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pn pr pt pw qa re ro ru rw sa sb sd se sg " +
		"si sk sl sm sn so sr ss st su sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz " +
		"va vc ve vg vi vn vu wf ws ye yt za zm zw"
	for _, t := range strings.Fields(cc) {
		m[t] = true
	}
	return m
}()

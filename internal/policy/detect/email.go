package detect

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// E-mail addresses, research note §2.7. Found around each '@' rather than by
// a regular expression: the local part is read backwards (RFC 5321 limit 64
// bytes, the pragmatic character set of DLP products), the domain forwards
// (255 bytes), converted with IDNA lookup rules and required to end in an
// ICANN public suffix. That last check is what separates real addresses from
// "@handles", version strings and file names.

const (
	maxLocal  = 64
	maxDomain = 255
	// maxTLDRunes bounds the last label tried for an internationalized
	// domain; IDN top-level domains are a few characters long.
	maxTLDRunes = 12
)

// detailPersonal marks an address at a consumer mailbox provider, which
// matters for exfiltration rules ("sending to a personal mailbox").
const detailPersonal = "personal"

// personalDomains are consumer providers, by registrable domain (eTLD+1),
// so vip.qq.com and vip.163.com count too.
var personalDomains = map[string]bool{
	"qq.com": true, "foxmail.com": true, "163.com": true, "126.com": true, "yeah.net": true,
	"188.com": true, "139.com": true, "189.cn": true, "wo.cn": true, "sina.com": true,
	"sina.cn": true, "sohu.com": true, "aliyun.com": true, "tom.com": true, "21cn.com": true,
	"gmail.com": true, "googlemail.com": true, "outlook.com": true, "hotmail.com": true,
	"live.com": true, "msn.com": true, "yahoo.com": true, "yahoo.com.hk": true,
	"yahoo.com.tw": true, "yahoo.co.jp": true, "yahoo.co.uk": true, "hotmail.co.uk": true,
	"ymail.com": true, "icloud.com": true, "me.com": true, "mac.com": true, "proton.me": true,
	"protonmail.com": true, "pm.me": true, "aol.com": true, "gmx.com": true, "gmx.net": true,
	"gmx.de": true, "mail.com": true, "zoho.com": true, "yandex.com": true, "yandex.ru": true,
	"mail.ru": true, "tutanota.com": true, "hey.com": true, "netvigator.com": true,
}

// localChar reports whether c may appear in a local part: letters, digits
// and . _ % + -. Quoted and exotic RFC 5322 forms are left out; they do not
// occur in chat and admitting them swallows punctuation.
func localChar(c byte) bool {
	return isWordByte(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

// localOK validates a local part: 1-64 bytes, no leading, trailing or
// doubled dot.
func localOK(l string) bool {
	if len(l) == 0 || len(l) > maxLocal || l[0] == '.' || l[len(l)-1] == '.' {
		return false
	}
	for i := 0; i < len(l); i++ {
		if !localChar(l[i]) || (l[i] == '.' && i > 0 && l[i-1] == '.') {
			return false
		}
	}
	return true
}

// domainASCII reports whether c may appear in an ASCII host name.
func domainASCII(c byte) bool { return isWordByte(c) || c == '-' || c == '.' }

// isDomainDot reports whether r separates IDNA labels (UTS #46 maps the
// ideographic and full-width full stops to '.').
func isDomainDot(r rune) bool { return r == '.' || r == '。' || r == '．' || r == '｡' }

// domainOK converts a domain to ASCII and checks it, returning its
// registrable domain (eTLD+1). The longest public suffix must be an ICANN
// one, or a private suffix (cn.com, github.io) under an ICANN TLD.
func domainOK(domain string) (registrable string, ok bool) {
	if domain == "" || len(domain) > utf8.UTFMax*maxDomain {
		return "", false
	}
	a, err := idna.Lookup.ToASCII(domain)
	if err != nil || len(a) > maxDomain {
		return "", false
	}
	for rest := a; ; {
		i := strings.IndexByte(rest, '.')
		label := rest
		if i >= 0 {
			label = rest[:i]
		}
		if len(label) == 0 || len(label) > 63 {
			return "", false
		}
		if i < 0 {
			break
		}
		rest = rest[i+1:]
	}
	ps, icann := publicsuffix.PublicSuffix(a)
	if !icann {
		if _, tldICANN := publicsuffix.PublicSuffix(a[strings.LastIndexByte(a, '.')+1:]); !tldICANN {
			return "", false
		}
	}
	if len(ps) >= len(a) {
		return "", false
	}
	rest := a[:len(a)-len(ps)-1]
	return a[strings.LastIndexByte(rest, '.')+1:], true
}

// ValidEmail reports whether s is an address by the rules above.
func ValidEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at < 0 || !localOK(s[:at]) {
		return false
	}
	_, ok := domainOK(s[at+1:])
	return ok
}

// domainCacheSize bounds the per-Scanner cache of domain verdicts. Chat
// repeats a handful of domains (the company's, qq.com, 163.com), and IDNA
// conversion plus the suffix lookup cost about a microsecond each time.
const domainCacheSize = 16

// domainVerdict is one cached domainOK result.
type domainVerdict struct {
	domain, registrable string
	ok                  bool
}

// domainOKCached is domainOK through the Scanner's cache. Cached domains are
// copies, so the cache never pins a message's text in memory.
func (s *Scanner) domainOKCached(domain string) (string, bool) {
	for i := range s.domains {
		if v := &s.domains[i]; v.domain == domain && domain != "" {
			return v.registrable, v.ok
		}
	}
	reg, ok := domainOK(domain)
	s.domains[s.domainNext] = domainVerdict{strings.Clone(domain), reg, ok}
	s.domainNext = (s.domainNext + 1) % domainCacheSize
	return reg, ok
}

// trimDomainEnd drops trailing dots and hyphens from text[ds:de]: the
// sentence's full stop is not part of the domain.
func trimDomainEnd(text string, ds, de int) int {
	for de > ds {
		r, size := utf8.DecodeLastRuneInString(text[ds:de])
		if r != '-' && !isDomainDot(r) {
			break
		}
		de -= size
	}
	return de
}

// hasDomainDot reports whether d contains a label separator.
func hasDomainDot(d string) bool {
	return strings.IndexByte(d, '.') >= 0 || strings.ContainsAny(d, "。．｡")
}

// detectEmail reports the address around the '@' at text[at:at+atSize]
// (atSize is 3 for the full-width '＠').
func (s *Scanner) detectEmail(at, atSize int) {
	text := s.text
	ls := at
	for ls > 0 && localChar(text[ls-1]) && at-ls <= maxLocal {
		ls--
	}
	if ls > 0 && localChar(text[ls-1]) {
		return // local part longer than 64 bytes
	}
	for ls < at && text[ls] == '.' {
		ls++ // leading dots are punctuation ("...john@")
	}
	local := text[ls:at]
	if !localOK(local) {
		return
	}
	ds := at + atSize
	ae := ds
	for ae < len(text) && ae-ds <= maxDomain && domainASCII(text[ae]) {
		ae++
	}
	if de := trimDomainEnd(text, ds, ae); de > ds && hasDomainDot(text[ds:de]) {
		if reg, ok := s.domainOKCached(text[ds:de]); ok {
			s.emitEmail(ls, de, local, text[ds:de], reg)
			return
		}
	}
	// An internationalized domain (例子.中国). Chinese text runs straight on
	// after an address, so the longest plausible domain is shortened rune by
	// rune until it converts and ends in a public suffix.
	fe, idn := ae, false
	for fe < len(text) && fe-ds <= utf8.UTFMax*maxDomain {
		if c := text[fe]; c < 0x80 {
			if !domainASCII(c) {
				break
			}
			fe++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[fe:])
		if r == utf8.RuneError || !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || isDomainDot(r)) {
			break
		}
		idn = true
		fe += size
	}
	if !idn {
		return
	}
	// Cap the last label at maxTLDRunes runes (no IDN TLD is longer), so
	// the shortening below is bounded however long the trailing text is.
	lastDot := -1
	for k := ds; k < fe; {
		r, size := utf8.DecodeRuneInString(text[k:])
		if isDomainDot(r) {
			lastDot = k + size
		}
		k += size
	}
	if lastDot < 0 {
		return
	}
	for k, runes := lastDot, 0; k < fe; runes++ {
		if runes == maxTLDRunes {
			fe = k
			break
		}
		_, size := utf8.DecodeRuneInString(text[k:])
		k += size
	}
	for tries := 0; tries <= maxTLDRunes+1 && fe > ds; tries++ {
		if de := trimDomainEnd(text, ds, fe); de > ds && hasDomainDot(text[ds:de]) {
			if reg, ok := domainOK(text[ds:de]); ok {
				s.emitEmail(ls, de, local, text[ds:de], reg)
				return
			}
		}
		_, size := utf8.DecodeLastRuneInString(text[ds:fe])
		fe -= size
	}
}

// emitEmail reports an address; its domain is shown in lower case as
// written (Unicode kept, which reviewers read better than punycode).
func (s *Scanner) emitEmail(start, end int, local, domain, registrable string) {
	conf, ctx := s.checksumTier(start, end, ctxEmail)
	detail := ""
	if personalDomains[registrable] {
		detail = detailPersonal
	}
	s.emit(Email, start, end, conf, true, ctx, maskEmail(local, strings.ToLower(domain)), detail)
}

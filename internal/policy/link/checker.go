package link

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Signal kinds.
const (
	// KindBlocked: the host or a parent domain is in BlockDomains.
	KindBlocked = "blocked"
	// KindShortener: a known URL shortener; risk context, since the
	// destination is hidden.
	KindShortener = "shortener"
	// KindOpenRedirect: a redirect parameter (?url=, ?target=,
	// redirect_uri=) sends the reader to another site.
	KindOpenRedirect = "open-redirect"
	// KindPunycode: the host has an xn-- (internationalised) label.
	KindPunycode = "punycode"
	// KindMixedScript: a label mixes scripts beyond what Chrome allows.
	KindMixedScript = "mixed-script"
	// KindLookalike: the host imitates a protected brand; Detail starts
	// with the method: skeleton, edit-distance, combosquat, tld-swap,
	// subdomain or userinfo.
	KindLookalike = "lookalike"
	// KindIPHost: the host is a raw IPv4 or IPv6 address.
	KindIPHost = "ip-host"
)

// Confidences of the non-look-alike kinds (look-alikes: lookalike.go).
const (
	confBlocked      = 95
	confMixedScript  = 85
	confShortener    = 60
	confOpenRedirect = 60
	confPunycode     = 60
	confIPHost       = 50
)

// ErrBadDomain is wrapped by NewChecker's errors for a domain that cannot
// be used.
var ErrBadDomain = errors.New("bad domain")

// Config is one rule's LinksMatcher, compiled once by NewChecker.
type Config struct {
	// Shorteners enables shortener signals.
	Shorteners bool
	// Punycode enables punycode and mixed-script signals.
	Punycode bool
	// LookalikeOf are the protected brand domains; empty means the default
	// Chinese and Hong Kong finance and chat brands (DefaultBrands).
	LookalikeOf []string
	// BlockDomains are always flagged, with their subdomains.
	BlockDomains []string
	// AllowDomains and their subdomains are never flagged.
	AllowDomains []string
}

// Signal is why a link is risky.
type Signal struct {
	// Kind is one of the Kind constants.
	Kind string
	// Confidence is 0-100.
	Confidence int
	// Brand is the protected domain a look-alike imitates; "" otherwise.
	Brand string
	// Detail says what was found, for the finding's evidence.
	Detail string
}

type listing uint8

const (
	listAllow listing = 1 << iota
	listBlock
)

// Checker rates links against one compiled Config. It is safe for
// concurrent use.
type Checker struct {
	shorteners, punycode bool
	lists                map[string]listing // allow/block entries by canonical host
	owned                map[string]string  // registrable domain -> brand that owns it
	tokens               []brandToken
}

// defaultBrands are the protected brands when a rule lists none: the large
// mainland and Hong Kong banks, payment and chat platforms, and the
// regulators whose names scams borrow (research notes §6).
var defaultBrands = []string{
	"icbc.com.cn", "ccb.com", "boc.cn", "abchina.com", "bankcomm.com", "cmbchina.com",
	"psbc.com", "citicbank.com", "spdb.com.cn", "cib.com.cn", "alipay.com", "weixin.qq.com",
	"wechat.com", "qq.com", "tenpay.com", "unionpay.com", "95516.com", "hsbc.com.hk",
	"hangseng.com", "bochk.com", "sfc.hk", "hkma.gov.hk", "csrc.gov.cn",
}

// defaultAliases are names a default brand is known by that its domain
// does not spell out.
var defaultAliases = map[string][]string{
	"citicbank.com": {"citic"},
}

// defaultFamily are other registrable domains the default brands operate
// [recalled], which would otherwise read as tld-swaps or combosquats of
// their own brand.
var defaultFamily = map[string]string{
	"hsbc.com":          "hsbc.com.hk",
	"hsbc.com.cn":       "hsbc.com.hk",
	"hsbc.co.uk":        "hsbc.com.hk",
	"bankofchina.com":   "boc.cn",
	"unionpayintl.com":  "unionpay.com",
	"alipayobjects.com": "alipay.com",
	"citic.com":         "citicbank.com",
}

// DefaultBrands returns the brand domains protected when Config.LookalikeOf
// is empty.
func DefaultBrands() []string {
	return slices.Clone(defaultBrands)
}

// NewChecker compiles c: domains are canonicalised (IDNA, lower case),
// brands are cut into their names and skeletons. An error names the bad
// domain and wraps ErrBadDomain.
func NewChecker(c Config) (*Checker, error) {
	ch := &Checker{
		shorteners: c.Shorteners,
		punycode:   c.Punycode,
		lists:      map[string]listing{},
		owned:      map[string]string{},
	}
	for i, d := range c.AllowDomains {
		h, err := listDomain(d)
		if err != nil {
			return nil, fmt.Errorf("link: allowDomains[%d]: %w", i, err)
		}
		ch.lists[h] |= listAllow
	}
	for i, d := range c.BlockDomains {
		h, err := listDomain(d)
		if err != nil {
			return nil, fmt.Errorf("link: blockDomains[%d]: %w", i, err)
		}
		if ch.lists[h]&listAllow != 0 {
			return nil, fmt.Errorf("link: blockDomains[%d]: %q is also in allowDomains: %w", i, d, ErrBadDomain)
		}
		ch.lists[h] |= listBlock
	}
	brands, aliases, family := c.LookalikeOf, map[string][]string(nil), map[string]string(nil)
	if len(brands) == 0 {
		brands, aliases, family = defaultBrands, defaultAliases, defaultFamily
	}
	var all []brandToken
	for i, d := range brands {
		h, err := brandDomain(d)
		if err != nil {
			return nil, fmt.Errorf("link: lookalikeOf[%d]: %w", i, err)
		}
		if _, dup := ch.owned[h.etld1]; !dup {
			ch.owned[h.etld1] = h.host
		}
		all = append(all, newBrandTokens(h.host, h.etld1, h.display, aliases[h.host])...)
	}
	for e, b := range family {
		ch.owned[e] = b
	}
	// One token per name: the brand registered under the name keeps it
	// (qq goes to qq.com, not weixin.qq.com).
	slices.SortStableFunc(all, func(a, b brandToken) int { return cmp.Compare(a.rank(), b.rank()) })
	seen := map[string]bool{}
	for _, t := range all {
		if !seen[t.skel] {
			seen[t.skel] = true
			ch.tokens = append(ch.tokens, t)
		}
	}
	return ch, nil
}

// rank orders tokens for de-duplication: the label of a brand that is its
// own registrable domain, then other registrable labels, then subdomain
// labels and aliases.
func (t *brandToken) rank() int {
	switch {
	case t.registrable && strings.TrimPrefix(t.brand.domain, "www.") == t.brand.etld1:
		return 0
	case t.registrable:
		return 1
	}
	return 2
}

// listDomain canonicalises an allow or block entry; "*.example.com" and
// ".example.com" mean example.com and its subdomains, as every entry does.
func listDomain(d string) (string, error) {
	s := strings.TrimSpace(d)
	s = strings.TrimPrefix(s, "*.")
	s = strings.TrimPrefix(s, ".")
	if s == "" {
		return "", fmt.Errorf("%q: empty domain: %w", d, ErrBadDomain)
	}
	if addr, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return addr.String(), nil
	}
	if strings.ContainsAny(s, "/:@?# \t") {
		return "", fmt.Errorf("%q: want a domain name, not a URL: %w", d, ErrBadDomain)
	}
	h := hostFields(s)
	if h.host == "" {
		return "", fmt.Errorf("%q: not a valid domain name: %w", d, ErrBadDomain)
	}
	return h.host, nil
}

// brandDomain canonicalises a LookalikeOf entry, which must be a
// registrable domain or below one.
func brandDomain(d string) (hostInfo, error) {
	s, err := listDomain(d)
	if err != nil {
		return hostInfo{}, err
	}
	h := hostFields(s)
	switch {
	case h.ip:
		return hostInfo{}, fmt.Errorf("%q: an IP address cannot be a brand: %w", d, ErrBadDomain)
	case h.etld1 == "":
		return hostInfo{}, fmt.Errorf("%q: a public suffix, not a registrable domain: %w", d, ErrBadDomain)
	}
	return h, nil
}

// Check returns the signals for one URL, strongest first; links to
// AllowDomains (or their subdomains) and to the brands' own domains return
// none. A URL with only Raw set (an explicit link from a message's
// metadata) is parsed first.
func (c *Checker) Check(u URL) []Signal {
	if u.Host == "" {
		if u.Raw == "" {
			return nil
		}
		p := Parse(u.Raw)
		if p.Host == "" {
			return nil
		}
		u.Host, u.Display, u.ETLD1 = p.Host, p.Display, p.ETLD1
	}
	out := c.check(u, true)
	slices.SortStableFunc(out, func(a, b Signal) int { return cmp.Compare(b.Confidence, a.Confidence) })
	return out
}

func (c *Checker) check(u URL, followRedirect bool) []Signal {
	list, entry := c.listed(u.Host)
	if list == listAllow {
		return nil
	}
	var out []Signal
	if list == listBlock {
		out = append(out, Signal{Kind: KindBlocked, Confidence: confBlocked, Detail: "blocked: " + entry + " is in blockDomains"})
	}
	if u.ETLD1 != "" && c.owned[u.ETLD1] != "" {
		return out // a brand's own domain: blocked or nothing
	}
	ip := isIP(u.Host)
	if ip {
		detail := "ip-host: " + u.Host
		if !strings.Contains(strings.ToLower(u.Raw), u.Host) {
			detail += " written in an obfuscated form"
		}
		out = append(out, Signal{Kind: KindIPHost, Confidence: confIPHost, Detail: detail})
	}
	if c.shorteners {
		if s := shortener(u.Host); s != "" {
			out = append(out, Signal{Kind: KindShortener, Confidence: confShortener, Detail: "shortener: " + s + " hides the destination"})
		}
	}
	if followRedirect {
		out = append(out, c.redirect(u)...)
	}
	if c.punycode && !ip {
		out = append(out, scriptSignals(u)...)
	}
	if !ip {
		out = append(out, c.lookalikes(u)...)
	}
	return out
}

// isIP reports whether a canonical host is an IP address. Hosts that end
// in a digit or hold a colon are the only candidates (hostFields rejects
// names with a numeric last label), which spares a failing ParseAddr, and
// its allocation, on every name.
func isIP(host string) bool {
	if host == "" {
		return false
	}
	if c := host[len(host)-1]; (c < '0' || c > '9') && strings.IndexByte(host, ':') < 0 {
		return false
	}
	_, err := netip.ParseAddr(host)
	return err == nil
}

// listed returns whether host or its nearest listed parent is allowed or
// blocked, and the entry that decided.
func (c *Checker) listed(host string) (listing, string) {
	if len(c.lists) == 0 {
		return 0, ""
	}
	var found listing
	entry := ""
	parentDomains(host, func(d string) bool {
		if l, ok := c.lists[d]; ok {
			found, entry = l, d
			return false
		}
		return true
	})
	return found, entry
}

// redirect reports an open redirect in u to another site, and what is
// wrong with the destination itself.
func (c *Checker) redirect(u URL) []Signal {
	param, target, ok := openRedirect(u.Raw)
	if !ok {
		return nil
	}
	t := Parse(target)
	if t.Host == "" || t.Host == u.Host || t.ETLD1 != "" && t.ETLD1 == u.ETLD1 {
		return nil
	}
	if l, _ := c.listed(t.Host); l == listAllow {
		return nil
	}
	if t.ETLD1 != "" && c.owned[t.ETLD1] != "" {
		return nil // sending readers to the real brand is not the risk
	}
	out := []Signal{{Kind: KindOpenRedirect, Confidence: confOpenRedirect, Detail: "open-redirect: " + param + "= sends to " + t.Display}}
	for _, s := range c.check(t, false) {
		s.Detail = "redirect target " + t.Display + ": " + s.Detail
		out = append(out, s)
	}
	return out
}

// scriptSignals flags xn-- labels and labels that mix scripts.
func scriptSignals(u URL) []Signal {
	puny := punycodeLabels(u.Host)
	if len(puny) == 0 {
		return nil
	}
	out := []Signal{{Kind: KindPunycode, Confidence: confPunycode, Detail: "punycode: " + u.Host + " shows as " + u.Display}}
	for _, l := range labels(u.Display) {
		if isASCII(l) {
			continue
		}
		if why := mixedScript(l); why != "" {
			out = append(out, Signal{Kind: KindMixedScript, Confidence: confMixedScript, Detail: fmt.Sprintf("mixed-script: label %q %s", l, why)})
			break
		}
	}
	return out
}

// lookalikes rates u against every brand and returns the strongest finding
// for each brand it imitates.
func (c *Checker) lookalikes(u URL) []Signal {
	v, ok := newHostView(u)
	if !ok {
		return nil
	}
	var out []Signal
	userinfo := userinfoSkeleton(u.Raw)
	for i := range c.tokens {
		t := &c.tokens[i]
		var h hit
		t.match(&v, &h)
		if userinfo != nil && slices.Contains(userinfo, t.letters) {
			h.raise(confSubdomain, "userinfo: %s before '@' hides the real host %s", t.text, u.Host)
		}
		if h.conf == 0 {
			continue
		}
		s := Signal{Kind: KindLookalike, Confidence: h.conf, Brand: t.brand.domain, Detail: h.detail}
		if j := slices.IndexFunc(out, func(o Signal) bool { return o.Brand == s.Brand }); j >= 0 {
			if s.Confidence > out[j].Confidence {
				out[j] = s
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

// userinfoSkeleton returns the skeletons of the parts of the userinfo in
// raw ("icbc.com.cn" in http://icbc.com.cn@evil.top), which browsers accept
// and readers take for the host; nil when there is none.
func userinfoSkeleton(raw string) []string {
	n := schemeAt(raw, 0)
	if n == 0 {
		return nil
	}
	auth := raw[n:]
	if k := strings.IndexAny(auth, "/\\?#"); k >= 0 {
		auth = auth[:k]
	}
	_, userinfo := splitAuthority(auth)
	if userinfo == "" {
		return nil
	}
	return strings.FieldsFunc(letterSkeleton(cleanHost(userinfo)), func(r rune) bool {
		return r == '.' || r == ':' || r == '-' || r == '_'
	})
}

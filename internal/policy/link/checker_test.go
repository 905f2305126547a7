package link

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func mustChecker(t testing.TB, c Config) *Checker {
	t.Helper()
	ch, err := NewChecker(c)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func kinds(sigs []Signal) []string {
	var out []string
	for _, s := range sigs {
		out = append(out, s.Kind)
	}
	return out
}

func TestNewCheckerErrorsNameTheDomain(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{BlockDomains: []string{"ok.com", ""}}, `blockDomains[1]: "": empty domain`},
		{Config{AllowDomains: []string{"https://x.com/"}}, `allowDomains[0]: "https://x.com/"`},
		{Config{BlockDomains: []string{"a..b"}}, `"a..b": not a valid domain name`},
		{Config{LookalikeOf: []string{"com.cn"}}, `lookalikeOf[0]: "com.cn": a public suffix`},
		{Config{LookalikeOf: []string{"10.0.0.1"}}, `"10.0.0.1": an IP address cannot be a brand`},
		{Config{AllowDomains: []string{"x.com"}, BlockDomains: []string{"X.com"}}, `"X.com" is also in allowDomains`},
	} {
		_, err := NewChecker(tc.c)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrBadDomain) {
			t.Errorf("NewChecker(%+v) = %v, want error containing %q wrapping ErrBadDomain", tc.c, err, tc.want)
		}
	}
}

func TestNewCheckerAcceptsDomainForms(t *testing.T) {
	c := mustChecker(t, Config{
		BlockDomains: []string{" Evil.TOP ", "*.phish.xyz", ".bad.cc", "ісbс.com", "10.0.0.1", "[::1]"},
		LookalikeOf:  []string{"www.Vigil-Bank.com"},
	})
	for _, host := range []string{"evil.top", "a.phish.xyz", "phish.xyz", "x.bad.cc", "xn--b-6tbb5f.com", "10.0.0.1", "::1"} {
		if l, _ := c.listed(host); l != listBlock {
			t.Errorf("%s should be blocked", host)
		}
	}
}

func TestBlockAndAllow(t *testing.T) {
	c := mustChecker(t, Config{
		BlockDomains: []string{"evil.top", "bad.example.com", "weixin.qq.com"},
		AllowDomains: []string{"example.com", "ok.evil.top"},
	})
	for _, tc := range []struct {
		raw     string
		blocked bool
		none    bool
	}{
		{"https://evil.top/x", true, false},
		{"https://a.b.evil.top/x", true, false},
		{"https://ok.evil.top/x", false, true},        // the nearer allow entry wins
		{"https://x.ok.evil.top/x", false, true},      // and covers its subdomains
		{"https://example.com/", false, true},         // allowed
		{"https://bad.example.com/", true, false},     // nearer block entry wins
		{"https://weixin.qq.com/", true, false},       // block beats a brand's own domain
		{"https://notevil.top/", false, true},         // not a parent
		{"https://mp.weixin.qq.com/s/x", true, false}, // subdomain of a blocked entry
	} {
		sigs := c.Check(Parse(tc.raw))
		gotBlocked := slices.ContainsFunc(sigs, func(s Signal) bool { return s.Kind == KindBlocked && s.Confidence == 95 })
		if gotBlocked != tc.blocked || tc.none && len(sigs) != 0 {
			t.Errorf("%s: got %+v, want blocked=%v none=%v", tc.raw, sigs, tc.blocked, tc.none)
		}
	}
	// A blocked brand domain is reported as blocked only, not as its own look-alike.
	if got := kinds(c.Check(Parse("https://weixin.qq.com/"))); !slices.Equal(got, []string{KindBlocked}) {
		t.Errorf("blocked brand domain: %v", got)
	}
}

func TestShortenerAndPunycodeAreOptIn(t *testing.T) {
	off := mustChecker(t, Config{})
	on := mustChecker(t, Config{Shorteners: true, Punycode: true})
	for _, tc := range []struct{ raw, kind string }{
		{"https://t.cn/A6abc", KindShortener},
		{"https://w.url.cn/s/abc", KindShortener},
		{"https://xn--80ak6aa92e.com/", KindPunycode},
		{"https://bücher.de/", KindPunycode},
		{"https://aррӏе.com/", KindMixedScript},
	} {
		u := Parse(tc.raw)
		if slices.Contains(kinds(off.Check(u)), tc.kind) {
			t.Errorf("%s: %s fired with the option off", tc.raw, tc.kind)
		}
		if !slices.Contains(kinds(on.Check(u)), tc.kind) {
			t.Errorf("%s: %s did not fire with the option on: %+v", tc.raw, tc.kind, on.Check(u))
		}
	}
	// Whole-script Cyrillic is punycode but not mixed-script (Chrome shows рф).
	if got := kinds(on.Check(Parse("http://пример.рф/"))); !slices.Equal(got, []string{KindPunycode}) {
		t.Errorf("пример.рф: %v", got)
	}
}

func TestOpenRedirectSignals(t *testing.T) {
	c := mustChecker(t, Config{AllowDomains: []string{"partner.com"}})
	for _, tc := range []struct {
		raw  string
		want []string
	}{
		{"https://www.baidu.com/link?url=https%3A%2F%2Fevil.top%2Fx", []string{KindOpenRedirect}},
		{"https://www.baidu.com/link?url=https://www.baidu.com/x", nil},                                  // same site
		{"https://example.com/r?next=https://sub.example.com/", nil},                                     // same registrable domain
		{"https://example.com/r?next=https://icbc.com.cn/", nil},                                         // to the real brand
		{"https://example.com/r?next=https://partner.com/", nil},                                         // to an allowed site
		{"https://example.com/r?url=https://icbc-login.xyz/", []string{KindLookalike, KindOpenRedirect}}, // the target is checked too
		{"https://example.com/r?url=http://10.1.2.3/", []string{KindOpenRedirect, KindIPHost}},
	} {
		sigs := c.Check(Parse(tc.raw))
		if got := kinds(sigs); !slices.Equal(got, tc.want) {
			t.Errorf("%s: kinds %v, want %v (%+v)", tc.raw, got, tc.want, sigs)
		}
	}
	sigs := c.Check(Parse("https://example.com/r?url=https://icbc-login.xyz/"))
	if !strings.HasPrefix(sigs[0].Detail, "redirect target icbc-login.xyz: combosquat") {
		t.Errorf("target detail: %q", sigs[0].Detail)
	}
}

func TestIPHost(t *testing.T) {
	c := mustChecker(t, Config{})
	for _, tc := range []struct {
		raw        string
		obfuscated bool
	}{
		{"http://192.168.1.1/admin", false},
		{"http://[2001:db8::1]/", false},
		{"http://0x7f.1/", true},
		{"http://3232235777/", true},
	} {
		sigs := c.Check(Parse(tc.raw))
		if len(sigs) != 1 || sigs[0].Kind != KindIPHost || sigs[0].Confidence != 50 ||
			strings.Contains(sigs[0].Detail, "obfuscated") != tc.obfuscated {
			t.Errorf("%s: %+v", tc.raw, sigs)
		}
	}
}

func TestCheckParsesRawOnlyURLs(t *testing.T) {
	c := mustChecker(t, Config{})
	if got := kinds(c.Check(URL{Raw: "https://icbc-login.xyz/"})); !slices.Equal(got, []string{KindLookalike}) {
		t.Errorf("raw-only URL: %v", got)
	}
	if got := c.Check(URL{}); got != nil {
		t.Errorf("empty URL: %v", got)
	}
	if got := c.Check(URL{Raw: "http://"}); got != nil {
		t.Errorf("hostless URL: %v", got)
	}
}

func TestSignalsStrongestFirst(t *testing.T) {
	c := mustChecker(t, Config{Shorteners: true, Punycode: true, BlockDomains: []string{"xn--b-6tbb5f.com.cn"}})
	sigs := c.Check(Parse("https://ісbс.com.cn/?url=https://evil.top"))
	if len(sigs) < 4 || !slices.IsSortedFunc(sigs, func(a, b Signal) int { return b.Confidence - a.Confidence }) || sigs[0].Kind != KindBlocked {
		t.Errorf("signals not strongest first: %+v", sigs)
	}
}

func TestCustomBrandsReplaceDefaults(t *testing.T) {
	c := mustChecker(t, Config{LookalikeOf: []string{"vigil-bank.com", "pay.vigil.hk"}})
	for _, tc := range []struct {
		raw, brand string
	}{
		{"https://vigil-bank-login.xyz/", "vigil-bank.com"},
		{"https://vigil-bnak.com/", "vigil-bank.com"},
		{"https://vigil-bank.com.evil.top/", "vigil-bank.com"},
		{"https://vigil.top/", "pay.vigil.hk"},
		{"https://pay.vigil.hk.evil.top/", "pay.vigil.hk"},
	} {
		sigs := c.Check(Parse(tc.raw))
		if len(sigs) == 0 || sigs[0].Kind != KindLookalike || sigs[0].Brand != tc.brand {
			t.Errorf("%s: want lookalike of %s, got %+v", tc.raw, tc.brand, sigs)
		}
	}
	for _, raw := range []string{"https://icbc-login.xyz/", "https://www.vigil-bank.com/", "https://x.vigil.hk/"} {
		if sigs := c.Check(Parse(raw)); len(sigs) != 0 {
			t.Errorf("%s: want none with custom brands, got %+v", raw, sigs)
		}
	}
}

func TestDefaultBrandsCompile(t *testing.T) {
	c := mustChecker(t, Config{})
	if len(DefaultBrands()) != 23 {
		t.Errorf("DefaultBrands has %d entries", len(DefaultBrands()))
	}
	names := map[string]string{}
	for _, tok := range c.tokens {
		names[tok.text] = tok.brand.domain
	}
	// A shared name goes to the brand registered under it.
	if names["qq"] != "qq.com" || names["weixin"] != "weixin.qq.com" || names["citic"] != "citicbank.com" {
		t.Errorf("token owners: %v", names)
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"https://ісbс.com.cn/login", "icbc-login.xyz", "http://0x7f.1/", "http://[::1]/",
		"https://x.com/r?url=https%3A%2F%2F1cbc.com.cn", "http://icbc.com.cn@evil.top/",
		"xn--zz.com", "https://xn--80ak6aa92e.com/", "t.cn/abc", "a1ipay.com", "qq.com.evil.top",
		"http://a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p/", "https://ab\u200bc.com", "http://%ff%fe.com/",
	} {
		f.Add(s)
	}
	c := mustChecker(f, Config{Shorteners: true, Punycode: true, BlockDomains: []string{"evil.top"}, AllowDomains: []string{"ok.com"}})
	f.Fuzz(func(t *testing.T, s string) {
		urls := Extract(s, nil)
		urls = append(urls, Parse(s))
		for _, u := range urls {
			for _, sig := range c.Check(u) {
				if sig.Kind == "" || sig.Confidence < 0 || sig.Confidence > 100 || sig.Detail == "" {
					t.Fatalf("bad signal %+v for %q", sig, u.Raw)
				}
			}
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	c := mustChecker(b, Config{Shorteners: true, Punycode: true, BlockDomains: []string{"evil.top"}})
	var urls []URL
	size := 0
	for _, raw := range []string{
		"https://www.icbc.com.cn/page/1.html", "https://mp.weixin.qq.com/s/AbCdEf", "t.cn/A6xYz",
		"icbc-login.xyz", "http://ісbс.com.cn/login", "https://github.com/vigil-operator/vigil",
		"https://example.com/r?url=https%3A%2F%2Fevil.top", "https://news.sina.com.cn/c/2026-11-22/doc.shtml",
		"http://192.168.1.1/admin", "https://alipay-secure-verify.top/login",
	} {
		u := Extract(raw, nil)[0]
		urls = append(urls, u)
		size += len(u.Raw)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, u := range urls {
			c.Check(u)
		}
	}
}

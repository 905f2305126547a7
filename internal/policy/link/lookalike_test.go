package link

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestDomainSkeleton(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"ісbс", "icbc"},         // Cyrillic
		{"ιcbc", "icbc"},         // Greek
		{"ICBC", "icbc"},         // case
		{"a1ipay", "alipay"},     // digit one as l
		{"bankc0mm", "bankcomm"}, // digit zero as o
		{"bankcornm", "bankcomm"},
		{"vvechat", "wechat"},
		{"clean", "dean"},
		{"gօօgle", "google"}, // Armenian
	} {
		if domainSkeleton(tc.a) != domainSkeleton(tc.b) {
			t.Errorf("domainSkeleton(%q)=%q != domainSkeleton(%q)=%q", tc.a, domainSkeleton(tc.a), tc.b, domainSkeleton(tc.b))
		}
	}
	if domainSkeleton("icbc") == domainSkeleton("icbe") {
		t.Error("different letters must keep different skeletons")
	}
}

// naiveOSA is the textbook full-matrix optimal string alignment distance.
func naiveOSA(a, b []rune) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

func TestOSADistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"icbc", "icbc", 0}, {"icbc", "ibcc", 1}, {"icbc", "icb", 1}, {"icbc", "icbcc", 1},
		{"alipay", "aliapy", 1}, {"ca", "abc", 3}, {"hangseng", "hengsang", 2},
	} {
		if got := osaDistance([]rune(tc.a), []rune(tc.b), 5); got != tc.want {
			t.Errorf("osaDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	word := func() []rune {
		r := make([]rune, rng.IntN(9))
		for i := range r {
			r[i] = rune('a' + rng.IntN(4))
		}
		return r
	}
	for range 5000 {
		a, b := word(), word()
		want := naiveOSA(a, b)
		for bound := range 4 {
			got := osaDistance(a, b, bound)
			if want <= bound && got != want || want > bound && got != bound+1 {
				t.Fatalf("osaDistance(%q, %q, %d) = %d, naive %d", string(a), string(b), bound, got, want)
			}
		}
	}
}

func TestDisguisingEdit(t *testing.T) {
	for _, tc := range []struct {
		got  string
		want bool
	}{
		{"ibcc", true},  // transposition
		{"icbcc", true}, // doubled letter
		{"iccbc", true}, // doubled letter
		{"ic-bc", true}, // hyphen
		{"lcbc", true},  // i/l look alike
		{"icbe", true},  // c/e look alike
		{"ocbc", false}, // another bank
		{"icac", false}, // Hong Kong's ICAC
		{"icbx", false}, // keyboard slip
		{"icbcx", false},
		{"icb", false},
	} {
		if got := disguisingEdit([]rune("icbc"), []rune(tc.got)); got != tc.want {
			t.Errorf("disguisingEdit(icbc, %s) = %v, want %v", tc.got, got, tc.want)
		}
	}
}

// homoglyphs are Cyrillic, Greek and other look-alikes that normalize folds
// to the ASCII letter.
var homoglyphs = map[rune][]rune{
	'a': {'а', 'α'}, 'c': {'с'}, 'e': {'е'}, 'o': {'о', 'ο'}, 'p': {'р'}, 'x': {'х'},
	'y': {'у'}, 'i': {'і', 'ι'}, 's': {'ѕ'}, 'j': {'ј'}, 'h': {'һ'}, 'q': {'ԛ'},
	'w': {'ԝ'}, 'd': {'ԁ'}, 'v': {'ν'}, 'u': {'υ'}, 'g': {'ɡ'},
}

// keyboardNeighbour is one QWERTY neighbour of each letter, for dnstwist's
// replacement class.
var keyboardNeighbour = map[rune]rune{
	'q': 'w', 'w': 'e', 'e': 'r', 'r': 't', 't': 'y', 'y': 'u', 'u': 'i', 'i': 'o', 'o': 'p', 'p': 'o',
	'a': 's', 's': 'd', 'd': 'f', 'f': 'g', 'g': 'h', 'h': 'j', 'j': 'k', 'k': 'l', 'l': 'k',
	'z': 'x', 'x': 'c', 'c': 'v', 'v': 'b', 'b': 'n', 'n': 'm', 'm': 'n',
	'1': '2', '2': '3', '3': '4', '4': '5', '5': '6', '6': '7', '7': '8', '8': '9', '9': '0', '0': '9',
}

// visualPartner is a look-alike replacement for the short-name rule.
var visualPartner = map[rune]rune{'i': 'l', 'l': 'i', 'c': 'e', 'e': 'c', 'b': 'd', 'd': 'b', 'n': 'm', 'm': 'n', 'u': 'v', 'g': 'q', 'q': 'g', 's': '5', '5': 's', 'h': 'b', 'a': 'o', 'o': 'a'}

type variant struct {
	class, domain string
	min           int // lowest confidence that counts as firing
}

// twist generates dnstwist-style look-alikes of the name label registered
// under suffix (the brand's own suffix, or a foreign one for a name that is
// a subdomain label of its brand). Classes a name's length rules out are
// not generated: edit distance needs four characters, and four- or
// five-character names fire only on disguising edits.
func twist(label, suffix, next string, greek bool) []variant {
	r := []rune(label)
	n := len(r)
	var out []variant
	add := func(class string, name []rune, s string, min int) {
		if string(name) != label && len(name) > 0 {
			out = append(out, variant{class, string(name) + "." + s, min})
		}
	}
	with := func(i int, x rune) []rune { c := slices.Clone(r); c[i] = x; return c }
	long, careful := n > carefulToken, n >= shortToken && n <= carefulToken
	// Homoglyph (Cyrillic or Greek letter, or a digit for a letter).
	for i, c := range r {
		if hs := homoglyphs[c]; len(hs) > 0 {
			h := hs[0]
			if greek && len(hs) > 1 {
				h = hs[1]
			}
			add("homoglyph", with(i, h), suffix, confSkeleton)
			break
		}
	}
	for i, c := range r {
		switch c {
		case 'o':
			add("homoglyph-digit", with(i, '0'), suffix, confSkeleton)
		case 'l':
			add("homoglyph-digit", with(i, '1'), suffix, confSkeleton)
		case '1':
			add("homoglyph-digit", with(i, 'l'), suffix, confSkeleton)
		}
	}
	// Full-width letters: IDNA maps them to ASCII, so they matter on another TLD.
	fw := make([]rune, n)
	for i, c := range r {
		fw[i] = c
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			fw[i] = c - 0x20 + 0xFF00
		}
	}
	add("fullwidth", fw, "top", confTLDSwap)
	for _, tld := range []string{"top", "xyz", "vip"} {
		out = append(out, variant{"tld-swap", label + "." + tld, confTLDSwap})
	}
	out = append(out,
		variant{"subdomain", label + "." + suffix + ".evil.top", confSubdomain},
		variant{"subdomain", "www." + label + ".secure-login.top", confSubdomain},
		variant{"subdomain", label + ".com-secure.xyz", confSubdomain},
	)
	if next != "" {
		out = append(out, variant{"subdomain", label + "-" + next + ".top", confSubdomain})
	}
	if n < shortToken {
		return out
	}
	out = append(out,
		variant{"combosquat", label + "-login.xyz", confCombo},
		variant{"combosquat", "secure-" + label + ".com", confCombo},
		variant{"combosquat", label + "vip.top", confCombo},
	)
	for i := 0; i+1 < n; i++ {
		if r[i] != r[i+1] {
			c := slices.Clone(r)
			c[i], c[i+1] = c[i+1], c[i]
			add("transposition", c, suffix, confEdit)
		}
	}
	for i := 1; i < n; i++ {
		add("hyphenation", slices.Concat(r[:i], []rune{'-'}, r[i:]), suffix, confEdit)
	}
	add("repetition", append(slices.Clone(r), r[n-1]), suffix, confEdit)
	if careful {
		for i, c := range r {
			if p, ok := visualPartner[c]; ok {
				add("replacement-visual", with(i, p), suffix, confEdit)
			}
		}
	}
	if !long {
		return out
	}
	add("addition", append(slices.Clone(r), 'x'), suffix, confEdit)
	for i := range r {
		add("omission", slices.Concat(r[:i], r[i+1:]), suffix, confEdit)
	}
	for i, c := range r {
		if k, ok := keyboardNeighbour[c]; ok {
			add("replacement", with(i, k), suffix, confEdit)
		}
	}
	for i, c := range r {
		if strings.ContainsRune("aeiou", c) {
			for _, v := range "aeiou" {
				if v != c {
					add("vowel-swap", with(i, v), suffix, confEdit)
				}
			}
		}
	}
	return out
}

// brandVariants generates look-alikes of every default brand name.
func brandVariants() map[string][]variant {
	out := map[string][]variant{}
	for i, d := range defaultBrands {
		h := hostFields(d)
		reg, suffix, _ := strings.Cut(h.etld1, ".")
		next, _, _ := strings.Cut(suffix, ".")
		out[d] = append(out[d], twist(reg, suffix, next, i%2 == 1)...)
	}
	// weixin is a subdomain label of weixin.qq.com: its look-alikes live
	// under other registrable domains.
	out["weixin.qq.com"] = twist("weixin", "com", "qq", false)
	out["citicbank.com"] = append(out["citicbank.com"], twist("citic", "com.cn", "", false)...)
	return out
}

func TestLookalikesOfDefaultBrandsFire(t *testing.T) {
	c, err := NewChecker(Config{})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	classes := map[string]int{}
	for brand, vs := range brandVariants() {
		for _, v := range vs {
			total++
			classes[v.class]++
			for _, text := range []string{
				"【通知】您的账户异常，请登录 https://" + v.domain + "/verify 处理",
				"请登录" + v.domain + "/verify处理",
			} {
				us := Extract(text, nil)
				if len(us) != 1 {
					t.Errorf("%s %s: extracted %q from %q", brand, v.class, raws(us), text)
					continue
				}
				sigs := c.Check(us[0])
				if !slices.ContainsFunc(sigs, func(s Signal) bool {
					return s.Kind == KindLookalike && s.Brand == brand && s.Confidence >= v.min
				}) {
					t.Errorf("%s %s %s (host %s): want lookalike >= %d, got %+v", brand, v.class, v.domain, us[0].Host, v.min, sigs)
				}
			}
		}
	}
	t.Logf("%d variants: %v", total, classes)
	for _, class := range []string{"addition", "omission", "transposition", "replacement", "homoglyph", "fullwidth", "hyphenation", "subdomain", "tld-swap", "vowel-swap", "combosquat", "repetition"} {
		if classes[class] == 0 {
			t.Errorf("no %s variants generated", class)
		}
	}
}

func TestNearMissesDoNotFire(t *testing.T) {
	c, err := NewChecker(Config{Shorteners: true, Punycode: true, AllowDomains: []string{"icbc-partner.com"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{
		// The brands' own domains and subdomains.
		"icbc.com.cn", "www.icbc.com.cn", "mybank.icbc.com.cn", "weixin.qq.com", "mp.weixin.qq.com",
		"qq.com", "mail.qq.com", "www.hsbc.com.hk", "www.95516.com", "sfc.hk", "www.hkma.gov.hk",
		"www.csrc.gov.cn", "bochk.com", "www.alipay.com", "render.alipay.com", "pay.weixin.qq.com",
		// Other domains the default brands run.
		"hsbc.com", "www.hsbc.co.uk", "bankofchina.com", "alipayobjects.com", "citic.com",
		// Unrelated domains.
		"github.com", "google.com", "baidu.com", "taobao.com", "jd.com", "sina.com.cn", "163.com",
		"wikipedia.org", "microsoft.com", "apple.com", "bloomberg.com", "reuters.com", "hkex.com.hk",
		"info.gov.hk", "hkjc.com", "alibaba.com", "aliyun.com", "tencent.com", "weibo.com",
		"boci.com.hk", "example.org", "cmbi.com.hk",
		// Neighbours one edit from a short brand name (see carefulToken).
		"ocbc.com", "icac.org.hk", "hkmu.edu.hk", "spdx.org", "csrf.org", "pabc.com",
		// Names of fewer than four characters never fire on edit distance.
		"qa.com", "q-q.com", "obc.com", "cbi.com.cn", "ccd.com", "sfx.com", "qqmusic.com", "bocom.com",
		// Allow-listed, with a subdomain.
		"icbc-partner.com", "login.icbc-partner.com",
	} {
		for _, text := range []string{"see https://" + d + "/x ok", "登录" + d + "/x谢谢"} {
			us := Extract(text, nil)
			if len(us) != 1 {
				t.Errorf("extracted %q from %q", raws(us), text)
				continue
			}
			if sigs := c.Check(us[0]); len(sigs) > 0 {
				t.Errorf("%s: want no signals, got %+v", d, sigs)
			}
		}
	}
}

func TestNotLinks(t *testing.T) {
	for _, text := range []string{
		"我在工行。icbc好的",              // a full stop followed by letters
		"好的。Alipay可以吗",             // likewise, before a brand name
		"联系service@icbc-login.xyz", // e-mail addresses are not links
		"mail to john.icbc@qq.com please",
	} {
		if us := Extract(text, nil); len(us) != 0 {
			t.Errorf("Extract(%q) = %q, want none", text, raws(us))
		}
	}
}

func TestLookalikeDetails(t *testing.T) {
	c, err := NewChecker(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ raw, method string }{
		{"https://ісbс.com.cn/", "skeleton:"},
		{"https://icbc.top/", "tld-swap:"},
		{"https://icbcc.com.cn/", "edit-distance:"},
		{"https://icbc-login.xyz/", "combosquat:"},
		{"https://icbc.com.cn.evil.top/", "subdomain:"},
		{"https://icbc-com-cn.top/", "subdomain:"},
		{"http://icbc.com.cn@evil.top/", "userinfo:"},
	} {
		sigs := c.Check(Parse(tc.raw))
		if len(sigs) == 0 || !strings.HasPrefix(sigs[0].Detail, tc.method) || sigs[0].Brand != "icbc.com.cn" {
			t.Errorf("%s: want %s from icbc.com.cn first, got %+v", tc.raw, tc.method, sigs)
		}
	}
}

func ExampleChecker_Check() {
	c, _ := NewChecker(Config{Punycode: true})
	for _, u := range Extract("【工商银行】您的积分即将清零，请登录 https://ісbс.com.cn/jf 兑换", nil) {
		for _, s := range c.Check(u) {
			fmt.Printf("%s %d %q\n", s.Kind, s.Confidence, s.Brand)
		}
	}
	// Output:
	// lookalike 90 "icbc.com.cn"
	// mixed-script 85 ""
	// punycode 60 ""
}

package link

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func raws(us []URL) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.Raw)
	}
	return out
}

func TestExtract(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string // Raw of each link
		hosts      []string // Host of each link, when checked
	}{
		{"scheme", "visit http://example.com/path?q=1. thanks", []string{"http://example.com/path?q=1"}, []string{"example.com"}},
		{"scheme upper case", "HTTPS://Example.COM/X", []string{"HTTPS://Example.COM/X"}, []string{"example.com"}},
		{"bare in chinese", "请访问icbc-login.xyz领取奖励", []string{"icbc-login.xyz"}, []string{"icbc-login.xyz"}},
		{"bare with path", "点这里t.cn/A6abc然后", []string{"t.cn/A6abc"}, []string{"t.cn"}},
		{"bare all caps", "GO TO ICBC-LOGIN.XYZ NOW", []string{"ICBC-LOGIN.XYZ"}, []string{"icbc-login.xyz"}},
		{"not a tld", "hello.world and foo.thanks", nil, nil},
		{"www makes any suffix a link", "see www.hello.world!", []string{"www.hello.world"}, nil},
		{"sentence missing a space", "I went there.It was fine.So what", nil, nil},
		{"file names", "open readme.md and main.go or setup.sh", nil, nil},
		{"path is not a host", "edit docs/readme.com now", nil, nil},
		{"numbers", "version 1.2.3 costs 3.14 or 1.5倍 at 192.168.1.1", nil, nil},
		{"abbreviations", "e.g. this, i.e. that, at 9 a.m. sharp", nil, nil},
		{"chinese full stop then letters", "我知道了。OK谢谢。Thanks！好。abc", nil, nil},
		{"chinese full stop after link", "网站是icbc-login.xyz。谢谢", []string{"icbc-login.xyz"}, nil},
		{"full-width dot evasion", "登录icbc-login。xyz领取", []string{"icbc-login。xyz"}, []string{"icbc-login.xyz"}},
		{"full-width dot U+FF0E", "登录icbc-login．xyz/a领取", []string{"icbc-login．xyz/a"}, []string{"icbc-login.xyz"}},
		{"full-width letters", "登录ｉｃｂｃ-login.xyz", []string{"ｉｃｂｃ-login.xyz"}, []string{"icbc-login.xyz"}},
		{"zero-width space in host", "ic\u200bbc-login.xyz", []string{"ic\u200bbc-login.xyz"}, []string{"icbc-login.xyz"}},
		{"cyrillic host", "ісbс.com.cn 登录", []string{"ісbс.com.cn"}, []string{"xn--b-6tbb5f.com.cn"}},
		{"email", "mail john.doe@icbc.com.cn or service@icbc-login.xyz", nil, nil},
		{"mailto", "mailto:a@b.com", nil, nil},
		{"brackets", "(see x.com) [y.com]", []string{"x.com", "y.com"}, nil},
		{"balanced parens", "wiki https://en.wikipedia.org/wiki/Foo_(bar)) end", []string{"https://en.wikipedia.org/wiki/Foo_(bar)"}, nil},
		{"markdown", "[link](https://a.com/x)", []string{"https://a.com/x"}, nil},
		{"quotes", "\"https://a.com/x\" and “https://b.com/y”", []string{"https://a.com/x", "https://b.com/y"}, nil},
		{"chinese punctuation", "网址：https://a.com/x，谢谢", []string{"https://a.com/x"}, nil},
		{"cjk ends path", "https://zh.wikipedia.org/wiki/银行 and https://a.com/p。然后", []string{"https://zh.wikipedia.org/wiki/", "https://a.com/p"}, nil},
		{"two joined by comma", "https://x.com,https://y.com", []string{"https://x.com", "https://y.com"}, nil},
		{"comma list", "a,b.com;c.cn", []string{"b.com", "c.cn"}, nil},
		{"scheme glued to word", "xhttps://x.com/a", []string{"https://x.com/a"}, nil},
		{"label before scheme", "url:http://x.com", []string{"http://x.com"}, nil},
		{"userinfo", "http://icbc.com.cn@evil.top/login", []string{"http://icbc.com.cn@evil.top/login"}, []string{"evil.top"}},
		{"ipv4 with scheme", "http://192.168.1.1/admin", []string{"http://192.168.1.1/admin"}, []string{"192.168.1.1"}},
		{"bare ipv4 with port", "open 10.0.0.1:8080/x now", []string{"10.0.0.1:8080/x"}, []string{"10.0.0.1"}},
		{"bare ipv4 with path", "open 10.0.0.1/admin now", []string{"10.0.0.1/admin"}, nil},
		{"numbers with slashes", "rated 3.5/5, 1.2#3, 10.0.0.0/8 and 0x7f.1/x", nil, nil},
		{"obfuscated ipv4", "http://0x7f.1/", []string{"http://0x7f.1/"}, []string{"127.0.0.1"}},
		{"ipv6", "http://[::1]:8080/x", []string{"http://[::1]:8080/x"}, []string{"::1"}},
		{"port", "x.com:8080/abc and y.com:", []string{"x.com:8080/abc", "y.com"}, nil},
		{"trailing dots", "icbc.com.cn. and www.icbc.com.cn。", []string{"icbc.com.cn", "www.icbc.com.cn"}, nil},
		{"scheme alone", "http:// and https://.", nil, nil},
		{"percent host", "http://%69cbc.com.cn/", []string{"http://%69cbc.com.cn/"}, []string{"icbc.com.cn"}},
		{"underscore host", "http://my_host.example.com/", []string{"http://my_host.example.com/"}, []string{"my_host.example.com"}},
		{"public suffix only", "com.cn and co.uk", nil, nil},
		{"redirect inside bare link", "x.com/r?u=http://y.com", []string{"x.com/r?u=http://y.com"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Extract(tc.text, nil)
			if fmt.Sprint(raws(got)) != fmt.Sprint(tc.want) {
				t.Fatalf("Extract(%q) = %q, want %q", tc.text, raws(got), tc.want)
			}
			for i, u := range got {
				if tc.text[u.Start:u.End] != u.Raw {
					t.Errorf("text[%d:%d] = %q, Raw %q", u.Start, u.End, tc.text[u.Start:u.End], u.Raw)
				}
				if tc.hosts != nil && u.Host != tc.hosts[i] {
					t.Errorf("%q: Host = %q, want %q", u.Raw, u.Host, tc.hosts[i])
				}
			}
		})
	}
}

func TestExtractFields(t *testing.T) {
	got := Extract("登录 https://WWW.ісbс.com.cn/x", nil)
	if len(got) != 1 {
		t.Fatalf("got %d links", len(got))
	}
	u := got[0]
	if u.Host != "www.xn--b-6tbb5f.com.cn" || u.Display != "www.ісbс.com.cn" || u.ETLD1 != "xn--b-6tbb5f.com.cn" {
		t.Fatalf("fields %+v", u)
	}
	ip := Extract("http://1.2.3.4/", nil)[0]
	if ip.ETLD1 != "" || ip.Host != "1.2.3.4" {
		t.Fatalf("ip fields %+v", ip)
	}
}

func TestExtractAppendsAndBounds(t *testing.T) {
	out := make([]URL, 1, 8)
	out = Extract("a x.com b", out)
	if len(out) != 2 || out[1].Raw != "x.com" {
		t.Fatalf("append: %+v", out)
	}
	var b strings.Builder
	for i := range 200 {
		fmt.Fprintf(&b, "d%d.com ", i)
	}
	if got := Extract(b.String(), nil); len(got) != MaxLinks {
		t.Fatalf("got %d links, want MaxLinks=%d", len(got), MaxLinks)
	}
	// One long run of link characters is one pass: a URL that never ends
	// is reported once, cut; a host longer than DNS allows is no link.
	for _, tc := range []struct {
		unit string
		n    int
	}{{"http://", 1}, {"http://a.com/(", 1}, {"ab.cd", 0}, {"ісbс.", 0}} {
		if got := Extract(strings.Repeat(tc.unit, 100000), nil); len(got) != tc.n {
			t.Errorf("%q repeated: %d links, want %d", tc.unit, len(got), tc.n)
		}
	}
	long := "https://x.com/" + strings.Repeat("a", 10000)
	if got := Extract(long, nil); len(got) != 1 || len(got[0].Raw) > maxURLLen+len("https://") {
		t.Fatalf("long URL: %d links, first %d bytes", len(got), len(got[0].Raw))
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct{ raw, host, etld1 string }{
		{"https://mp.weixin.qq.com/s/abc", "mp.weixin.qq.com", "qq.com"},
		{"icbc.com.cn/path", "icbc.com.cn", "icbc.com.cn"},
		{"//cdn.example.org/x.js", "cdn.example.org", "example.org"},
		{"HTTP://User:pw@Example.COM:8080/", "example.com", "example.com"},
		{"weixin://dl/business", "dl", ""},
		{"http://[::1]/", "::1", ""},
		{"", "", ""},
		{"http://", "", ""},
	} {
		u := Parse(tc.raw)
		if u.Host != tc.host || u.ETLD1 != tc.etld1 || u.Raw != tc.raw || u.End != len(tc.raw) {
			t.Errorf("Parse(%q) = %+v, want host %q etld1 %q", tc.raw, u, tc.host, tc.etld1)
		}
	}
}

func checkOffsets(t *testing.T, text string, got []URL) {
	t.Helper()
	if len(got) > MaxLinks {
		t.Fatalf("%d links > MaxLinks", len(got))
	}
	// Rune boundaries as decoding sees them: a stray continuation byte in
	// invalid UTF-8 is a rune of its own.
	boundary := map[int]bool{len(text): true}
	for i := range text {
		boundary[i] = true
	}
	prev := 0
	for _, u := range got {
		if u.Start < prev || u.Start >= u.End || u.End > len(text) {
			t.Fatalf("bad offsets [%d,%d) after %d in %d bytes", u.Start, u.End, prev, len(text))
		}
		if text[u.Start:u.End] != u.Raw {
			t.Fatalf("text[%d:%d] != Raw %q", u.Start, u.End, u.Raw)
		}
		if !boundary[u.Start] || !boundary[u.End] {
			t.Fatalf("[%d,%d) not on rune boundaries in %q", u.Start, u.End, text)
		}
		prev = u.End
	}
}

func FuzzExtract(f *testing.F) {
	for _, s := range []string{
		"请访问icbc-login.xyz领取", "http://ісbс.com.cn/login?x=1.", "t.cn/abc", "a@b.com",
		"我知道了。OK", "icbc-login。xyz。", "(https://a.com/x_(y))", "http://[::1]:80/",
		"x.com:8080/a", "http://0x7f.1/", "\xe3\x80", "a.\xef\xbc", ".。．｡", "xhttps://",
		"https://x.com,https://y.com", "ｉｃｂｃ.com", "a\u200b.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Extract(s, nil)
		checkOffsets(t, s, got)
	})
}

// chatCorpus builds about size bytes of mixed Chinese and English chat with
// linksPerKB links every kilobyte.
func chatCorpus(size int, linksPerKB float64) string {
	rng := rand.New(rand.NewPCG(1, 2))
	lines := []string{
		"客户说这个产品保证收益，稳赚不赔。",
		"請加我私人微信，明天再聊。",
		"Please review the Q3 report before the meeting.",
		"佢哋唔係講笑，今日收市前要決定。",
		"The client asked about the fund's risk rating, 3.5% fee.",
		"好的，我知道了。Thanks!",
		"会议改到下午3点，地点：22楼。",
		"FYI the settlement is T+2, e.g. Monday to Wednesday.",
	}
	links := []string{
		"https://www.icbc.com.cn/page/1.html", "t.cn/A6xYz", "icbc-login.xyz",
		"https://mp.weixin.qq.com/s/AbCdEf", "http://ісbс.com.cn/login", "www.hsbc.com.hk",
		"https://example.com/r?url=https%3A%2F%2Fevil.top", "bit.ly/3abcd",
	}
	var b strings.Builder
	b.Grow(size + 256)
	next := 0.0
	for b.Len() < size {
		b.WriteString(lines[rng.IntN(len(lines))])
		if linksPerKB > 0 && float64(b.Len()) >= next {
			b.WriteString(" ")
			b.WriteString(links[rng.IntN(len(links))])
			b.WriteString(" ")
			next += 1024 / linksPerKB
		}
	}
	return b.String()
}

func BenchmarkExtract(b *testing.B) {
	for _, bc := range []struct {
		name   string
		perKB  float64
		expect int
	}{
		{"links=3perKB", 3, 0},
		{"links=1per64KB", 1.0 / 64, 0},
		{"links=none", 0, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			text := chatCorpus(1<<20, bc.perKB)
			out := make([]URL, 0, MaxLinks)
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				// One message is bounded by MaxLinks; the corpus stands for
				// many messages, so scan it in 4 KiB messages.
				for off := 0; off < len(text); {
					end := min(off+4096, len(text))
					for end < len(text) && !utf8.RuneStart(text[end]) {
						end++
					}
					out = Extract(text[off:end], out[:0])
					off = end
				}
			}
		})
	}
}

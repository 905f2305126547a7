package link

import "testing"

func TestShortener(t *testing.T) {
	for _, tc := range []struct{ host, want string }{
		{"t.cn", "t.cn"},
		{"url.cn", "url.cn"},
		{"w.url.cn", "url.cn"},
		{"bit.ly", "bit.ly"},
		{"maps.app.goo.gl", "goo.gl"},
		{"m.tb.cn", "tb.cn"},
		{"v.douyin.com", "v.douyin.com"},
		{"douyin.com", ""},
		{"cn", ""},
		{"example.com", ""},
		{"notbit.ly", ""},
	} {
		if got := shortener(tc.host); got != tc.want {
			t.Errorf("shortener(%q) = %q, want %q", tc.host, got, tc.want)
		}
	}
}

func TestDefaultShortenersAreCanonicalHosts(t *testing.T) {
	seen := map[string]bool{}
	for _, h := range DefaultShorteners() {
		if f := hostFields(h); f.host != h || f.etld1 == "" {
			t.Errorf("shortener %q is not a canonical registrable host (%+v)", h, f)
		}
		if seen[h] {
			t.Errorf("shortener %q listed twice", h)
		}
		seen[h] = true
	}
	for _, must := range []string{"t.cn", "url.cn", "dwz.cn", "suo.im", "bit.ly", "tinyurl.com", "t.co", "ow.ly", "is.gd", "rebrand.ly", "cutt.ly", "s.id", "rb.gy", "shorturl.at", "goo.gl"} {
		if !seen[must] {
			t.Errorf("%s missing from the default shorteners", must)
		}
	}
}

func TestOpenRedirect(t *testing.T) {
	for _, tc := range []struct {
		raw           string
		param, target string
	}{
		{"https://x.com/r?url=https://evil.top/a", "url", "https://evil.top/a"},
		{"https://x.com/r?a=1&target=http%3A%2F%2Fevil.top", "target", "http://evil.top"},
		{"https://x.com/oauth?client_id=1&redirect_uri=https%253A%252F%252Fevil.top%252F", "redirect_uri", "https://evil.top/"},
		{"https://x.com/#/login?redirect=//evil.top/x", "redirect", "//evil.top/x"},
		{"https://x.com/r?URL=HTTPS://evil.top", "URL", "HTTPS://evil.top"},
		{"https://x.com/r?url=/local/path", "", ""},
		{"https://x.com/r?url=", "", ""},
		{"https://x.com/r?text=https://evil.top", "", ""},
		{"https://x.com/r?url=///evil", "", ""},
		{"https://x.com/path", "", ""},
	} {
		param, target, ok := openRedirect(tc.raw)
		if param != tc.param || target != tc.target || ok != (tc.param != "") {
			t.Errorf("openRedirect(%q) = %q %q %v, want %q %q", tc.raw, param, target, ok, tc.param, tc.target)
		}
	}
}

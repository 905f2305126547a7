package link

import (
	"net/url"
	"strings"
)

// defaultShorteners are hosts that forward to a destination the reader
// cannot see: public URL shorteners, Chinese platforms' share-link domains
// and link-in-bio hubs [recalled; research notes §6]. A subdomain of a
// listed host counts too (maps.app.goo.gl). They are risk context, not a
// finding on their own: the policy decides what fires, and nothing here
// resolves them.
var defaultShorteners = []string{
	// Mainland China.
	"t.cn",        // Weibo
	"url.cn",      // Tencent (w.url.cn is covered as a subdomain)
	"dwz.cn",      // Baidu
	"suo.im",      // 缩我
	"tb.cn",       // Taobao share links (m.tb.cn)
	"u.jd.com",    // JD
	"xhslink.com", // Xiaohongshu share links
	"v.douyin.com",
	"b23.tv", // Bilibili
	// Taiwan and Hong Kong.
	"reurl.cc", "pse.is", "ppt.cc", "0rz.tw", "lihi.cc", "lihi1.cc",
	// International.
	"bit.ly", "bitly.com", "j.mp", "tinyurl.com", "tiny.one", "t.co", "ow.ly", "buff.ly",
	"is.gd", "v.gd", "rebrand.ly", "cutt.ly", "s.id", "rb.gy", "shorturl.at", "goo.gl",
	"g.co", "forms.gle", "tiny.cc", "bl.ink", "t.ly", "bit.do", "lnkd.in", "fb.me",
	"amzn.to", "youtu.be", "aka.ms", "apple.co", "wp.me", "dlvr.it", "ift.tt", "trib.al",
	"snip.ly", "clck.ru", "kutt.it", "t2m.io", "qrco.de", "shorte.st", "adf.ly", "ouo.io",
	"bc.vc", "soo.gd", "urlz.fr", "linktr.ee",
}

var shortenerSet = func() map[string]bool {
	m := make(map[string]bool, len(defaultShorteners))
	for _, h := range defaultShorteners {
		m[h] = true
	}
	return m
}()

// DefaultShorteners returns the hosts Check treats as URL shorteners.
func DefaultShorteners() []string {
	return append([]string(nil), defaultShorteners...)
}

// shortener returns the listed shortener host serves, or "".
func shortener(host string) string {
	found := ""
	parentDomains(host, func(d string) bool {
		if shortenerSet[d] {
			found = d
			return false
		}
		return true
	})
	return found
}

// redirectParams are query parameters that carry a destination in open
// redirects and login flows.
var redirectParams = map[string]bool{
	"url": true, "u": true, "q": true, "target": true, "redirect": true, "redirect_uri": true,
	"redirect_url": true, "redirecturl": true, "redirecturi": true, "redir": true, "return": true,
	"returnurl": true, "return_url": true, "returnto": true, "return_to": true, "next": true,
	"goto": true, "go": true, "dest": true, "destination": true, "continue": true, "to": true,
	"out": true, "link": true, "jump": true, "jumpurl": true, "jump_url": true, "forward": true,
	"service": true, "callback_url": true, "ref_url": true,
}

// openRedirect finds a redirect parameter of raw whose value is an absolute
// http(s) URL, after up to three rounds of percent-decoding (redirectors
// nest escapes). Both the query and a query inside the fragment count,
// since single-page apps route "#/login?redirect=".
func openRedirect(raw string) (param, target string, ok bool) {
	q := strings.IndexByte(raw, '?')
	if q < 0 {
		return "", "", false
	}
	for pair := range strings.FieldsFuncSeq(raw[q+1:], func(r rune) bool { return r == '&' || r == ';' || r == '#' || r == '?' }) {
		key, value, found := strings.Cut(pair, "=")
		if !found || value == "" {
			continue
		}
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
		if !redirectParams[strings.ToLower(key)] {
			continue
		}
		for range 3 {
			if absoluteURL(value) {
				return key, value, true
			}
			d, err := url.QueryUnescape(value)
			if err != nil || d == value {
				break
			}
			value = d
		}
		if absoluteURL(value) {
			return key, value, true
		}
	}
	return "", "", false
}

// absoluteURL reports whether s starts with http://, https:// or // (any
// case), the forms a browser follows to another site.
func absoluteURL(s string) bool {
	return schemeAt(s, 0) > 0 || strings.HasPrefix(s, "//") && len(s) > 2 && s[2] != '/'
}

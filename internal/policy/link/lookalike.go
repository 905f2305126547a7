package link

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/vigil-operator/vigil/internal/policy/normalize"
)

// Look-alike confidences, from the research notes (§6): a disguise that
// reads exactly as the brand is the strongest sign; the brand's domain put
// in front of someone else's is next; a near spelling, the brand plus a
// word, and the brand name on another TLD are medium.
const (
	confSkeleton  = 90
	confSubdomain = 85
	confEdit      = 75
	confCombo     = 70
	confTLDSwap   = 70
)

// shortToken is the length below which a brand name fires only on an exact
// skeleton match or a subdomain trick: qq, boc, cib, ccb and sfc are one edit
// away from thousands of unrelated names.
const shortToken = 4

// carefulToken is the length up to which a single edit must look like a
// disguise to count: a transposition, a doubled letter or a swap of
// look-alike letters. Any single edit of a four- or five-letter name hits
// real neighbours: icbc/ocbc (another bank), hkma/hkmu (a university),
// icbc/icac (Hong Kong's anti-corruption body). Links in chat are read, not
// typed, so keyboard-slip typos matter less than visual ones.
const carefulToken = 5

// brand is one protected domain.
type brand struct {
	domain string // as configured, ASCII
	etld1  string
	skel   string // skeleton of domain, for a whole-host match
	e1skel string // skeleton of etld1
}

// brandToken is one name a brand is known by: the label of its registrable
// domain (icbc of icbc.com.cn) or a distinctive subdomain label (weixin of
// weixin.qq.com).
type brandToken struct {
	text    string // ASCII, as in the brand's domain
	skel    string // domainSkeleton
	letters string // letterSkeleton
	runes   []rune // letters as runes
	next    string // the label after the token in the brand's domain ("com" in icbc.com.cn)
	hyphens string // letters + "-" + next: the brand's domain spelled with a hyphen
	brand   *brand
	// registrable is set for the label of the brand's registrable domain:
	// when two brands share a name, the one registered under it keeps it.
	registrable bool
}

// letterSkeleton extends normalize.Skeleton with the digit folds that
// matter in domain names but not in chat text: 0 and 1 read as o and l.
// Edit distance and brand-plus-word tests compare in this form.
func letterSkeleton(s string) string {
	k := s
	if !lowerASCII(s) {
		k = normalize.Skeleton(s)
	}
	if !strings.ContainsAny(k, "01") {
		return k
	}
	b := []byte(k)
	for i, c := range b {
		switch c {
		case '0':
			b[i] = 'o'
		case '1':
			b[i] = 'l'
		}
	}
	return string(b)
}

// lowerASCII reports whether s has no upper-case or non-ASCII letters, so
// that normalize.Skeleton would return it unchanged (hosts usually are).
func lowerASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || c >= 'A' && c <= 'Z' {
			return false
		}
	}
	return true
}

// domainSkeleton is letterSkeleton with the letter pairs rn, vv and cl read
// as m, w and d (UTS 39 confusables; dnstwist's homoglyph set). Only
// equality is tested in this form: the pair folds would distort edit
// distances (trnpay would be two edits from tenpay, not one).
func domainSkeleton(s string) string {
	k := letterSkeleton(s)
	if !strings.Contains(k, "rn") && !strings.Contains(k, "vv") && !strings.Contains(k, "cl") {
		return k
	}
	b := make([]byte, 0, len(k))
	for i := 0; i < len(k); i++ {
		c := k[i]
		if i+1 < len(k) {
			switch p := k[i : i+2]; p {
			case "rn", "vv", "cl":
				b = append(b, "mwd"[strings.Index("rnvvcl", p)/2])
				i++
				continue
			}
		}
		b = append(b, c)
	}
	return string(b)
}

// maxEdits is the edit distance that counts as a look-alike of a name of n
// characters: 1 up to 8, 2 beyond, 0 (none) for short names.
func maxEdits(n int) int {
	switch {
	case n < shortToken:
		return 0
	case n <= 8:
		return 1
	}
	return 2
}

// osaDistance is the optimal-string-alignment Damerau–Levenshtein distance
// of a and b (insertions, deletions, substitutions, adjacent
// transpositions), or bound+1 once it is known to exceed bound.
func osaDistance(a, b []rune, bound int) int {
	la, lb := len(a), len(b)
	if la-lb > bound || lb-la > bound {
		return bound + 1
	}
	const limit = 64
	if la >= limit || lb >= limit {
		return bound + 1
	}
	var rows [3][limit]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= lb; j++ {
		prev[j] = j
	}
	for i := 1; i <= la; i++ {
		cur[0] = i
		rowMin := i
		for j := 1; j <= lb; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, prev2[j-2]+1)
			}
			cur[j] = d
			rowMin = min(rowMin, d)
		}
		if rowMin > bound {
			return bound + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[lb], bound+1)
}

// visualPairs are letters and digits that pass for each other at a glance
// in a URL bar or a chat bubble (after domainSkeleton has folded 0 and 1).
var visualPairs = func() map[[2]rune]bool {
	m := map[[2]rune]bool{}
	for _, p := range strings.Fields("il ij lj ce co eo ao uv vy nm nh nr bd bh b6 pq gq g9 q9 s5 z2 tf uw mw") {
		r := []rune(p)
		m[[2]rune{r[0], r[1]}] = true
		m[[2]rune{r[1], r[0]}] = true
	}
	return m
}()

// disguisingEdit reports whether got is one edit from want in a way a reader
// would miss: two adjacent letters swapped, a letter doubled, a hyphen
// inserted, or a letter replaced by a look-alike. It is the filter for short names (see
// carefulToken).
func disguisingEdit(want, got []rune) bool {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	switch len(got) - len(want) {
	case 0:
		if i+1 < len(want) && want[i] == got[i+1] && want[i+1] == got[i] && string(want[i+2:]) == string(got[i+2:]) {
			return true // transposition
		}
		return i < len(want) && string(want[i+1:]) == string(got[i+1:]) && visualPairs[[2]rune{want[i], got[i]}]
	case 1:
		// got[i] was inserted; it counts when it doubles a neighbour or is
		// a hyphen (i-cbc).
		return string(want[i:]) == string(got[i+1:]) &&
			(got[i] == '-' || i > 0 && got[i] == got[i-1] || i+1 < len(got) && got[i] == got[i+1])
	}
	return false
}

// hostView is a checked host cut into the pieces the look-alike tests read.
type hostView struct {
	skel     string   // skeleton of the whole host, without a leading www.
	e1skel   string   // skeleton of the registrable domain
	regASCII string   // registrable label as written in ASCII ("xn--..." for IDN)
	regSkel  string   // its skeleton, from the Unicode form
	regLtrs  string   // its letter skeleton
	regRunes []rune   // regLtrs as runes
	regShown string   // registrable label in Unicode, for details
	e1Shown  string   // registrable domain in Unicode, for details
	subSkels []string // skeletons of the labels left of the registrable one
	subLtrs  []string // and their letter skeletons
}

// newHostView cuts u's host; ok is false for hosts without a registrable
// domain (IPs, bare suffixes), which no brand can be imitated under.
func newHostView(u URL) (hostView, bool) {
	if u.ETLD1 == "" || u.Host == "" {
		return hostView{}, false
	}
	ascii := labels(u.Host)
	disp := ascii
	if u.Display != u.Host {
		if d := labels(u.Display); len(d) == len(ascii) {
			disp = d
		}
	}
	reg := len(ascii) - strings.Count(u.ETLD1, ".") - 1
	if reg < 0 {
		return hostView{}, false
	}
	v := hostView{regASCII: ascii[reg], regShown: disp[reg], e1Shown: strings.Join(disp[reg:], ".")}
	v.regLtrs = letterSkeleton(disp[reg])
	v.regSkel = domainSkeleton(v.regLtrs)
	v.regRunes = []rune(v.regLtrs)
	for _, l := range disp[:reg] {
		ls := letterSkeleton(l)
		v.subLtrs = append(v.subLtrs, ls)
		v.subSkels = append(v.subSkels, domainSkeleton(ls))
	}
	d := u.Display
	if len(disp) == len(ascii) && len(ascii) > 2 && ascii[0] == "www" {
		d = d[strings.IndexByte(d, '.')+1:]
	}
	v.skel = domainSkeleton(d)
	v.e1skel = domainSkeleton(v.e1Shown)
	return v, true
}

// hit is one look-alike finding before it becomes a Signal.
type hit struct {
	conf   int
	detail string
}

// raise keeps the finding if it is stronger than the one held; the detail
// is formatted only then.
func (h *hit) raise(conf int, format string, args ...any) {
	if conf > h.conf {
		h.conf, h.detail = conf, fmt.Sprintf(format, args...)
	}
}

// match rates how v imitates the brand named by t. The caller has already
// ruled out the brand's own domains.
func (t *brandToken) match(v *hostView, h *hit) {
	b := t.brand
	if v.skel == b.skel || v.e1skel == b.e1skel {
		h.raise(confSkeleton, "skeleton: %s reads as %s", v.e1Shown, b.domain)
	}
	short := len(t.runes) < shortToken
	switch {
	case v.regASCII == t.text:
		h.raise(confTLDSwap, "tld-swap: %s is %s under another suffix", v.e1Shown, t.text)
	case v.regSkel == t.skel:
		h.raise(confSkeleton, "skeleton: %s reads as %s", v.regShown, t.text)
	case !short:
		if bound := maxEdits(len(t.runes)); bound > 0 {
			d := osaDistance(v.regRunes, t.runes, bound)
			if d <= bound && (len(t.runes) > carefulToken || disguisingEdit(t.runes, v.regRunes)) {
				h.raise(confEdit, "edit-distance: %s is %d edit(s) from %s", v.regShown, d, t.text)
			}
		}
		if comboLabel(v.regLtrs, t.letters) {
			h.raise(confCombo, "combosquat: %s contains %s", v.regShown, t.text)
		}
	}
	// The brand's domain spelled with hyphens: icbc-com-cn.top.
	if t.hyphenSpelled(v.regLtrs) {
		h.raise(confSubdomain, "subdomain: %s spells %s.%s with a hyphen", v.regShown, t.text, t.next)
	}
	for i, s := range v.subSkels {
		ls := v.subLtrs[i]
		switch {
		case s == t.skel:
			h.raise(confSubdomain, "subdomain: %s as a subdomain of %s", t.text, v.e1Shown)
		case t.hyphenSpelled(ls):
			h.raise(confSubdomain, "subdomain: %s spells %s.%s with a hyphen", ls, t.text, t.next)
		case !short && comboLabel(ls, t.letters):
			h.raise(confCombo, "combosquat: subdomain %s contains %s", ls, t.text)
		}
	}
}

// hyphenSpelled reports whether label has the parts name and next one after
// the other, as in icbc-com-cn or secure-icbc-com.
func (t *brandToken) hyphenSpelled(label string) bool {
	if t.next == "" || !strings.Contains(label, t.hyphens) {
		return false
	}
	prev := ""
	for p := range strings.SplitSeq(label, "-") {
		if prev == t.letters && p == t.next {
			return true
		}
		prev = p
	}
	return false
}

// comboLabel reports whether a label is the brand name plus something else:
// a hyphen-separated part equal to it (icbc-login) or, for names long
// enough not to occur by chance, a substring (icbclogin, myalipay).
func comboLabel(label, name string) bool {
	if label == name || !strings.Contains(label, name) {
		return false
	}
	for p := range strings.SplitSeq(label, "-") {
		if p == name {
			return true
		}
	}
	return len(name) >= shortToken
}

// newBrandTokens compiles one brand domain (already canonical ASCII) into
// its names. aliases are extra names for the same brand (citic for
// citicbank.com).
func newBrandTokens(domain, etld1, display string, aliases []string) []brandToken {
	b := &brand{domain: domain, etld1: etld1, skel: domainSkeleton(strings.TrimPrefix(display, "www.")), e1skel: domainSkeleton(etld1)}
	if dl, el := labels(display), labels(etld1); len(dl) >= len(el) {
		b.e1skel = domainSkeleton(strings.Join(dl[len(dl)-len(el):], "."))
	}
	ascii := labels(domain)
	disp := labels(display)
	if len(disp) != len(ascii) {
		disp = ascii
	}
	reg := len(ascii) - strings.Count(etld1, ".") - 1
	var out []brandToken
	add := func(text, shown, next string, registrable bool) {
		if len(text) < 2 {
			return
		}
		letters, nextLetters := letterSkeleton(shown), letterSkeleton(next)
		out = append(out, brandToken{text: text, skel: domainSkeleton(letters), letters: letters, runes: []rune(letters),
			next: nextLetters, hyphens: letters + "-" + nextLetters, brand: b, registrable: registrable})
	}
	add(ascii[reg], disp[reg], disp[reg+1], true)
	for i := reg - 1; i >= 0; i-- {
		switch ascii[i] {
		case "www", "m", "wap", "mobile":
			continue
		}
		add(ascii[i], disp[i], disp[i+1], false)
	}
	for _, a := range aliases {
		add(a, a, "", false)
	}
	return out
}

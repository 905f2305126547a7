package detect

import (
	"math/bits"
	"unicode/utf8"
)

// Context keywords. Following Purview (research note §1.3) a keyword within
// 300 characters of a candidate raises a validated finding from 75 to 85
// and is required for detectors without a checksum. Unlike Presidio, whose
// default looks only backwards, we look both ways: Chinese puts the label
// after the value as often as before it (身份证号是… / …是我的身份证).
//
// Matching is by substring for CJK keywords, which suits Chinese where there
// are no word boundaries, and case-insensitive with word boundaries for Latin
// keywords, so "tel" does not fire inside "hotel".

// ctxGroup is a bitset of keyword lists; one keyword may serve several
// detectors (账号 is both a bank-card and an IBAN keyword).
type ctxGroup uint16

const (
	ctxID           ctxGroup = 1 << iota // PRC resident ID and permits
	ctxHKID                              // Hong Kong ID
	ctxTWID                              // Taiwan ID / ARC
	ctxMobile                            // phone numbers
	ctxCard                              // payment cards (boost)
	ctxBank                              // strong bank-account words (admit a Luhn-failing run)
	ctxIBAN                              // IBAN
	ctxSWIFT                             // SWIFT/BIC
	ctxUSCC                              // USCC
	ctxEmail                             // e-mail
	ctxCrypto                            // crypto addresses
	ctxPassport                          // any passport or travel permit
	ctxPassportOnly                      // passports proper (9-digit Taiwan passport numbers)
	ctxTWCompat                          // 台胞证 (8- or 10-digit numbers)
)

// ctxWindow is the proximity in characters, as in Purview's patternsProximity.
const ctxWindow = 300

// ctxWindowBytes bounds ctxWindow characters in UTF-8 (4 bytes each at most).
// Keyword hits farther than this from a candidate are never examined.
const ctxWindowBytes = ctxWindow * utf8.UTFMax

// keywordList is the raw table. Latin entries are lower case. Simplified and
// Traditional (and Hong Kong 証) forms are both listed because the detectors
// see the text before any Traditional→Simplified fold.
var keywordList = []struct {
	kw string
	g  ctxGroup
}{
	// PRC resident ID.
	{"身份证", ctxID | ctxHKID | ctxTWID}, {"身份證", ctxID | ctxHKID | ctxTWID},
	{"身份証", ctxID | ctxHKID}, {"身分證", ctxID | ctxTWID}, {"身分证", ctxID | ctxTWID},
	{"证件号", ctxID}, {"證件號", ctxID}, {"居住证", ctxID}, {"居住證", ctxID},
	{"居民身份", ctxID}, {"公民身份", ctxID}, {"永久居留", ctxID},
	{"id card", ctxID | ctxHKID | ctxTWID}, {"id no", ctxID | ctxHKID | ctxTWID},
	{"id number", ctxID | ctxHKID | ctxTWID}, {"identity", ctxID | ctxHKID | ctxTWID},
	{"idcard", ctxID}, {"id", ctxID | ctxHKID | ctxTWID},

	// Hong Kong ID.
	{"香港身份", ctxHKID}, {"hkid", ctxHKID}, {"hong kong identity card", ctxHKID},

	// Taiwan ID and resident certificates.
	{"統一證號", ctxTWID}, {"统一证号", ctxTWID}, {"居留證", ctxTWID}, {"居留证", ctxTWID},
	{"身分證字號", ctxTWID}, {"national id", ctxTWID}, {"arc", ctxTWID},
	{"resident certificate", ctxTWID},

	// Mobile numbers and contact solicitation (research note §2.4).
	{"手机", ctxMobile}, {"手機", ctxMobile}, {"电话", ctxMobile}, {"電話", ctxMobile},
	{"联系", ctxMobile}, {"聯繫", ctxMobile}, {"联络", ctxMobile}, {"聯絡", ctxMobile},
	{"微信", ctxMobile}, {"号码", ctxMobile}, {"號碼", ctxMobile}, {"致电", ctxMobile},
	{"致電", ctxMobile}, {"短信", ctxMobile}, {"威信", ctxMobile}, {"加薇", ctxMobile},
	{"mobile", ctxMobile}, {"phone", ctxMobile}, {"tel", ctxMobile}, {"telephone", ctxMobile},
	{"cell", ctxMobile}, {"whatsapp", ctxMobile}, {"wechat", ctxMobile}, {"contact", ctxMobile},
	{"sms", ctxMobile}, {"vx", ctxMobile}, {"wx", ctxMobile}, {"call", ctxMobile},

	// Bank cards. The first block is strong enough to admit a 16-19 digit run
	// that fails Luhn (older domestic BINs); the second only boosts.
	{"银行卡", ctxCard | ctxBank}, {"銀行卡", ctxCard | ctxBank}, {"卡号", ctxCard | ctxBank},
	{"卡號", ctxCard | ctxBank}, {"账号", ctxCard | ctxBank | ctxIBAN},
	{"賬號", ctxCard | ctxBank | ctxIBAN}, {"帳號", ctxCard | ctxBank | ctxIBAN},
	{"账户", ctxCard | ctxBank | ctxIBAN}, {"賬戶", ctxCard | ctxBank | ctxIBAN},
	{"帳戶", ctxCard | ctxBank | ctxIBAN}, {"开户行", ctxCard | ctxBank | ctxIBAN | ctxSWIFT},
	{"開戶行", ctxCard | ctxBank | ctxIBAN | ctxSWIFT}, {"户名", ctxCard | ctxBank},
	{"戶名", ctxCard | ctxBank}, {"储蓄卡", ctxCard | ctxBank}, {"儲蓄卡", ctxCard | ctxBank},
	{"借记卡", ctxCard | ctxBank}, {"借記卡", ctxCard | ctxBank}, {"信用卡", ctxCard | ctxBank},
	{"银联", ctxCard | ctxBank}, {"銀聯", ctxCard | ctxBank},
	{"bank card", ctxCard | ctxBank}, {"card no", ctxCard | ctxBank},
	{"card number", ctxCard | ctxBank}, {"account no", ctxCard | ctxBank | ctxIBAN},
	{"account number", ctxCard | ctxBank | ctxIBAN}, {"bank account", ctxCard | ctxBank | ctxIBAN},
	{"银行", ctxCard | ctxIBAN}, {"銀行", ctxCard | ctxIBAN}, {"刷卡", ctxCard},
	{"转账", ctxCard | ctxIBAN}, {"轉賬", ctxCard | ctxIBAN}, {"轉帳", ctxCard | ctxIBAN},
	{"收款", ctxCard | ctxIBAN}, {"card", ctxCard}, {"credit card", ctxCard | ctxBank},
	{"visa", ctxCard}, {"mastercard", ctxCard}, {"amex", ctxCard}, {"unionpay", ctxCard},
	{"cvv", ctxCard}, {"bank", ctxCard | ctxIBAN}, {"account", ctxIBAN},

	// IBAN and SWIFT/BIC.
	{"iban", ctxIBAN}, {"swift", ctxSWIFT | ctxIBAN}, {"bic", ctxSWIFT},
	{"汇款", ctxSWIFT | ctxIBAN}, {"匯款", ctxSWIFT | ctxIBAN}, {"电汇", ctxSWIFT | ctxIBAN},
	{"電匯", ctxSWIFT | ctxIBAN}, {"银行代码", ctxSWIFT}, {"銀行代碼", ctxSWIFT},
	{"bank code", ctxSWIFT}, {"wire", ctxSWIFT | ctxIBAN}, {"remittance", ctxSWIFT | ctxIBAN},

	// USCC.
	{"统一社会信用代码", ctxUSCC}, {"統一社會信用代碼", ctxUSCC}, {"信用代码", ctxUSCC},
	{"信用代碼", ctxUSCC}, {"营业执照", ctxUSCC}, {"營業執照", ctxUSCC}, {"税号", ctxUSCC},
	{"稅號", ctxUSCC}, {"纳税人识别号", ctxUSCC}, {"納稅人識別號", ctxUSCC},
	{"uscc", ctxUSCC}, {"credit code", ctxUSCC}, {"business license", ctxUSCC},

	// E-mail.
	{"邮箱", ctxEmail}, {"郵箱", ctxEmail}, {"电邮", ctxEmail}, {"電郵", ctxEmail},
	{"邮件", ctxEmail}, {"郵件", ctxEmail}, {"信箱", ctxEmail},
	{"email", ctxEmail}, {"e-mail", ctxEmail}, {"mail", ctxEmail}, {"mailbox", ctxEmail},

	// Crypto (research note §2.8).
	{"usdt", ctxCrypto}, {"钱包", ctxCrypto}, {"錢包", ctxCrypto}, {"地址", ctxCrypto},
	{"wallet", ctxCrypto}, {"address", ctxCrypto}, {"u商", ctxCrypto}, {"出金", ctxCrypto},
	{"入金", ctxCrypto}, {"币商", ctxCrypto}, {"幣商", ctxCrypto}, {"承兑", ctxCrypto},
	{"承兌", ctxCrypto}, {"otc", ctxCrypto}, {"trc20", ctxCrypto}, {"erc20", ctxCrypto},
	{"btc", ctxCrypto}, {"eth", ctxCrypto}, {"bitcoin", ctxCrypto}, {"ethereum", ctxCrypto},
	{"tron", ctxCrypto}, {"比特币", ctxCrypto}, {"比特幣", ctxCrypto}, {"以太坊", ctxCrypto},
	{"泰达币", ctxCrypto}, {"泰達幣", ctxCrypto}, {"波场", ctxCrypto}, {"波場", ctxCrypto},
	{"虚拟币", ctxCrypto}, {"虛擬幣", ctxCrypto}, {"提币", ctxCrypto}, {"提幣", ctxCrypto},
	{"充币", ctxCrypto}, {"充幣", ctxCrypto}, {"crypto", ctxCrypto},

	// Passports and travel permits (research note §2.9).
	{"护照", ctxPassport | ctxPassportOnly}, {"護照", ctxPassport | ctxPassportOnly},
	{"passport", ctxPassport | ctxPassportOnly}, {"通行证", ctxPassport}, {"通行證", ctxPassport},
	{"回乡证", ctxPassport}, {"回鄉證", ctxPassport}, {"台胞证", ctxPassport | ctxTWCompat},
	{"台胞證", ctxPassport | ctxTWCompat}, {"旅行证", ctxPassport}, {"旅行證", ctxPassport},
	{"travel document", ctxPassport}, {"travel permit", ctxPassport},
	{"home return permit", ctxPassport},
	{"台湾居民来往大陆", ctxPassport | ctxTWCompat}, {"臺灣居民來往大陸", ctxPassport | ctxTWCompat},
	{"台灣居民來往大陸", ctxPassport | ctxTWCompat},
}

// keyword is one compiled entry.
type keyword struct {
	kw string
	g  ctxGroup
	// latinEnd is set when the keyword ends in an ASCII letter or digit and so
	// needs a word boundary after it.
	latinEnd bool
	// next holds bytes 3-5 of a CJK keyword (its second character) for a
	// quick reject before the full comparison.
	next uint32
}

// keywordIndex is keywordList compiled for the scanner.
type keywordIndex struct {
	// han holds the CJK keywords in buckets by first rune; hanFirst[b] is
	// bucket b's rune, and hanTab maps that rune to hanBucket0+b.
	han      [][]keyword
	hanFirst []rune
	// latin buckets Latin keywords by first lower-case letter.
	latin [26][]keyword
	// maxLen is the longest keyword in bytes.
	maxLen int
}

var kwIndex = func() *keywordIndex {
	x := &keywordIndex{}
	merged := map[string]int{}
	var all []keyword
	for _, e := range keywordList {
		if i, ok := merged[e.kw]; ok {
			all[i].g |= e.g
			continue
		}
		merged[e.kw] = len(all)
		last := e.kw[len(e.kw)-1]
		all = append(all, keyword{kw: e.kw, g: e.g, latinEnd: last < 0x80 && isLatinAlnum(asciiUnit[last])})
	}
	bucket := map[rune]int{}
	for _, k := range all {
		x.maxLen = max(x.maxLen, len(k.kw))
		if c := k.kw[0]; c < 0x80 {
			if c < 'a' || c > 'z' || len(k.kw) < 2 || (k.kw[1] >= 'A' && k.kw[1] <= 'Z') {
				panic("detect: Latin keywords must be lower case and start with a letter: " + k.kw)
			}
			x.latin[c-'a'] = append(x.latin[c-'a'], k)
			continue
		}
		r, _ := utf8.DecodeRuneInString(k.kw)
		if r < hanBase || r > hanLast {
			panic("detect: keyword outside the CJK block: " + k.kw)
		}
		if len(k.kw) < 6 {
			panic("detect: CJK keywords need two characters: " + k.kw)
		}
		k.next = uint32(k.kw[3]) | uint32(k.kw[4])<<8 | uint32(k.kw[5])<<16
		b, ok := bucket[r]
		if !ok {
			b = len(x.han)
			bucket[r] = b
			x.han = append(x.han, nil)
			x.hanFirst = append(x.hanFirst, r)
		}
		x.han[b] = append(x.han[b], k)
	}
	if x.maxLen > maxKeywordBytes {
		panic("detect: keyword longer than maxKeywordBytes")
	}
	return x
}()

// latinTrigram marks the (first, second, third byte) triples that can start
// a Latin keyword, indexed by latinTrigramIndex, so that the collection pass
// rejects most words with one load. A two-letter keyword ("id") marks every
// third byte.
var latinTrigram = func() (t [(27*27*27 + 63) / 64]uint64) {
	set := func(i int) { t[i/64] |= 1 << (i % 64) }
	for _, b := range kwIndex.latin {
		for _, k := range b {
			if len(k.kw) == 2 {
				for c2 := 0; c2 < 27; c2++ {
					set(int(trigramClass[k.kw[0]])*729 + int(trigramClass[k.kw[1]])*27 + c2)
				}
				continue
			}
			set(latinTrigramIndex(k.kw[0], k.kw[1], k.kw[2]))
		}
	}
	return t
}()

// kwFirstWordLen has, per first letter, bit L set when a Latin keyword's
// first word (its leading run of ASCII letters and digits) is L bytes long,
// L capped at 63. The collection pass knows each word's length for free, so
// this filters words before the trigram test.
var kwFirstWordLen = func() (t [26]uint64) {
	for c, b := range kwIndex.latin {
		for _, k := range b {
			l := 0
			for l < len(k.kw) && isWordByte(k.kw[l]) {
				l++
			}
			t[c] |= 1 << min(l, 63)
		}
	}
	return t
}()

// latinKeywordAt reports whether a Latin keyword may start with c0 c1 c2.
func latinKeywordAt(c0, c1, c2 byte) bool {
	i := latinTrigramIndex(c0, c1, c2)
	return latinTrigram[i/64]&(1<<(i%64)) != 0
}

// trigramClass maps ASCII letters (either case) to 0-25 and every other
// byte to 26.
var trigramClass = func() (t [256]uint8) {
	for i := range t {
		t[i] = 26
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = uint8(c - 'a')
		t[c-'a'+'A'] = uint8(c - 'a')
	}
	return t
}()

func latinTrigramIndex(c0, c1, c2 byte) int {
	return int(trigramClass[c0])*729 + int(trigramClass[c1])*27 + int(trigramClass[c2])
}

// kwHit is one keyword occurrence.
type kwHit struct {
	start, end int32
	g          ctxGroup
}

// isWordByte reports whether c is an ASCII letter or digit.
func isWordByte(c byte) bool {
	return c < 0x80 && (asciiUnit[c] == uDigit || asciiUnit[c] == uUpper || asciiUnit[c] == uLower)
}

// hasPrefixFold reports whether s starts with the lower-case keyword kw,
// comparing ASCII letters case-insensitively and other bytes exactly.
func hasPrefixFold(s, kw string) bool {
	if len(s) < len(kw) {
		return false
	}
	for i := 0; i < len(kw); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != kw[i] {
			return false
		}
	}
	return true
}

// matchHan records the CJK keywords of bucket b that start at text[i].
// Several may (身份证 and 身份证号); one hit carries all their groups and the
// longest extent.
func (s *Scanner) matchHan(i int, b uint8) {
	text := s.text
	var g ctxGroup
	e := 0
	if len(text)-i < 6 {
		return // every CJK keyword has at least two characters
	}
	next := uint32(text[i+3]) | uint32(text[i+4])<<8 | uint32(text[i+5])<<16
	for _, k := range kwIndex.han[b] {
		if k.next == next && len(text)-i >= len(k.kw) && text[i:i+len(k.kw)] == k.kw {
			g |= k.g
			e = max(e, i+len(k.kw))
		}
	}
	if g != 0 {
		s.hits = append(s.hits, kwHit{int32(i), int32(e), g})
	}
}

// matchLatin records the Latin keywords starting at text[i], an ASCII
// letter at the start of a word whose first bytes passed latinTrigram.
func (s *Scanner) matchLatin(i int) {
	text := s.text
	c := text[i] | 0x20
	var g ctxGroup
	e := 0
	for _, k := range kwIndex.latin[c-'a'] {
		if !hasPrefixFold(text[i:], k.kw) {
			continue
		}
		ke := i + len(k.kw)
		if k.latinEnd && ke < len(text) && isWordByte(text[ke]) {
			continue
		}
		g |= k.g
		e = max(e, ke)
	}
	if g != 0 {
		s.hits = append(s.hits, kwHit{int32(i), int32(e), g})
	}
}

// runeCount counts the runes of s as its bytes minus its continuation
// bytes (10xxxxxx), eight at a time: all the window test needs, and much
// faster than decoding CJK text.
func runeCount(s string) int {
	n := len(s)
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// Bit 7 set and bit 6 clear in each byte.
		n -= bits.OnesCount64(w &^ (w << 1) & 0x8080808080808080)
	}
	for ; i < len(s); i++ {
		if s[i]&0xC0 == 0x80 {
			n--
		}
	}
	return n
}

// withinWindow reports whether the gap text between a keyword and a
// candidate is at most ctxWindow characters, counting runes only when the
// byte length leaves it in doubt.
func withinWindow(gap string) bool {
	if len(gap) <= ctxWindow {
		return true
	}
	if len(gap) > ctxWindowBytes {
		return false
	}
	return runeCount(gap) <= ctxWindow
}

// hasContext reports whether a keyword of any group in g lies within
// ctxWindow characters before or after text[start:end]. It runs after the
// collection pass, when every keyword hit of the text is known.
func (s *Scanner) hasContext(start, end int, g ctxGroup) bool {
	text, hits := s.text, s.hits
	// First hit starting at or after end (hand-rolled: a sort.Search
	// closure would escape and allocate on every call).
	k, hi := 0, len(hits)
	for k < hi {
		m := int(uint(k+hi) >> 1)
		if int(hits[m].start) < end {
			k = m + 1
		} else {
			hi = m
		}
	}
	// Nearest hits first: labels usually sit right next to the value, and
	// a gap of at most ctxWindow bytes needs no rune counting.
	after, before := k, k-1
	for after < len(hits) && int(hits[after].start)-end <= ctxWindowBytes {
		if hits[after].g&g != 0 {
			break
		}
		after++
	}
	for before >= 0 && int(hits[before].start) >= start-ctxWindowBytes-maxKeywordBytes {
		h := hits[before]
		if h.g&g != 0 && (int(h.end) > start || start-int(h.end) <= ctxWindowBytes) {
			break
		}
		before--
	}
	if before >= 0 && hits[before].g&g != 0 && int(hits[before].start) >= start-ctxWindowBytes-maxKeywordBytes {
		h := hits[before]
		if int(h.end) > start || withinWindow(text[h.end:start]) {
			return true
		}
	}
	if after < len(hits) && hits[after].g&g != 0 && int(hits[after].start)-end <= ctxWindowBytes {
		return withinWindow(text[end:hits[after].start])
	}
	return false
}

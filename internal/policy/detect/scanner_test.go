package detect

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// hanDigits spells ASCII digits with Chinese numerals, the way people dodge
// digit matchers (一三八零...).
func hanDigits(s string) string {
	const han = "零一二三四五六七八九"
	var b strings.Builder
	for _, c := range s {
		if c >= '0' && c <= '9' {
			b.WriteString(string([]rune(han)[c-'0']))
		} else {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// fullWidth spells ASCII letters and digits in full width.
func fullWidth(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c > ' ' && c < 0x7F {
			c += 0xFF01 - '!'
		}
		b.WriteRune(c)
	}
	return b.String()
}

// idEndingInDigit returns a valid ID (with a digit check character), for
// spellings that cannot carry an X.
func idEndingInDigit() string {
	for seq := 100; ; seq++ {
		id := withCheck("11010519800101" + string(rune('0'+seq/100%10)) + string(rune('0'+seq/10%10)) + string(rune('0'+seq%10)))
		if id[17] != 'X' {
			return id
		}
	}
}

type wantDet struct {
	kind   Kind
	value  string // text[Start:End]
	conf   int
	detail string
}

var gr = rand.New(rand.NewPCG(42, 43))

var (
	visa      = GenCard(gr, "4", 16)
	maestro13 = GenCard(gr, "50", 13)
	up19      = GenCard(gr, "62", 19)
	up19bad   = up19[:18] + string(rune('0'+(up19[18]-'0'+1)%10))
	ethLower  = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
	plainID   = idEndingInDigit()
)

var scanCases = []struct {
	name    string
	text    string
	enabled Set // 0 means All
	want    []wantDet
}{
	// --- PRC resident ID (research note §2.1) ---
	{"prc id with keyword", "我的身份证号是11010519491231002X，请查收",
		0, []wantDet{{ChinaResidentID, "11010519491231002X", 85, "resident-id"}}},
	{"prc id keyword after", "11010519491231002X 是我的身份证",
		0, []wantDet{{ChinaResidentID, "11010519491231002X", 85, "resident-id"}}},
	{"prc id alone", "请核对 11010519491231002x 谢谢",
		0, []wantDet{{ChinaResidentID, "11010519491231002x", 75, "resident-id"}}},
	{"prc id spaced 6-8-4", "ID: 110105 19491231 002X",
		0, []wantDet{{ChinaResidentID, "110105 19491231 002X", 85, "resident-id"}}},
	{"prc id full width", "证件号：" + fullWidth("11010519491231002X"),
		0, []wantDet{{ChinaResidentID, fullWidth("11010519491231002X"), 85, "resident-id"}}},
	{"prc id chinese numerals", "身份证" + hanDigits(plainID) + "。",
		0, []wantDet{{ChinaResidentID, hanDigits(plainID), 85, "resident-id"}}},
	{"prc id wrong check", "身份证 110105194912310021", 0, nil},
	{"prc id feb 30", "身份证 " + withCheck("11010519490230002"), 0, nil},
	{"prc id region 99", "身份证 " + withCheck("99010519491231002"), 0, nil},
	{"prc id glued to letters", "ID11010519491231002X", 0, nil},
	{"prc id glued digit", "身份证 11010519491231002X3", 0, nil},
	{"prc id 19 digits", "身份证 1101051949123100201", 0, nil},
	{"hk permit", "港澳居民居住证 " + withCheck("81000019900101123"),
		0, []wantDet{{ChinaResidentID, withCheck("81000019900101123"), 85, "resident-permit-hk"}}},
	{"foreign permanent with keyword", "外国人永久居留身份证 " + withCheck("93115619900101123"),
		0, []wantDet{{ChinaResidentID, withCheck("93115619900101123"), 85, "foreign-permanent-resident"}}},
	{"foreign permanent without keyword", "编号 " + withCheck("93115619900101123"), 0, nil},
	{"region 91 with keyword", "证件号 " + withCheck("91010519491231002"),
		0, []wantDet{{ChinaResidentID, withCheck("91010519491231002"), 85, "foreign-permanent-resident"}}},
	{"legacy 15 with keyword", "老身份证号 110105491231002",
		0, []wantDet{{ChinaResidentID, "110105491231002", 75, "legacy-15"}}},
	{"legacy 15 without keyword", "编号 110105491231002", 0, nil},

	// --- Mobile (research note §2.4), evasion forms ---
	{"mobile", "电话 13800138000", 0, []wantDet{{ChinaMobile, "13800138000", 85, "cn-mobile"}}},
	{"mobile no keyword", "加我 13800138000 吧", 0, []wantDet{{ChinaMobile, "13800138000", 75, "cn-mobile"}}},
	{"mobile spaced", "打 138 0013 8000 找我", 0, []wantDet{{ChinaMobile, "138 0013 8000", 75, "cn-mobile"}}},
	{"mobile hyphens", "tel 138-0013-8000.", 0, []wantDet{{ChinaMobile, "138-0013-8000", 85, "cn-mobile"}}},
	{"mobile dots", "138.0013.8000", 0, []wantDet{{ChinaMobile, "138.0013.8000", 75, "cn-mobile"}}},
	{"mobile ideographic space", "138　0013　8000", 0, []wantDet{{ChinaMobile, "138　0013　8000", 75, "cn-mobile"}}},
	{"mobile letter spaced", "1 3 8 0 0 1 3 8 0 0 0", 0, []wantDet{{ChinaMobile, "1 3 8 0 0 1 3 8 0 0 0", 75, "cn-mobile"}}},
	{"mobile +86", "call +86 138 0013 8000", 0, []wantDet{{ChinaMobile, "+86 138 0013 8000", 85, "cn-mobile"}}},
	{"mobile +86 mixed separators", "+86 139-0013-9000", 0, []wantDet{{ChinaMobile, "+86 139-0013-9000", 75, "cn-mobile"}}},
	{"mobile 0086", "0086-138-0013-8000", 0, []wantDet{{ChinaMobile, "0086-138-0013-8000", 75, "cn-mobile"}}},
	{"mobile full width", "手機：１３８００１３８０００", 0, []wantDet{{ChinaMobile, "１３８００１３８０００", 85, "cn-mobile"}}},
	{"mobile chinese numerals", "加我一三八零零一三八零零零", 0, []wantDet{{ChinaMobile, "一三八零零一三八零零零", 75, "cn-mobile"}}},
	{"mobile spoken numerals", "幺三八两两幺三八拐拐勾", 0, []wantDet{{ChinaMobile, "幺三八两两幺三八拐拐勾", 75, "cn-mobile"}}},
	{"mobile mixed numerals", "138零零138000", 0, []wantDet{{ChinaMobile, "138零零138000", 75, "cn-mobile"}}},
	{"mobile circled", "①③⑨①②③④⑤⑥⑦⑧", 0, []wantDet{{ChinaMobile, "①③⑨①②③④⑤⑥⑦⑧", 75, "cn-mobile"}}},
	{"mobile then numeral word", "13800138000一直打不通", 0, []wantDet{{ChinaMobile, "13800138000", 75, "cn-mobile"}}},
	{"two mobiles in one run", "13800138000 13900139000", 0, []wantDet{
		{ChinaMobile, "13800138000", 75, "cn-mobile"}, {ChinaMobile, "13900139000", 75, "cn-mobile"}}},
	{"mobile 12th digit", "电话 138001380001", 0, nil},
	{"mobile bad prefix", "电话 12345678901", 0, nil},
	{"mobile glued to letters", "abc13800138000", 0, nil},
	{"mobile decimal", "0.13800138000", 0, nil},
	{"foreign international number", "+1 380 013 8000", 0, nil},

	// --- Cards (research note §2.5) ---
	{"unionpay with keyword", "卡号 6212345678901232", 0, []wantDet{{UnionPayCard, "6212345678901232", 85, "unionpay"}}},
	{"unionpay grouped", "6212 3456 7890 1232", 0, []wantDet{{UnionPayCard, "6212 3456 7890 1232", 75, "unionpay"}}},
	{"unionpay as payment card", "6212345678901232", SetOf(PaymentCard), []wantDet{{PaymentCard, "6212345678901232", 75, "unionpay"}}},
	{"visa not unionpay", visa, SetOf(UnionPayCard), nil},
	{"visa", "credit card " + visa, 0, []wantDet{{PaymentCard, visa, 85, "visa"}}},
	{"test pan", "card 4111111111111111", 0, nil},
	{"test pan grouped", "4242 4242 4242 4242", 0, nil},
	{"all same digits", "卡号 6666666666666666", 0, nil},
	{"luhn fail with bank keyword", "银行卡 " + up19bad, 0, []wantDet{{UnionPayCard, up19bad, 65, "unverified"}}},
	{"luhn fail without keyword", "ref " + up19bad, 0, nil},
	{"maestro short needs keyword", "单号 " + maestro13, 0, nil},
	{"maestro short with keyword", "card " + maestro13, 0, []wantDet{{PaymentCard, maestro13, 85, "maestro"}}},
	{"timestamp", "at 20260301093000 ok", 0, nil},
	{"timestamp formatted", "2026-03-01 09:30:00", 0, nil},
	{"order number", "订单号 202603011234567890", 0, nil},
	{"12-digit amount", "金额 123456789012 元", 0, nil},

	// --- IBAN, SWIFT (research note §2.7) ---
	{"iban printed", "IBAN: GB82 WEST 1234 5698 7654 32.", 0, []wantDet{{IBAN, "GB82 WEST 1234 5698 7654 32", 85, "GB"}}},
	{"iban compact", "pay GB82WEST12345698765432 now", 0, []wantDet{{IBAN, "GB82WEST12345698765432", 75, "GB"}}},
	{"iban bad check", "IBAN GB82WEST12345698765433", 0, nil},
	{"iban glued", "IBAN GB82WEST12345698765432X", 0, nil},
	{"swift", "SWIFT: BKCHCNBJ", 0, []wantDet{{SWIFT, "BKCHCNBJ", 75, "bic8"}}},
	{"swift branch", "请电汇至 BKCHCNBJ110", 0, []wantDet{{SWIFT, "BKCHCNBJ110", 75, "bic11"}}},
	{"bic shape without keyword", "BKCHCNBJ", 0, nil},
	{"english capitals", "THE CUSTOMER WAS HAPPY WITH HOLIDAYS", 0, nil},

	// --- USCC (research note §2.6) ---
	{"uscc", "统一社会信用代码：91350200776049653A", 0, []wantDet{{USCC, "91350200776049653A", 85, "uscc-org-code"}}},
	{"uscc alone", "91350200776049653A", 0, []wantDet{{USCC, "91350200776049653A", 75, "uscc-org-code"}}},
	{"uscc failing with keyword", "营业执照 91350203M0001QAY9B", 0, []wantDet{{USCC, "91350203M0001QAY9B", 65, "checksum-failed"}}},
	{"uscc failing without keyword", "91350203M0001QAY9B", 0, nil},

	// --- HKID, Taiwan (research note §2.2, §2.3) ---
	{"hkid", "HKID A123456(3)", 0, []wantDet{{HongKongID, "A123456(3)", 85, "hkid"}}},
	{"hkid full-width brackets", "香港身份證A123456（3）", 0, []wantDet{{HongKongID, "A123456（3）", 85, "hkid"}}},
	{"hkid run on", "A1234563", 0, []wantDet{{HongKongID, "A1234563", 75, "hkid"}}},
	{"hkid two letters", "AB987654(3)", 0, []wantDet{{HongKongID, "AB987654(3)", 75, "hkid"}}},
	{"hkid wrong check", "HKID A123456(4)", 0, nil},
	{"taiwan id", "身分證字號 A123456789", 0, []wantDet{{TaiwanID, "A123456789", 85, "tw-national-id"}}},
	{"taiwan arc", "A800000014", 0, []wantDet{{TaiwanID, "A800000014", 75, "tw-arc"}}},
	{"taiwan wrong check", "A123456788", 0, nil},

	// --- Crypto (research note §2.8) ---
	{"btc p2pkh", "BTC 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", 0, []wantDet{{CryptoAddress, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", 85, "btc-p2pkh"}}},
	{"btc bech32", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", 0, []wantDet{{CryptoAddress, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", 75, "btc-bech32"}}},
	{"btc bech32m", "钱包 bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297", 0,
		[]wantDet{{CryptoAddress, "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297", 85, "btc-bech32m"}}},
	{"tron", "U商收款地址TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", 0, []wantDet{{CryptoAddress, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", 85, "tron"}}},
	{"eth eip55", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", 0, []wantDet{{CryptoAddress, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", 75, "eth-eip55"}}},
	{"eth case flipped", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", 0, nil},
	{"eth lower", ethLower, 0, []wantDet{{CryptoAddress, ethLower, 65, "eth-nochecksum"}}},
	{"eth lower with keyword", "USDT " + ethLower, 0, []wantDet{{CryptoAddress, ethLower, 75, "eth-nochecksum"}}},
	{"eth zero address", "0x0000000000000000000000000000000000000000", 0, nil},

	// --- E-mail ---
	{"email personal", "邮箱 john.doe@gmail.com谢谢", 0, []wantDet{{Email, "john.doe@gmail.com", 85, "personal"}}},
	{"email business", "write to a.b@company.com.cn.", 0, []wantDet{{Email, "a.b@company.com.cn", 75, ""}}},
	{"email qq number", "13800138000@163.com", 0, []wantDet{
		{ChinaMobile, "13800138000", 75, "cn-mobile"}, {Email, "13800138000@163.com", 75, "personal"}}},
	{"email idn", "user@例子.中国谢谢", 0, []wantDet{{Email, "user@例子.中国", 75, ""}}},
	{"email full-width at", "abc＠qq.com", 0, []wantDet{{Email, "abc＠qq.com", 75, "personal"}}},
	{"email sentence end", "发到foo@vip.qq.com。", 0, []wantDet{{Email, "foo@vip.qq.com", 75, "personal"}}},
	{"email idn long tail", "user@例子.中国谢谢你的帮助我们明天见面吧好的没问题", 0, []wantDet{{Email, "user@例子.中国", 75, ""}}},
	{"email idn ideographic stop", "发到a@例子.中国。谢谢", 0, []wantDet{{Email, "a@例子.中国", 75, ""}}},
	{"email bad tld", "a@b.invalidtld", 0, nil},
	{"mention", "@张三 你好 @all", 0, nil},
	{"file name", "icon@2x.png", 0, nil},

	// --- Passports (research note §2.9) ---
	{"prc passport", "护照号码：E12345678", 0, []wantDet{{Passport, "E12345678", 75, "prc-passport"}}},
	{"prc passport without keyword", "E12345678", 0, nil},
	{"hk macau permit", "港澳通行证 C12345678", 0, []wantDet{{Passport, "C12345678", 75, "hk-macau-permit"}}},
	{"home return permit", "回鄉證 H1234567890", 0, []wantDet{{Passport, "H1234567890", 75, "home-return-permit"}}},
	{"tw compatriot permit", "台胞证 12345678", 0, []wantDet{{Passport, "12345678", 75, "tw-compatriot-permit"}}},
	{"tw passport", "passport no. 312345678", 0, []wantDet{{Passport, "312345678", 75, "tw-passport"}}},
	{"9 digits without passport keyword", "通行证 312345678", 0, nil},
	{"8 digits alone", "12345678", 0, nil},

	// --- Enabled kinds ---
	{"only email", "电话 13800138000 邮箱 a@qq.com", SetOf(Email), []wantDet{{Email, "a@qq.com", 85, "personal"}}},
	{"nothing enabled", "13800138000", Set(1), nil}, // only the invalid bit 0
}

func TestScan(t *testing.T) {
	s := NewScanner()
	for _, c := range scanCases {
		t.Run(c.name, func(t *testing.T) {
			en := c.enabled
			if en == 0 {
				en = All
			}
			got := s.Scan(c.text, en, nil)
			if len(got) != len(c.want) {
				t.Fatalf("%q: got %d detections %s, want %d", c.text, len(got), describe(c.text, got), len(c.want))
			}
			for i, w := range c.want {
				d := got[i]
				checkSpan(t, c.text, d)
				if d.Kind != w.kind || c.text[d.Start:d.End] != w.value || d.Confidence != w.conf || d.Detail != w.detail {
					t.Errorf("%q: got %s, want %v %q %d %q", c.text, describe(c.text, got[i:i+1]), w.kind, w.value, w.conf, w.detail)
				}
				if d.Validated != (w.conf != 65 && w.kind != Passport && w.detail != "eth-nochecksum") {
					t.Errorf("%q: Validated = %v", w.value, d.Validated)
				}
				if (w.conf == 85) && !d.Context {
					t.Errorf("%q: confidence 85 without context", w.value)
				}
			}
		})
	}
}

func describe(text string, ds []Detection) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString("[" + d.Kind.String() + " " + text[d.Start:d.End] + " " + d.Detail + " " + d.Evidence + " ")
		b.WriteString(string(rune('0'+d.Confidence/10)) + string(rune('0'+d.Confidence%10)) + "]")
	}
	return b.String()
}

// checkSpan checks the invariants every detection must satisfy.
func checkSpan(t testing.TB, text string, d Detection) {
	t.Helper()
	if d.Start < 0 || d.Start >= d.End || d.End > len(text) {
		t.Fatalf("bad span %d:%d of %d", d.Start, d.End, len(text))
	}
	if !runeBoundary(text, d.Start) || !runeBoundary(text, d.End) {
		t.Fatalf("span %d:%d not on rune boundaries", d.Start, d.End)
	}
	if d.Kind < 1 || d.Kind >= kindEnd || d.Confidence < 0 || d.Confidence > 100 {
		t.Fatalf("bad detection %+v", d)
	}
	norm := normalized(text[d.Start:d.End])
	if len(norm) > 4 && strings.Contains(strings.ToUpper(d.Evidence), norm) {
		t.Fatalf("evidence %q reveals %q", d.Evidence, norm)
	}
	if d.Evidence == "" {
		t.Fatalf("empty evidence")
	}
}

// runeBoundary reports whether i is where a rune starts when text is
// decoded as Go does (an invalid byte is a rune of its own), or len(text).
func runeBoundary(text string, i int) bool {
	if i == len(text) {
		return true
	}
	for j := range text {
		if j == i {
			return true
		}
		if j > i {
			break
		}
	}
	return false
}

// normalized folds a span to upper-case ASCII letters and digits, the form
// evidence must never contain in full.
func normalized(span string) string {
	var b strings.Builder
	for i := 0; i < len(span); {
		cls, val, size := unitAt(span, i)
		if cls == uDigit || cls == uHan || cls == uUpper || cls == uLower {
			b.WriteByte(upper(val))
		}
		i += size
	}
	return b.String()
}

func TestScanAppendsAndSorts(t *testing.T) {
	s := NewScanner()
	prev := []Detection{{Kind: IBAN, Start: 1, End: 2}}
	text := "13800138000@163.com 和 11010519491231002X"
	out := s.Scan(text, All, prev)
	if len(out) != 4 || out[0].Kind != IBAN {
		t.Fatalf("Scan must append: %s", describe(text, out[1:]))
	}
	for i := 2; i < len(out); i++ {
		if out[i].Start < out[i-1].Start {
			t.Errorf("detections out of order: %s", describe(text, out[1:]))
		}
	}
	if got := s.Scan("", All, nil); got != nil {
		t.Error("empty text")
	}
}

func TestScanDeterministicAndReusable(t *testing.T) {
	text := benchText(3, 64<<10, 3)
	s := NewScanner()
	a := s.Scan(text, All, nil)
	b := s.Scan(text, All, nil)
	c := NewScanner().Scan(text, All, nil)
	if len(a) == 0 || !equalDetections(a, b) || !equalDetections(a, c) {
		t.Fatalf("non-deterministic: %d %d %d detections", len(a), len(b), len(c))
	}
	for _, d := range a {
		checkSpan(t, text, d)
	}
}

func equalDetections(a, b []Detection) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestScanNoAllocs: scanning text with candidates but no findings must not
// allocate once the scanner's buffers have grown.
func TestScanNoAllocs(t *testing.T) {
	var b strings.Builder
	for b.Len() < 32<<10 {
		b.WriteString("订单号202603011234567890 金额 123456789012 元，ref 1234567890123456，时间 2026-03-01 09:30:00。")
		b.WriteString("Please review the attached term sheet, ticket ABC1234567 and E12345678 today. 一下一起 ")
	}
	text := b.String()
	s := NewScanner()
	out := make([]Detection, 0, 8)
	if ds := s.Scan(text, All, out); len(ds) != 0 {
		t.Fatalf("unexpected detections %s", describe(text, ds))
	}
	if n := testing.AllocsPerRun(20, func() { out = s.Scan(text, All, out[:0]) }); n != 0 {
		t.Errorf("%v allocations per Scan with nothing found", n)
	}
	// With findings, allocation is the evidence strings and little else.
	text = benchText(5, 32<<10, 3)
	ds := s.Scan(text, All, nil)
	out = make([]Detection, 0, len(ds))
	n := testing.AllocsPerRun(10, func() { out = s.Scan(text, All, out[:0]) })
	if n > float64(2*len(ds)) {
		t.Errorf("%v allocations for %d detections", n, len(ds))
	}
}

// TestFlushEquivalent: flushing candidates early (tiny limits) must not
// change a single detection.
func TestFlushEquivalent(t *testing.T) {
	text := benchText(11, 256<<10, 8) + strings.Repeat("13800138000 ", 3000) + "电话"
	want := NewScanner().Scan(text, All, nil)
	s := NewScanner()
	s.baseUnits, s.baseHits = 64, 16
	got := s.Scan(text, All, nil)
	if len(want) < 1000 || !equalDetections(got, want) {
		t.Fatalf("flushing changed the result: %d vs %d detections", len(got), len(want))
	}
}

// TestBoundedMemory scans megabytes of numbers and keywords: the buffers
// must stay bounded by the flush limits, not grow with the text.
func TestBoundedMemory(t *testing.T) {
	text := strings.Repeat("13800138000 地址 ", 1<<18) // ~5 MiB, one long run per 65536 digits
	s := NewScanner()
	ds := s.Scan(text, SetOf(ChinaMobile), nil)
	if len(ds) != 1<<18 {
		t.Fatalf("%d detections, want %d", len(ds), 1<<18)
	}
	if c := cap(s.av) + cap(s.wav); c > 4*flushUnits {
		t.Errorf("arena capacity %d", c)
	}
	if c := cap(s.hits); c > 4*flushHits {
		t.Errorf("hits capacity %d", c)
	}
	// One space-separated list: a single run, cut every maxRunUnits digits.
	list := strings.Repeat("13800138000 ", 1<<17)
	if ds := s.Scan(list, SetOf(ChinaMobile), nil); len(ds) != 1<<17 || cap(s.av) > 4*flushUnits {
		t.Errorf("a list of mobiles: %d detections, arena %d", len(ds), cap(s.av))
	}
	long := strings.Repeat("1", 1<<20) + " 13800138000"
	if ds := s.Scan(long, All, nil); len(ds) != 1 || cap(s.av) > 4*flushUnits {
		t.Errorf("a megabyte of digits: %d detections, arena %d", len(ds), cap(s.av))
	}
}

// TestGeneratedInContext scans sentences built around generated values in
// the three languages of our traffic.
func TestGeneratedInContext(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	s := NewScanner()
	for i := 0; i < 300; i++ {
		cases := []struct {
			kind Kind
			val  string
			tmpl string
		}{
			{ChinaResidentID, GenChinaResidentID(r), "我的身份证号是%s，麻烦帮我登记一下。"},
			{HongKongID, GenHKID(r), "我嘅香港身份證係%s，唔該晒。"},
			{TaiwanID, GenTaiwanID(r), "My Taiwan national ID is %s, thanks."},
			{USCC, GenUSCC(r), "公司统一社会信用代码：%s"},
			{ChinaMobile, GenChinaMobile(r), "有事打我手機%s啦"},
			{UnionPayCard, GenCard(r, "62", 16+r.IntN(4)), "工资卡卡号 %s 开户行招商银行"},
			{IBAN, GenIBAN(r), "Please wire to IBAN %s today."},
			{CryptoAddress, GenTRON(r), "USDT-TRC20 地址：%s"},
			{CryptoAddress, GenBTC(r), "BTC address %s"},
			{CryptoAddress, GenETH(r), "ETH 钱包 %s"},
		}
		for _, c := range cases {
			text := strings.Replace(c.tmpl, "%s", c.val, 1)
			ds := s.Scan(text, All, nil)
			ok := false
			for _, d := range ds {
				checkSpan(t, text, d)
				if d.Kind == c.kind && text[d.Start:d.End] == c.val {
					ok = d.Confidence == 85
				}
			}
			if !ok {
				t.Fatalf("%q: want %v at 85, got %s", text, c.kind, describe(text, ds))
			}
		}
	}
}

// fuzzSeeds are the research vectors and near misses.
var fuzzSeeds = []string{
	"11010519491231002X", "A123456(3)", "A123456789", "A800000014", "91350200776049653A",
	"GB82WEST12345698765432", "GB82 WEST 1234 5698 7654 32", "4111111111111111", "6212345678901232",
	"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
	"bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
	"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
	"身份证 110105 19491231 002X", "+86 138-0013-8000", "一三八零零一三八零零零", "１３８００１３８０００",
	"john.doe@gmail.com谢谢", "a@例子.中国", "护照 E12345678", "SWIFT BKCHCNBJ", "台胞证 12345678",
	"13800138000 13900139000", "0.13800138000", "20260301093000", "＠＠@@", "A123456（3）",
}

func FuzzScan(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	s1, s2 := NewScanner(), NewScanner()
	f.Fuzz(func(t *testing.T, text string) {
		a := s1.Scan(text, All, nil)
		for i, d := range a {
			checkSpan(t, text, d)
			if i > 0 && d.Start < a[i-1].Start {
				t.Fatalf("out of order")
			}
		}
		if b := s2.Scan(text, All, nil); !equalDetections(a, b) {
			t.Fatalf("non-deterministic: %s vs %s", describe(text, a), describe(text, b))
		}
		// Each kind on its own finds a subset of what All finds... except
		// that dispatch order can hand a value to a lower-priority detector
		// when the first is disabled, so only check that nothing panics.
		for _, k := range Kinds() {
			for _, d := range s1.Scan(text, SetOf(k), nil) {
				if d.Kind != k {
					t.Fatalf("Scan(%v) returned %v", k, d.Kind)
				}
				checkSpan(t, text, d)
			}
		}
	})
}

// FuzzValidators checks that no validator panics and that the fast
// implementations agree with slow oracles.
func FuzzValidators(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ValidChinaResidentID(s)
		ValidChinaResidentID15(s)
		ValidHKID(s)
		ValidTaiwanID(s)
		ValidChinaMobile(s)
		ValidPaymentCard(s)
		ValidBIC(s)
		ValidUSCC(s)
		ValidEmail(s)
		ValidCryptoAddress(s)
		ValidBech32(s)
		ValidEIP55(s)
		ValidETHAddress(s)
		PassportType(s)
		ValidBase58Check(s, 0x41)
		if Luhn(s) && !allDigits(s) {
			t.Fatalf("Luhn accepted %q", s)
		}
		if len(s) == 18 && allDigits(s[:17]) && prcCheck(s) != refPRCCheck(s[:17]) {
			t.Fatalf("PRC check of %q disagrees with the oracle", s)
		}
		if ValidIBAN(s) {
			c := strings.ToUpper(strings.ReplaceAll(s, " ", ""))
			if refIBANMod97(c) != 1 {
				t.Fatalf("IBAN %q fails the big.Int oracle", s)
			}
		}
		if len(s) >= 26 && len(s) <= 35 {
			var p [25]byte
			ok := base58Decode25(s, &p)
			valid := true
			for i := 0; i < len(s); i++ {
				valid = valid && b58Value[s[i]] >= 0
			}
			if valid {
				ref := refBase58(s)
				if ok != (len(ref) == 25) || (ok && string(ref) != string(p[:])) {
					t.Fatalf("base58 %q: %v %x, oracle %x", s, ok, p, ref)
				}
			}
		}
	})
}

// BenchmarkScan scans ~1 MiB of mixed Chinese/English chat: "clean" has
// only ordinary numbers (prices, times, dates, short order numbers);
// "typical" adds about three identifier-shaped candidates per KB, half of
// them decoys (waybill, order and reference numbers, timestamps, tickets);
// "dense" has eight. The target is ≥ 400 MB/s on one core for "typical".
func BenchmarkScan(b *testing.B) {
	for _, bc := range []struct {
		name  string
		perKB float64
	}{
		{"clean", 0},
		{"typical", 3},
		{"dense", 8},
	} {
		b.Run(bc.name, func(b *testing.B) {
			text := benchText(1, 1<<20, bc.perKB)
			s := NewScanner()
			out := s.Scan(text, All, nil)
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				out = s.Scan(text, All, out[:0])
			}
			b.ReportMetric(float64(len(out))/float64(len(text))*1024, "detections/KB")
		})
	}
}

// BenchmarkScanMessage is the per-message cost for a short chat line.
func BenchmarkScanMessage(b *testing.B) {
	text := "好的，明天把合同发我，我的手机13800138000，邮箱 john.doe@gmail.com，谢谢！"
	s := NewScanner()
	out := s.Scan(text, All, nil)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		out = s.Scan(text, All, out[:0])
	}
}

// BenchmarkScanAdversarial covers inputs that once made the scanner
// superlinear (long space-separated digit lists, Chinese numerals with
// separators) or that stress one path; all must stay linear.
func BenchmarkScanAdversarial(b *testing.B) {
	for _, c := range []struct{ name, text string }{
		{"spaced-digits", strings.Repeat("12 34 56 78 90 ", 1<<12)},
		{"spaced-numerals", strings.Repeat("一 ", 1<<14)},
		{"mobile-list", strings.Repeat("13800138000 ", 1<<12)},
		{"at-signs", strings.Repeat("a@", 1<<15)},
		{"idn-tails", strings.Repeat("a@例子例子.中国谢谢谢谢谢谢谢谢谢谢谢谢谢谢谢谢谢谢谢谢 ", 1<<9)},
		{"bic-shaped", strings.Repeat("ABCDEFGH ", 1<<13)},
		{"keywords", strings.Repeat("地址", 1<<14) + "13800138000"},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := NewScanner()
			out := s.Scan(c.text, All, nil)
			b.SetBytes(int64(len(c.text)))
			for b.Loop() {
				out = s.Scan(c.text, All, out[:0])
			}
		})
	}
}

// TestCardNearUSCCKeyword: a Luhn-valid 18-digit UnionPay number next to a
// USCC keyword stays a card unless it really is a valid USCC.
func TestCardNearUSCCKeyword(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	s := NewScanner()
	for i := 0; i < 200; i++ {
		card := GenCard(r, "62", 18)
		text := "营业执照附件，卡号 " + card
		ds := s.Scan(text, All, nil)
		if len(ds) != 1 {
			t.Fatalf("%q: %s", text, describe(text, ds))
		}
		if ok, _ := checkUSCC(card); ok {
			if ds[0].Kind != USCC {
				t.Errorf("%q: valid USCC next to its keyword reported as %v", text, ds[0].Kind)
			}
		} else if ds[0].Kind != UnionPayCard || ds[0].Confidence != 85 {
			t.Errorf("%q: %s", text, describe(text, ds))
		}
	}
}

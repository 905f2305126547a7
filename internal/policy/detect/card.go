package detect

// Payment cards, research note §2.5: Luhn plus the network's IIN prefix and
// length. UnionPay (62, 16-19 digits) is reported as its own kind because
// Chinese bank cards are the common case in our traffic.

// Luhn reports whether s is a non-empty string of ASCII digits whose Luhn
// (mod 10) checksum holds: from the right, every second digit is doubled and
// reduced by 9 when above 9, and the total must be divisible by 10.
func Luhn(s string) bool { return luhn(s) }

func luhn[T ~string | ~[]byte](d T) bool {
	if len(d) == 0 {
		return false
	}
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		c := d[i]
		if c < '0' || c > '9' {
			return false
		}
		v := int(c - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// Card networks, reported in Detection.Detail.
const (
	netVisa       = "visa"
	netMastercard = "mastercard"
	netAmex       = "amex"
	netDiscover   = "discover"
	netJCB        = "jcb"
	netDiners     = "diners"
	netUnionPay   = "unionpay"
	netMaestro    = "maestro"
	netUnverified = "unverified" // a bank-context digit run that fails Luhn
)

// prefixNum returns the first n digits of d as an integer (d must have at
// least n ASCII digits).
func prefixNum[T ~string | ~[]byte](d T, n int) int {
	v := 0
	for i := 0; i < n; i++ {
		v = v*10 + int(d[i]-'0')
	}
	return v
}

// cardNetwork returns the network whose IIN range and length d matches, or
// "" when none does. UnionPay is tested first: 622126-622925 is co-branded
// with Discover, and in China those cards are UnionPay cards.
func cardNetwork[T ~string | ~[]byte](d T) string {
	n := len(d)
	if n < 12 || n > 19 {
		return ""
	}
	p4 := prefixNum(d, 4)
	p2, p3 := p4/100, p4/10
	switch {
	case p2 == 62:
		if n >= 16 {
			return netUnionPay
		}
	case d[0] == '4':
		if n == 13 || n == 16 || n == 19 {
			return netVisa
		}
	case p2 == 34 || p2 == 37:
		if n == 15 {
			return netAmex
		}
	case (p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720):
		if n == 16 {
			return netMastercard
		}
	case p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65:
		if n >= 16 {
			return netDiscover
		}
	case p4 >= 3528 && p4 <= 3589:
		if n >= 16 {
			return netJCB
		}
	case p2 == 36 || p2 == 38 || p2 == 39 || (p3 >= 300 && p3 <= 305):
		if n >= 14 && n <= 16 {
			return netDiners
		}
	}
	if p2 == 50 || (p2 >= 56 && p2 <= 69) {
		return netMaestro // 12-19 digits
	}
	return ""
}

// testPANs are the published test card numbers of the major acquirers. They
// pass Luhn and a network check but never identify a person, and they show
// up constantly in developer chats.
var testPANs = [...]string{
	"4111111111111111", "4012888888881881", "4222222222222", "4242424242424242",
	"4000056655665556", "4000000000000002", "4000000000000077", "4000000000000010",
	"4917610000000000", "4000000000003220", "4012000033330026", "4005519200000004",
	"5555555555554444", "5105105105105100", "5200828282828210", "5431111111111111",
	"2223003122003222", "2223000048400011", "5454545454545454",
	"378282246310005", "371449635398431", "378734493671000", "340000000000009",
	"6011111111111117", "6011000990139424", "6011000000000012",
	"3530111333300000", "3566002020360505", "3566111111111113",
	"30569309025904", "38520000023237", "36227206271667",
	"6200000000000005", "6205500000000000004", "6250941006528599", "6221261111111113",
	"6759649826438453", "6799990100000000019",
}

// isTestPAN reports whether d is a published test card number.
func isTestPAN(d []byte) bool {
	for _, p := range testPANs {
		if string(d) == p {
			return true
		}
	}
	return false
}

// ValidPaymentCard reports whether s is a card number (ASCII digits only)
// that passes Luhn and matches a network's prefix and length. Published test
// PANs and all-same-digit runs are rejected.
func ValidPaymentCard(s string) bool {
	if !luhn(s) || allSame(s) || cardNetwork(s) == "" {
		return false
	}
	for _, p := range testPANs {
		if s == p {
			return false
		}
	}
	return true
}

// detectCard reports a payment card in the digits d (12-19 of them). A
// UnionPay card is reported as UnionPayCard when that kind is enabled, else
// as PaymentCard. Maestro-only matches shorter than 16 digits need a card
// keyword: 12-15 digit numbers starting 5/6 are common in order numbers and
// one in ten passes Luhn. A whole 16-19 digit run that fails Luhn (or has no
// known network) is reported at 65 when a strong bank keyword is near,
// because older domestic debit cards do not always follow the IIN tables.
func (s *Scanner) detectCard(d []byte, start, end int, whole bool) bool {
	n := len(d)
	network := cardNetwork(d)
	valid := network != "" && luhn(d)
	if (!valid && (!whole || n < 16)) || allSame(d) || isTestPAN(d) {
		return false
	}
	if n == 18 {
		// A valid PRC ID is an ID even when that detector is disabled.
		if ok, _, _ := checkPRC18(d, s.todayDate()); ok {
			return false
		}
	}
	kind := func(network string) (Kind, bool) {
		if network == netUnionPay && s.enabled.Has(UnionPayCard) {
			return UnionPayCard, true
		}
		return PaymentCard, s.enabled.Has(PaymentCard)
	}
	if valid {
		k, ok := kind(network)
		if !ok {
			return false
		}
		conf, ctx := s.checksumTier(start, end, ctxCard)
		if network == netMaestro && n < 16 && !ctx {
			return false
		}
		s.emit(k, start, end, conf, true, ctx, maskValue(d), network)
		return true
	}
	network = ""
	if d[0] == '6' && d[1] == '2' {
		network = netUnionPay
	}
	k, ok := kind(network)
	if !ok || !s.hasContext(start, end, ctxBank) {
		return false
	}
	s.emit(k, start, end, 65, false, true, maskValue(d), netUnverified)
	return true
}

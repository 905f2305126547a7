package detect

import "strings"

// Evidence masking. A Detection travels into audit logs, review queues and
// alerts, which must not become a second copy of the personal data they
// report. Evidence therefore shows at most the first two and last two
// characters of the normalized value, one '*' per hidden character, so a
// reviewer can tell findings apart and judge the shape without learning the
// value.

// maskKeep returns v with all but the first head and last tail bytes
// replaced by '*'. v is ASCII (a normalized value).
func maskKeep[T ~string | ~[]byte](v T, head, tail int) string {
	n := len(v)
	if head+tail >= n {
		head, tail = 0, 0
	}
	var b strings.Builder
	b.Grow(n)
	for i := 0; i < n; i++ {
		if i < head || i >= n-tail {
			b.WriteByte(v[i])
		} else {
			b.WriteByte('*')
		}
	}
	return b.String()
}

// maskValue is the default mask: two characters each side for values of 10
// or more, one for shorter ones (so at least half stays hidden), and
// nothing for values of 4 or fewer.
func maskValue[T ~string | ~[]byte](v T) string {
	switch n := len(v); {
	case n <= 4:
		return maskKeep(v, 0, 0)
	case n < 10:
		return maskKeep(v, 1, 1)
	}
	return maskKeep(v, 2, 2)
}

// maskPRC masks a PRC ID. Digit 17 encodes the holder's sex and digits 7-14
// the birth date, so only the province code and, on 18-character IDs, the
// check character are shown: 11***************X. The legacy 15-digit form
// ends with the sex digit and shows the province only.
func maskPRC[T ~string | ~[]byte](v T) string {
	if len(v) == 18 {
		return maskKeep(v, 2, 1)
	}
	return maskKeep(v, 2, 0)
}

// maskCrypto shows the first and last four characters, which is how wallets
// themselves abbreviate addresses, so reviewers can match them by eye.
func maskCrypto[T ~string | ~[]byte](v T) string {
	if len(v) <= 12 {
		return maskValue(v)
	}
	return maskKeep(v, 4, 4)
}

// maskEmail shows the first character of the local part and the domain:
// j***@example.com. The domain is kept because it carries the policy signal
// (personal provider, competitor, ...).
func maskEmail(local, domain string) string {
	var b strings.Builder
	b.Grow(len(domain) + 5)
	if local != "" {
		b.WriteByte(local[0])
	}
	b.WriteString("***@")
	b.WriteString(domain)
	return b.String()
}

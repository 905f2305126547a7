package capture

import (
	"strings"
	"unicode/utf8"
)

// JoinText composes a record's text from a message's parts (a link's title,
// description and URL, say): blank parts are left out and the rest joined
// with sep as they were sent, so the text stays the sender's.
func JoinText(sep string, parts ...string) string {
	kept := make([]string, 0, len(parts))
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, sep)
}

// Clip shortens s to at most n bytes without splitting a UTF-8 sequence,
// so provider values over a limit of Validate still make a valid record.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

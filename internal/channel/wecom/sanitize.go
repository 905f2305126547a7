package wecom

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode/utf8"

	"github.com/vigil-operator/vigil/internal/capture"
)

// cleanText makes provider text storable: valid UTF-8 and within
// capture.MaxTextBytes, cut at a rune boundary. A record the sink refuses
// would otherwise block the callback (retried forever) or the kf cursor.
func cleanText(s string) string {
	return clip(strings.ToValidUTF8(s, "\uFFFD"), capture.MaxTextBytes)
}

// cleanID keeps an id within capture.MaxIDBytes; an over-long one (never
// seen from WeCom) is replaced by its hash so it stays unique.
func cleanID(s string) string {
	if len(s) <= capture.MaxIDBytes {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// clip cuts s to at most n bytes without splitting a rune.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// cleanParticipant bounds a participant's fields.
func cleanParticipant(p capture.Participant) capture.Participant {
	p.ID = cleanID(p.ID)
	p.DisplayName = clip(strings.ToValidUTF8(p.DisplayName, "\uFFFD"), 1024)
	return p
}

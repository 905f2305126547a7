package wecom

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/vigil-operator/vigil/internal/capture"
)

// cleanText makes provider text storable: valid UTF-8 and within
// capture.MaxTextBytes, cut at a rune boundary. A record the sink refuses
// would otherwise block the callback (retried forever) or the kf cursor.
func cleanText(s string) string {
	return capture.Clip(strings.ToValidUTF8(s, "\uFFFD"), capture.MaxTextBytes)
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

// cleanParticipant bounds a participant's fields.
func cleanParticipant(p capture.Participant) capture.Participant {
	p.ID = cleanID(p.ID)
	p.DisplayName = capture.Clip(strings.ToValidUTF8(p.DisplayName, "\uFFFD"), 1024)
	return p
}

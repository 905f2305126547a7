package export

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// File layout of an export. Everything is relative to the export's root.
const (
	ManifestFile       = "manifest.json"
	ManifestSHA256File = "manifest.sha256"
	DATFile            = "export.dat"
	nativesDir         = "natives"
	textDir            = "text"
	emlDir             = "eml"
	rsmfDir            = "rsmf"
	attachmentsDir     = "attachments"
)

// idComponent turns a record id into a file name component. Record ids are
// ULIDs and are used as they are; anything else (an id the archive did not
// mint) is replaced by a hash, so that no id can name a path outside its
// folder or collide with a device name.
func idComponent(id string) string {
	if id != "" && len(id) <= 64 && strings.IndexFunc(id, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z')
	}) < 0 {
		return id
	}
	return "x" + shortHash(id, 32)
}

func nativePath(id string) string   { return nativesDir + "/" + idComponent(id) + ".json" }
func findingsPath(id string) string { return nativesDir + "/" + idComponent(id) + ".findings.json" }
func textPath(id string) string     { return textDir + "/" + idComponent(id) + ".txt" }
func emlPath(id string) string      { return emlDir + "/" + idComponent(id) + ".eml" }

// attachmentName is an attachment's file name: its index keeps names unique
// within the record, the sanitized original name keeps it recognizable.
func attachmentName(index int, name string) string {
	return fmt.Sprintf("%d-%s", index, safeComponent(name, 100, "attachment"))
}

func attachmentPath(id string, index int, name string) string {
	return attachmentsDir + "/" + idComponent(id) + "/" + attachmentName(index, name)
}

// rsmfPath names one conversation-day: the date first so files sort by time,
// then a readable part of the channel and conversation, then a hash of the
// whole key so that two conversations with similar names never collide.
func rsmfPath(k sliceKey) string {
	conv := safeComponent(k.Conversation, 40, "conversation")
	return fmt.Sprintf("%s/%s/%s-%s-%s.rsmf", rsmfDir, k.Day, safeComponent(k.Channel, 20, "channel"), conv, shortHash(k.String(), 12))
}

// safeComponent keeps letters, digits, '.', '-' and '_' of s (in any
// script, so Chinese names stay readable), replaces the rest with '_', and
// cuts the result to at most max bytes on a character boundary.
func safeComponent(s string, max int, fallback string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			b.WriteByte('_')
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.TrimLeft(b.String(), ".")
	if len(out) > max {
		out = out[:max]
		for !utf8.ValidString(out) {
			out = out[:len(out)-1]
		}
	}
	if out == "" {
		return fallback
	}
	return out
}

// shortHash is the first n hex digits of SHA-256(s).
func shortHash(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:n]
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

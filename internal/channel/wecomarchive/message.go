package wecomarchive

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Message is the common part of a decrypted archive message (§3.2 of the
// vendor doc); the msgtype-specific object stays raw in Fields.
type Message struct {
	MsgID   string   `json:"msgid"`
	Action  string   `json:"action"`
	From    string   `json:"from"`
	ToList  []string `json:"tolist"`
	RoomID  string   `json:"roomid"`
	MsgTime int64    `json:"msgtime"`
	MsgType string   `json:"msgtype"`
	// Time and User are set on action "switch" records, which have no
	// msgtype, from or tolist.
	Time int64  `json:"time"`
	User string `json:"user"`
	// VoiceID is set on meeting_voice_call, VoipID on voip_doc_share.
	VoiceID string `json:"voiceid"`
	VoipID  string `json:"voipid"`
	// Fields holds every top-level key, for the msgtype-specific objects.
	Fields map[string]json.RawMessage `json:"-"`
}

// ParseMessage decodes decrypted message JSON. Control characters, which
// the vendor's plaintext is known to contain inside strings, are escaped in
// a working copy; the caller keeps and hashes the original bytes.
func ParseMessage(plain []byte) (*Message, error) {
	data := plain
	if hasControl(plain) {
		data = escapeControls(plain)
	}
	var m Message
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decrypted message is not JSON: %w", err)
	}
	if err := json.Unmarshal(data, &m.Fields); err != nil {
		return nil, fmt.Errorf("decrypted message is not a JSON object: %w", err)
	}
	return &m, nil
}

// Field decodes the top-level key into v; false when absent or mistyped.
func (m *Message) Field(key string, v any) bool {
	raw, ok := m.Fields[key]
	if !ok || len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}

func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			return true
		}
	}
	// Raw newlines and tabs inside strings are also invalid JSON; the slow
	// path handles them only when decoding fails.
	return !json.Valid(b)
}

// escapeControls rewrites bytes below 0x20 inside JSON strings as \u00XX
// escapes and drops them outside strings (where only whitespace is legal).
func escapeControls(b []byte) []byte {
	out := make([]byte, 0, len(b)+16)
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString && escaped:
			escaped = false
			if c < 0x20 {
				out = append(out, 'u', '0', '0', hexDigit(c>>4), hexDigit(c&0xf))
				continue
			}
		case inString && c == '\\':
			escaped = true
		case inString && c == '"':
			inString = false
		case inString && c < 0x20:
			out = append(out, '\\', 'u', '0', '0', hexDigit(c>>4), hexDigit(c&0xf))
			continue
		case !inString && c == '"':
			inString = true
		case !inString && c < 0x20 && c != '\n' && c != '\r' && c != '\t':
			continue
		}
		out = append(out, c)
	}
	return out
}

func hexDigit(n byte) byte { return "0123456789abcdef"[n&0xf] }

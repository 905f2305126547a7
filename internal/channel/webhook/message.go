package webhook

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
)

// MaxMessagesPerRequest bounds a {"messages":[...]} body.
const MaxMessagesPerRequest = 500

// errMalformed wraps every body problem; the handler answers 400 with it.
var errMalformed = errors.New("malformed body")

// Message is one message in the webhook's JSON format.
type Message struct {
	ID           string        `json:"id"`
	Conversation Conversation  `json:"conversation"`
	Sender       Participant   `json:"sender"`
	Recipients   []Participant `json:"recipients,omitempty"`
	Direction    string        `json:"direction,omitempty"`
	Text         string        `json:"text,omitempty"`
	SentAt       string        `json:"sentAt"`
	Kind         string        `json:"kind,omitempty"`
	Target       string        `json:"target,omitempty"`
	ReplyTo      string        `json:"replyTo,omitempty"`
	Attachments  []Attachment  `json:"attachments,omitempty"`
}

// Conversation is where a message was sent.
type Conversation struct {
	ID   string `json:"id"`
	Type string `json:"type,omitempty"`
	Name string `json:"name,omitempty"`
}

// Participant is a sender or recipient.
type Participant struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName,omitempty"`
	Affiliation string `json:"affiliation,omitempty"`
}

// Attachment describes a file; the webhook carries metadata only.
type Attachment struct {
	Name   string `json:"name,omitempty"`
	MIME   string `json:"mime,omitempty"`
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// body is either one message or {"messages":[...]}; decoding into the union in
// one pass keeps unknown-field rejection for both shapes.
type body struct {
	Message
	Messages []Message `json:"messages"`
}

func (m *Message) isZero() bool {
	return m.ID == "" && m.Conversation == (Conversation{}) && m.Sender == (Participant{}) &&
		m.Recipients == nil && m.Direction == "" && m.Text == "" && m.SentAt == "" && m.Kind == "" &&
		m.Target == "" && m.ReplyTo == "" && m.Attachments == nil
}

var (
	webhookKinds = map[string]capture.Kind{
		"message": capture.KindMessage, "edit": capture.KindEdit, "recall": capture.KindRecall,
		"reaction": capture.KindReaction, "consent": capture.KindConsent,
		"membership": capture.KindMembership, "status": capture.KindStatus,
	}
	// kindsWithTarget point at an earlier message and mean nothing without it.
	kindsWithTarget = map[capture.Kind]bool{capture.KindEdit: true, capture.KindRecall: true, capture.KindReaction: true}
	directions      = map[string]bool{"": true, "inbound": true, "outbound": true, "internal": true}
	affiliations    = map[string]bool{"": true, "internal": true, "external": true, "bot": true, "system": true, "unknown": true}
	convTypes       = map[string]bool{"": true, "direct": true, "group": true, "channel": true, "thread": true, "customer_service": true, "broadcast": true}
)

// parseBody decodes and checks a webhook body. It returns the messages with
// sentAt parsed, or an error wrapping errMalformed that names the field.
func parseBody(b []byte) ([]Message, []time.Time, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var parsed body
	if err := dec.Decode(&parsed); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("%w: more than one JSON value", errMalformed)
	}
	var msgs []Message
	prefix := "messages[%d]"
	switch {
	case parsed.Messages != nil && !parsed.Message.isZero():
		return nil, nil, fmt.Errorf("%w: a body is either one message or {\"messages\":[...]}, not both", errMalformed)
	case parsed.Messages != nil:
		if len(parsed.Messages) == 0 || len(parsed.Messages) > MaxMessagesPerRequest {
			return nil, nil, fmt.Errorf("%w: messages must hold 1 to %d messages, got %d", errMalformed, MaxMessagesPerRequest, len(parsed.Messages))
		}
		msgs = parsed.Messages
	default:
		msgs = []Message{parsed.Message}
		prefix = "message"
	}
	sentAt := make([]time.Time, len(msgs))
	seen := make(map[string]int, len(msgs))
	for i := range msgs {
		where := prefix
		if prefix != "message" {
			where = fmt.Sprintf(prefix, i)
		}
		t, err := checkMessage(&msgs[i])
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %s.%v", errMalformed, where, err)
		}
		key := msgs[i].Kind + "\x00" + msgs[i].Target + "\x00" + msgs[i].ID
		if j, dup := seen[key]; dup {
			return nil, nil, fmt.Errorf("%w: %s repeats messages[%d] (same id, kind and target)", errMalformed, where, j)
		}
		seen[key] = i
		sentAt[i] = t
	}
	return msgs, sentAt, nil
}

// checkMessage validates one message, fills the default kind and returns its
// sentAt. Errors start with the offending field's name.
func checkMessage(m *Message) (time.Time, error) {
	if m.Kind == "" {
		m.Kind = string(capture.KindMessage)
	}
	kind, ok := webhookKinds[m.Kind]
	switch {
	case m.ID == "" || len(m.ID) > capture.MaxIDBytes:
		return time.Time{}, fmt.Errorf("id: required, at most %d bytes", capture.MaxIDBytes)
	case m.Conversation.ID == "":
		return time.Time{}, errors.New("conversation.id: required")
	case !convTypes[m.Conversation.Type]:
		return time.Time{}, fmt.Errorf("conversation.type: %q is not direct, group, channel, thread, customer_service or broadcast", clip(m.Conversation.Type))
	case m.Sender.ID == "":
		return time.Time{}, errors.New("sender.id: required")
	case !affiliations[m.Sender.Affiliation]:
		return time.Time{}, fmt.Errorf("sender.affiliation: %q is not internal, external, bot, system or unknown", clip(m.Sender.Affiliation))
	case !directions[m.Direction]:
		return time.Time{}, fmt.Errorf("direction: %q is not inbound, outbound or internal", clip(m.Direction))
	case !ok:
		return time.Time{}, fmt.Errorf("kind: %q is not message, edit, recall, reaction, consent, membership or status", clip(m.Kind))
	case kindsWithTarget[kind] && m.Target == "":
		return time.Time{}, fmt.Errorf("target: required for kind %s", kind)
	case len(m.Text) > capture.MaxTextBytes:
		return time.Time{}, fmt.Errorf("text: %d bytes; the limit is %d", len(m.Text), capture.MaxTextBytes)
	case m.SentAt == "":
		return time.Time{}, errors.New("sentAt: required")
	}
	t, err := time.Parse(time.RFC3339Nano, m.SentAt)
	if err != nil {
		return time.Time{}, fmt.Errorf("sentAt: %q is not RFC 3339", clip(m.SentAt))
	}
	for i, r := range m.Recipients {
		if r.ID == "" {
			return time.Time{}, fmt.Errorf("recipients[%d].id: required", i)
		}
		if !affiliations[r.Affiliation] {
			return time.Time{}, fmt.Errorf("recipients[%d].affiliation: %q is not internal, external, bot, system or unknown", i, clip(r.Affiliation))
		}
	}
	for i, a := range m.Attachments {
		if a.Size < 0 {
			return time.Time{}, fmt.Errorf("attachments[%d].size: must not be negative", i)
		}
		if a.SHA256 != "" {
			if b, err := hex.DecodeString(a.SHA256); err != nil || len(b) != 32 {
				return time.Time{}, fmt.Errorf("attachments[%d].sha256: must be 64 hex digits", i)
			}
		}
	}
	return t.UTC(), nil
}

// clip shortens echoed values so error messages stay small.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

package webhook

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
)

// ChannelName is capture.Record.Channel for this channel.
const ChannelName = "webhook"

// toRecords maps checked messages to capture.v1. The raw reference is the
// whole signed body, which is what the signature covers.
func toRecords(msgs []Message, sentAt []time.Time, rawBody []byte, tenant, account string) []*capture.Record {
	sum := sha256.Sum256(rawBody)
	raw := capture.RawRef{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(rawBody)), ContentType: "application/json"}
	recs := make([]*capture.Record, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		r := &capture.Record{
			SchemaVersion: capture.SchemaVersion,
			Channel:       ChannelName,
			Tenant:        tenant,
			Account:       account,
			NativeID:      m.ID,
			Kind:          capture.Kind(m.Kind),
			Conversation:  capture.Conversation{ID: m.Conversation.ID, Type: m.Conversation.Type, Name: m.Conversation.Name},
			Sender:        toParticipant(m.Sender),
			Direction:     capture.Direction(m.Direction),
			Text:          m.Text,
			ReplyTo:       m.ReplyTo,
			Target:        m.Target,
			SentAt:        sentAt[i],
			Raw:           raw,
			Provenance:    capture.Provenance{SigVerified: true, SigScheme: SigScheme},
		}
		if m.Kind == string(capture.KindMessage) {
			r.MsgType = "text"
			if m.Text == "" && len(m.Attachments) > 0 {
				r.MsgType = "file"
			}
		}
		for _, p := range m.Recipients {
			r.Recipients = append(r.Recipients, toParticipant(p))
		}
		for _, a := range m.Attachments {
			r.Attachments = append(r.Attachments, capture.Attachment{
				Name: a.Name, MIME: a.MIME, Size: a.Size, SHA256: strings.ToLower(a.SHA256),
				// The webhook carries metadata only; content never arrives.
				State: "pending",
			})
		}
		r.SetDedupKey()
		recs[i] = r
	}
	return recs
}

func toParticipant(p Participant) capture.Participant {
	aff := capture.Affiliation(p.Affiliation)
	if aff == "" {
		aff = capture.AffiliationUnknown
	}
	return capture.Participant{ID: p.ID, DisplayName: p.DisplayName, Affiliation: aff}
}

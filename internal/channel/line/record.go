package line

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
)

// ChannelName is capture.Record.Channel for this channel.
const ChannelName = "line"

var (
	// msgTypes maps LINE message types to capture.v1 msgType; others are
	// kept as "unknown" with their nativeType.
	msgTypes = map[string]string{
		"text": "text", "image": "image", "video": "video", "audio": "audio", "file": "file",
		"location": "location", "sticker": "sticker",
	}
	// withContent are the types whose content is fetched by message id.
	withContent = map[string]bool{"image": true, "video": true, "audio": true, "file": true}
	// membershipEvents change who is in a conversation with the account.
	membershipEvents = map[string]bool{
		"follow": true, "unfollow": true, "join": true, "leave": true, "memberJoined": true, "memberLeft": true,
	}
	conversationTypes = map[string]string{"user": "direct", "group": "group", "room": "group"}
)

// mapper turns webhooks for one official account into records.
type mapper struct {
	botUserID string
}

// toRecords maps every event; any unusable event fails the whole webhook.
// keys[i] is recs[i]'s webhookEventId, stable across LINE's redeliveries.
func (mp *mapper) toRecords(w *Webhook, rawBody []byte) (recs []*capture.Record, keys []string, err error) {
	sum := sha256.Sum256(rawBody)
	raw := capture.RawRef{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(rawBody)), ContentType: "application/json"}
	recs = make([]*capture.Record, 0, len(w.Events))
	keys = make([]string, 0, len(w.Events))
	for i := range w.Events {
		r, err := mp.toRecord(&w.Events[i], raw)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: events[%d]: %v", errMalformed, i, err)
		}
		recs = append(recs, r)
		keys = append(keys, w.Events[i].WebhookEventID)
	}
	return recs, keys, nil
}

func (mp *mapper) toRecord(e *Event, raw capture.RawRef) (*capture.Record, error) {
	if err := checkID("webhookEventId", e.WebhookEventID); err != nil {
		return nil, err
	}
	if e.Timestamp <= 0 {
		return nil, fmt.Errorf("timestamp must be positive milliseconds")
	}
	convID, err := conversationID(&e.Source)
	if err != nil {
		return nil, err
	}
	account := capture.Participant{ID: mp.botUserID, IDType: "line_bot_user_id", Affiliation: capture.AffiliationInternal}
	r := &capture.Record{
		SchemaVersion: capture.SchemaVersion,
		Channel:       ChannelName,
		Account:       mp.botUserID,
		NativeID:      e.WebhookEventID,
		NativeType:    e.Type,
		Conversation:  capture.Conversation{ID: convID, Type: conversationTypes[e.Source.Type]},
		// An official account's counterparties are its customers.
		Sender:     capture.Participant{ID: e.Source.UserID, IDType: "line_user_id", Affiliation: capture.AffiliationExternal},
		Direction:  capture.DirectionInbound,
		SentAt:     time.UnixMilli(e.Timestamp).UTC(),
		Raw:        raw,
		Provenance: capture.Provenance{SigVerified: true, SigScheme: SigScheme, Redelivery: e.DeliveryContext.IsRedelivery},
	}
	if e.Source.Type == "user" {
		r.Recipients = []capture.Participant{account}
	}
	switch {
	case e.Type == "message":
		if err := mapMessage(r, e.Message); err != nil {
			return nil, err
		}
	case e.Type == "unsend":
		if e.Unsend == nil {
			return nil, fmt.Errorf("unsend without unsend.messageId")
		}
		if err := checkID("unsend.messageId", e.Unsend.MessageID); err != nil {
			return nil, err
		}
		r.Kind = capture.KindRecall
		r.Target = e.Unsend.MessageID
	case membershipEvents[e.Type]:
		r.Kind = capture.KindMembership
		mapMembers(r, e)
	default:
		// postback, beacon, accountLink, things, videoPlayComplete,
		// membership and types LINE adds later: kept with their type.
		r.Kind = capture.KindSystem
	}
	r.SetDedupKey()
	return r, nil
}

// conversationID is the group, the room or the one-to-one chat's user.
func conversationID(s *Source) (string, error) {
	var id string
	switch s.Type {
	case "user":
		id = s.UserID
	case "group":
		id = s.GroupID
	case "room":
		id = s.RoomID
	default:
		return "", fmt.Errorf("source.type must be user, group or room")
	}
	if err := checkID("source."+s.Type+"Id", id); err != nil {
		return "", err
	}
	return id, nil
}

// mapMessage makes a message record. Its nativeID is the message id, which
// unsend and quotes refer to.
func mapMessage(r *capture.Record, m *Message) error {
	if m == nil {
		return fmt.Errorf("message event without message")
	}
	if err := checkID("message.id", m.ID); err != nil {
		return err
	}
	if len(m.QuotedMessageID) > capture.MaxIDBytes {
		return fmt.Errorf("message.quotedMessageId is over %d bytes", capture.MaxIDBytes)
	}
	r.Kind = capture.KindMessage
	r.NativeID = m.ID
	r.NativeType = "message:" + m.Type
	r.ReplyTo = m.QuotedMessageID
	r.MsgType = msgTypes[m.Type]
	if r.MsgType == "" {
		r.MsgType = "unknown"
	}
	switch m.Type {
	case "text":
		r.Text = m.Text
		if m.Mention != nil {
			for _, who := range m.Mention.Mentionees {
				if who.UserID != "" {
					r.Mentions = append(r.Mentions, who.UserID)
				}
			}
		}
	case "location":
		r.Text = strings.Join(nonEmpty(m.Title, m.Address,
			strconv.FormatFloat(m.Latitude, 'f', -1, 64)+","+strconv.FormatFloat(m.Longitude, 'f', -1, 64)), ", ")
	case "sticker":
		// Keywords describe the sticker; they are what a reviewer can read.
		r.Text = strings.Join(m.Keywords, " ")
	}
	if withContent[m.Type] {
		// Content is fetched from /v2/bot/message/{id}/content.
		r.Attachments = []capture.Attachment{{NativeRef: m.ID, Name: m.FileName, Size: max(m.FileSize, 0), State: "pending"}}
	}
	return nil
}

// mapMembers lists who joined or left as recipients of the membership record.
func mapMembers(r *capture.Record, e *Event) {
	var ms *Members
	switch e.Type {
	case "memberJoined":
		ms = e.Joined
	case "memberLeft":
		ms = e.Left
	}
	if ms == nil {
		return
	}
	for _, m := range ms.Members {
		r.Recipients = append(r.Recipients, capture.Participant{ID: m.UserID, IDType: "line_user_id", Affiliation: capture.AffiliationExternal})
	}
}

func checkID(field, v string) error {
	if v == "" || len(v) > capture.MaxIDBytes {
		return fmt.Errorf("%s must be 1 to %d bytes", field, capture.MaxIDBytes)
	}
	return nil
}

func nonEmpty(parts ...string) []string {
	kept := parts[:0:0]
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return kept
}

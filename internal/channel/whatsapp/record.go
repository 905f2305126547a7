package whatsapp

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/channel/inbound"
)

// ChannelName is capture.Record.Channel for this channel.
const ChannelName = "whatsapp"

// msgTypes maps Cloud API message types to capture.v1 msgType. Types not
// listed (unsupported, and any type Meta adds later) are kept as "unknown"
// with their nativeType.
var msgTypes = map[string]string{
	"text": "text", "image": "image", "audio": "audio", "video": "video", "document": "file",
	"sticker": "sticker", "location": "location", "contacts": "contact_card", "interactive": "text",
	"button": "text", "order": "order",
}

// batch is what one notification maps to: the records with the keys they
// are deduplicated on, and what was skipped.
type batch struct {
	recs []*capture.Record
	// keys[i] identifies recs[i] across Meta's redeliveries: the wamid, and
	// for statuses the wamid and the status.
	keys []string
	// otherNumber counts changes for a phone number other than ours; they
	// are never captured here.
	otherNumber int
	// otherField counts changes of fields that carry no communications.
	otherField int
}

// mapper turns notifications for one business phone number into records.
type mapper struct {
	phoneNumberID string
}

// toRecords maps every message, echo and status of our phone number. Any
// unusable item fails the whole notification, so a batch is never half
// captured.
func (mp *mapper) toRecords(n *Notification, rawBody []byte) (*batch, error) {
	sum := sha256.Sum256(rawBody)
	base := capture.Record{
		SchemaVersion: capture.SchemaVersion,
		Channel:       ChannelName,
		Account:       mp.phoneNumberID,
		Raw:           capture.RawRef{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(rawBody)), ContentType: "application/json"},
		Provenance:    capture.Provenance{SigVerified: true, SigScheme: SigScheme},
	}
	b := &batch{}
	for i := range n.Entry {
		e := &n.Entry[i]
		for j := range e.Changes {
			c := &e.Changes[j]
			if c.Field != fieldMessages && c.Field != fieldEchoes {
				b.otherField++
				continue
			}
			if c.Value.Metadata.PhoneNumberID != mp.phoneNumberID {
				b.otherNumber++
				continue
			}
			where := fmt.Sprintf("entry[%d].changes[%d]", i, j)
			if err := mp.mapChange(b, base, e.ID, &c.Value, where); err != nil {
				return nil, err
			}
		}
	}
	return b, nil
}

func (mp *mapper) mapChange(b *batch, base capture.Record, waba string, v *Value, where string) error {
	base.Tenant = waba
	business := capture.Participant{
		ID: mp.phoneNumberID, IDType: "phone_number_id", DisplayName: v.Metadata.DisplayPhoneNumber,
		Affiliation: capture.AffiliationInternal,
	}
	names := make(map[string]string, len(v.Contacts))
	for _, c := range v.Contacts {
		names[c.WaID] = c.Profile.Name
	}
	for k := range v.Messages {
		r, err := messageRecord(base, &v.Messages[k], business, names, false)
		if err != nil {
			return fmt.Errorf("%w: %s.value.messages[%d]: %v", errMalformed, where, k, err)
		}
		b.add(r, "m:"+r.NativeID)
	}
	for k := range v.MessageEchoes {
		r, err := messageRecord(base, &v.MessageEchoes[k], business, names, true)
		if err != nil {
			return fmt.Errorf("%w: %s.value.message_echoes[%d]: %v", errMalformed, where, k, err)
		}
		b.add(r, "m:"+r.NativeID)
	}
	for k := range v.Statuses {
		r, err := statusRecord(base, &v.Statuses[k], business)
		if err != nil {
			return fmt.Errorf("%w: %s.value.statuses[%d]: %v", errMalformed, where, k, err)
		}
		b.add(r, "s:"+r.NativeID)
	}
	return nil
}

func (b *batch) add(r *capture.Record, key string) {
	r.SetDedupKey()
	b.recs = append(b.recs, r)
	b.keys = append(b.keys, key)
}

func checkID(field, v string) error {
	if v == "" || len(v) > capture.MaxIDBytes {
		return fmt.Errorf("%s must be 1 to %d bytes", field, capture.MaxIDBytes)
	}
	return nil
}

// messageRecord maps an inbound message (the customer wrote to the business)
// or an echo (the business wrote from the WhatsApp Business app).
func messageRecord(base capture.Record, m *Message, business capture.Participant, names map[string]string, echo bool) (*capture.Record, error) {
	if err := checkID("id", m.ID); err != nil {
		return nil, err
	}
	customerID := m.From
	if echo {
		customerID = m.To
	}
	if err := checkID("the customer's wa_id", customerID); err != nil {
		return nil, err
	}
	sentAt, err := inbound.ParseUnixSeconds(m.Timestamp)
	if err != nil {
		return nil, fmt.Errorf("timestamp: %w", err)
	}
	// The counterparty of a business number is always outside the
	// organisation.
	customer := capture.Participant{ID: customerID, IDType: "wa_id", DisplayName: names[customerID], Affiliation: capture.AffiliationExternal}
	r := base
	r.NativeID = m.ID
	r.Kind = capture.KindMessage
	r.NativeType = m.Type
	r.Conversation = capture.Conversation{ID: customerID, Type: "direct"}
	r.SentAt = sentAt.UTC()
	r.Sender, r.Recipients, r.Direction = customer, []capture.Participant{business}, capture.DirectionInbound
	if echo {
		r.Sender, r.Recipients, r.Direction = business, []capture.Participant{customer}, capture.DirectionOutbound
	}
	if m.Context != nil && m.Context.ID != "" {
		r.ReplyTo = m.Context.ID
	}
	if err := mapContent(&r, m); err != nil {
		return nil, err
	}
	return &r, nil
}

// mapContent fills the type-specific part of a message record.
func mapContent(r *capture.Record, m *Message) error {
	r.MsgType = msgTypes[m.Type]
	switch m.Type {
	case "text":
		if m.Text != nil {
			r.Text = m.Text.Body
		}
	case "image", "audio", "video", "document", "sticker":
		media := map[string]*Media{"image": m.Image, "audio": m.Audio, "video": m.Video, "document": m.Document, "sticker": m.Sticker}[m.Type]
		if media == nil || media.ID == "" {
			return fmt.Errorf("a %s message must carry its media id", m.Type)
		}
		r.Text = media.Caption
		r.Attachments = []capture.Attachment{{NativeRef: media.ID, Name: media.Filename, MIME: media.MIMEType, State: "pending"}}
	case "location":
		if l := m.Location; l != nil {
			r.Text = capture.JoinText(", ", l.Name, l.Address, strconv.FormatFloat(l.Latitude, 'f', -1, 64)+","+strconv.FormatFloat(l.Longitude, 'f', -1, 64))
		}
	case "contacts":
		cards := make([]string, 0, len(m.Contacts))
		for _, c := range m.Contacts {
			phones := make([]string, 0, len(c.Phones))
			for _, p := range c.Phones {
				phones = append(phones, p.Phone)
			}
			cards = append(cards, capture.JoinText(" ", c.Name.FormattedName, strings.Join(phones, " ")))
		}
		r.Text = strings.Join(cards, "\n")
	case "interactive":
		if it := m.Interactive; it != nil {
			switch {
			case it.ButtonReply != nil:
				r.Text = it.ButtonReply.Title
			case it.ListReply != nil:
				r.Text = it.ListReply.Title
			case it.NFMReply != nil:
				// A flow's answers are what the customer said.
				r.Text = capture.JoinText("\n", it.NFMReply.Body, it.NFMReply.ResponseJSON)
			}
		}
	case "button":
		if m.Button != nil {
			r.Text = m.Button.Text
		}
	case "order":
		if o := m.Order; o != nil {
			lines := []string{o.Text}
			for _, p := range o.ProductItems {
				lines = append(lines, fmt.Sprintf("%s x%s @ %s %s", p.ProductRetailerID, rawNumber(p.Quantity), rawNumber(p.ItemPrice), p.Currency))
			}
			r.Text = capture.JoinText("\n", lines...)
		}
	case "reaction":
		return mapReaction(r, m.Reaction)
	case "system":
		// A notice from WhatsApp itself, such as a changed number.
		r.Kind = capture.KindSystem
		r.Sender.Affiliation = capture.AffiliationSystem
		if m.System != nil {
			r.Text = m.System.Body
			r.NativeType = capture.JoinText(":", "system", m.System.Type)
		}
	default:
		r.MsgType = "unknown"
	}
	return nil
}

// mapReaction makes a reaction record pointing at the message reacted to.
func mapReaction(r *capture.Record, re *Reaction) error {
	if re == nil {
		return fmt.Errorf("a reaction must carry reaction.message_id")
	}
	if err := checkID("reaction.message_id", re.MessageID); err != nil {
		return err
	}
	r.Kind = capture.KindReaction
	r.Target = re.MessageID
	r.MsgType = ""
	// WhatsApp sends a removal as an empty emoji, without saying which
	// emoji went away.
	r.Reaction = &capture.Reaction{Emoji: re.Emoji, Removed: re.Emoji == ""}
	return nil
}

// statusRecord maps a delivery status of a message the business sent. Each
// status of a message is its own record: nativeID is "<wamid>:<status>" and
// target is the wamid.
func statusRecord(base capture.Record, s *Status, business capture.Participant) (*capture.Record, error) {
	if err := checkID("id", s.ID); err != nil {
		return nil, err
	}
	if s.Status == "" || len(s.Status) > 64 {
		return nil, fmt.Errorf("status must be 1 to 64 bytes")
	}
	if err := checkID("recipient_id", s.RecipientID); err != nil {
		return nil, err
	}
	at, err := inbound.ParseUnixSeconds(s.Timestamp)
	if err != nil {
		return nil, fmt.Errorf("timestamp: %w", err)
	}
	r := base
	r.Kind = capture.KindStatus
	r.NativeID = s.ID + ":" + s.Status
	if err := checkID("id and status", r.NativeID); err != nil {
		return nil, err
	}
	r.Target = s.ID
	r.NativeType = s.Status
	r.Conversation = capture.Conversation{ID: s.RecipientID, Type: "direct"}
	r.Sender = business
	r.Recipients = []capture.Participant{{ID: s.RecipientID, IDType: "wa_id", Affiliation: capture.AffiliationExternal}}
	r.Direction = capture.DirectionOutbound
	r.SentAt = at.UTC()
	errs := make([]string, 0, len(s.Errors))
	for _, e := range s.Errors {
		errs = append(errs, capture.JoinText(" ", strconv.Itoa(e.Code), e.Title))
	}
	r.Text = strings.Join(errs, "\n")
	return &r, nil
}

func rawNumber(raw []byte) string {
	return strings.Trim(string(raw), `"`)
}

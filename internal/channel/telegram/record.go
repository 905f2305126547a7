package telegram

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/vigil-operator/vigil/internal/capture"
)

// ChannelName is capture.Record.Channel for this channel.
const ChannelName = "telegram"

// Participant id types.
const (
	IDTypeUser = "tg_user_id"
	IDTypeChat = "tg_chat_id"
)

// mapper turns one parsed update into records.
type mapper struct {
	botID string
	// businessUser returns the Telegram Business user behind a connection,
	// when the connection has been seen since start.
	businessUser func(connectionID string) (int64, bool)
	raw          capture.RawRef
	updateID     uint64
	now          time.Time
}

func newMapper(botID string, businessUser func(string) (int64, bool), body []byte, updateID int64, now time.Time) *mapper {
	sum := sha256.Sum256(body)
	return &mapper{
		botID: botID, businessUser: businessUser, updateID: uint64(updateID), now: now,
		raw: capture.RawRef{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(body)), ContentType: "application/json", Envelope: "none"},
	}
}

// records maps the update. Update kinds capture does not use (callback
// queries, poll answers, chat member changes...) give no records.
func (mp *mapper) records(u *Update) []*capture.Record {
	var recs []*capture.Record
	switch {
	case u.Message != nil:
		recs = append(recs, mp.message(u.Message, "message", false))
	case u.EditedMessage != nil:
		recs = append(recs, mp.message(u.EditedMessage, "edited_message", true))
	case u.ChannelPost != nil:
		recs = append(recs, mp.message(u.ChannelPost, "channel_post", false))
	case u.EditedChannelPost != nil:
		recs = append(recs, mp.message(u.EditedChannelPost, "edited_channel_post", true))
	case u.BusinessMessage != nil:
		recs = append(recs, mp.message(u.BusinessMessage, "business_message", false))
	case u.EditedBusinessMessage != nil:
		recs = append(recs, mp.message(u.EditedBusinessMessage, "edited_business_message", true))
	case u.DeletedBusinessMessage != nil:
		recs = mp.deleted(u.DeletedBusinessMessage)
	case u.MessageReaction != nil:
		recs = mp.reaction(u.MessageReaction)
	case u.BusinessConnection != nil:
		recs = append(recs, mp.connection(u.BusinessConnection))
	}
	for _, r := range recs {
		r.SetDedupKey()
	}
	return recs
}

func (mp *mapper) base(nativeType string) *capture.Record {
	seq := mp.updateID
	return &capture.Record{
		SchemaVersion: capture.SchemaVersion,
		Channel:       ChannelName,
		Account:       mp.botID,
		NativeSeq:     &seq,
		Kind:          capture.KindMessage,
		NativeType:    nativeType,
		Raw:           mp.raw,
		// The secret token is a shared secret, not a signature over the body,
		// but it does authenticate the request as Telegram's.
		Provenance: capture.Provenance{SigVerified: true, SigScheme: SigScheme, Cursor: strconv.FormatUint(mp.updateID, 10)},
	}
}

// messageID is unique only within a chat (and, for business messages,
// within the business connection).
func messageID(connectionID string, chatID, msgID int64) string {
	id := strconv.FormatInt(chatID, 10) + ":" + strconv.FormatInt(msgID, 10)
	if connectionID != "" {
		return connectionID + ":" + id
	}
	return id
}

func conversation(c Chat, threadID int64) capture.Conversation {
	conv := capture.Conversation{ID: strconv.FormatInt(c.ID, 10), Name: c.Title}
	switch c.Type {
	case "private":
		conv.Type = "direct"
		conv.Name = strings.TrimSpace(c.FirstName + " " + c.LastName)
	case "group", "supergroup":
		conv.Type = "group"
	case "channel":
		conv.Type = "channel"
	}
	if conv.Name == "" && c.Username != "" {
		conv.Name = "@" + c.Username
	}
	if threadID != 0 {
		conv.ThreadID = strconv.FormatInt(threadID, 10)
	}
	return conv
}

func userParticipant(u *User) capture.Participant {
	p := capture.Participant{ID: strconv.FormatInt(u.ID, 10), IDType: IDTypeUser,
		DisplayName: strings.TrimSpace(u.FirstName + " " + u.LastName), Affiliation: capture.AffiliationUnknown}
	if p.DisplayName == "" && u.Username != "" {
		p.DisplayName = "@" + u.Username
	}
	if u.IsBot {
		p.Affiliation = capture.AffiliationBot
	}
	return p
}

func chatParticipant(c *Chat) capture.Participant {
	return capture.Participant{ID: strconv.FormatInt(c.ID, 10), IDType: IDTypeChat, DisplayName: c.Title, Affiliation: capture.AffiliationUnknown}
}

func (mp *mapper) message(m *Message, nativeType string, edited bool) *capture.Record {
	r := mp.base(nativeType)
	id := messageID(m.BusinessConnectionID, m.Chat.ID, m.MessageID)
	r.NativeID = id
	r.Conversation = conversation(m.Chat, m.MessageThreadID)
	r.SentAt = time.Unix(m.Date, 0).UTC()
	switch {
	case m.From != nil:
		r.Sender = userParticipant(m.From)
	case m.SenderChat != nil:
		r.Sender = chatParticipant(m.SenderChat)
	default:
		r.Sender = chatParticipant(&m.Chat)
	}
	if m.Chat.Type == "private" {
		r.Direction = capture.DirectionInbound
	}
	if m.BusinessConnectionID != "" {
		mp.business(m, r)
	}
	if edited {
		r.Kind = capture.KindEdit
		r.Target = id
		// Each edit is its own record: the same message can be edited again.
		r.NativeID = id + ":edit:" + strconv.FormatInt(m.EditDate, 10)
		at := time.Unix(m.EditDate, 0).UTC()
		r.EditedAt = &at
	}
	if m.ReplyToMessage != nil {
		chat := m.ReplyToMessage.Chat.ID
		if chat == 0 {
			chat = m.Chat.ID
		}
		r.ReplyTo = messageID(m.BusinessConnectionID, chat, m.ReplyToMessage.MessageID)
	}
	r.Text, r.Mentions = m.Text, mentions(m.Text, m.Entities)
	if m.Text == "" {
		r.Text, r.Mentions = m.Caption, mentions(m.Caption, m.CaptionEntities)
	}
	r.MsgType, r.Attachments = content(m, r)
	return r
}

// business sets account, direction and affiliations of a business message:
// it belongs to the business account. The sender is the business user when
// from.id is the connection's user (if the connection was seen since the
// connector started) or, in a private chat, when from.id is not the chat's
// id (a private chat's id is the customer's user id).
func (mp *mapper) business(m *Message, r *capture.Record) {
	owner, known := mp.businessUser(m.BusinessConnectionID)
	if known {
		r.Account = strconv.FormatInt(owner, 10)
	}
	if m.From == nil {
		return
	}
	var outbound, decided bool
	switch {
	case known:
		outbound, decided = m.From.ID == owner, true
	case m.Chat.Type == "private":
		outbound, decided = m.From.ID != m.Chat.ID, true
	}
	if !decided {
		r.Direction = ""
		return
	}
	if outbound {
		r.Direction = capture.DirectionOutbound
		r.Sender.Affiliation = capture.AffiliationInternal
	} else {
		r.Direction = capture.DirectionInbound
		if r.Sender.Affiliation != capture.AffiliationBot {
			r.Sender.Affiliation = capture.AffiliationExternal
		}
	}
}

// content returns the normalised msgType and the attachments (file_id as
// NativeRef; content is fetched separately with getFile).
func content(m *Message, r *capture.Record) (string, []capture.Attachment) {
	file := func(f *File, name string) []capture.Attachment {
		n := f.FileName
		if n == "" {
			n = name
		}
		return []capture.Attachment{{NativeRef: f.FileID, Name: n, MIME: f.MIMEType, Size: f.FileSize, State: "pending"}}
	}
	switch {
	case len(m.Photo) > 0:
		best := m.Photo[0]
		for _, p := range m.Photo[1:] {
			if p.Width*p.Height >= best.Width*best.Height {
				best = p
			}
		}
		return "image", []capture.Attachment{{NativeRef: best.FileID, Name: "photo", Size: best.FileSize, State: "pending"}}
	case m.Animation != nil: // also carries document; the animation says more
		return "video", file(m.Animation, "animation")
	case m.Document != nil:
		return "file", file(m.Document, "document")
	case m.Voice != nil:
		return "audio", file(m.Voice, "voice")
	case m.Audio != nil:
		return "audio", file(m.Audio, "audio")
	case m.Video != nil:
		return "video", file(m.Video, "video")
	case m.VideoNote != nil:
		return "video", file(m.VideoNote, "video_note")
	case m.Sticker != nil:
		if r.Text == "" {
			r.Text = m.Sticker.Emoji
		}
		return "sticker", file(&m.Sticker.File, "sticker")
	case m.Location != nil:
		r.Text = strconv.FormatFloat(m.Location.Latitude, 'f', -1, 64) + "," + strconv.FormatFloat(m.Location.Longitude, 'f', -1, 64)
		return "location", nil
	case m.Contact != nil:
		r.Text = strings.TrimSpace(m.Contact.FirstName+" "+m.Contact.LastName) + " " + m.Contact.PhoneNumber
		return "contact_card", nil
	case m.Poll != nil:
		parts := []string{m.Poll.Question}
		for _, o := range m.Poll.Options {
			parts = append(parts, "- "+o.Text)
		}
		r.Text = strings.Join(parts, "\n")
		return "vote", nil
	case m.Text != "":
		return "text", nil
	}
	return "unknown", nil
}

// mentions lists @usernames and the user ids of text mentions. Entity
// offsets count UTF-16 code units; out-of-range entities are skipped.
func mentions(text string, entities []MessageEntity) []string {
	var out []string
	var units []uint16
	for _, e := range entities {
		switch e.Type {
		case "text_mention":
			if e.User != nil {
				out = append(out, strconv.FormatInt(e.User.ID, 10))
			}
		case "mention":
			if units == nil {
				units = utf16.Encode([]rune(text))
			}
			if e.Offset < 0 || e.Length <= 0 || e.Offset > len(units) || e.Length > len(units)-e.Offset {
				continue
			}
			out = append(out, string(utf16.Decode(units[e.Offset:e.Offset+e.Length])))
		}
	}
	return out
}

func (mp *mapper) deleted(d *BusinessMessagesDeleted) []*capture.Record {
	recs := make([]*capture.Record, 0, len(d.MessageIDs))
	for _, id := range d.MessageIDs {
		r := mp.base("deleted_business_messages")
		r.Kind = capture.KindRecall
		r.NativeID = messageID(d.BusinessConnectionID, d.Chat.ID, id)
		r.Target = r.NativeID
		r.Conversation = conversation(d.Chat, 0)
		// The update carries no time or actor: the deletion is recorded when
		// it was received, by the chat.
		r.SentAt = mp.now.UTC()
		r.Sender = chatParticipant(&d.Chat)
		if owner, ok := mp.businessUser(d.BusinessConnectionID); ok {
			r.Account = strconv.FormatInt(owner, 10)
		}
		recs = append(recs, r)
	}
	return recs
}

// reaction gives one record per emoji added or removed by this change.
func (mp *mapper) reaction(u *MessageReactionUpdated) []*capture.Record {
	key := func(t ReactionType) string {
		switch t.Type {
		case "emoji":
			return t.Emoji
		case "custom_emoji":
			return "custom_emoji:" + t.CustomEmojiID
		}
		return t.Type
	}
	had, has := map[string]bool{}, map[string]bool{}
	for _, t := range u.OldReaction {
		had[key(t)] = true
	}
	for _, t := range u.NewReaction {
		has[key(t)] = true
	}
	var recs []*capture.Record
	add := func(emoji string, removed bool) {
		if emoji == "" {
			return
		}
		r := mp.base("message_reaction")
		r.Kind = capture.KindReaction
		r.Target = messageID("", u.Chat.ID, u.MessageID)
		r.NativeID = r.Target + ":reaction:" + strconv.FormatUint(mp.updateID, 10) + ":" + emoji
		r.Conversation = conversation(u.Chat, 0)
		r.SentAt = time.Unix(u.Date, 0).UTC()
		if u.User != nil {
			r.Sender = userParticipant(u.User)
		} else {
			r.Sender = chatParticipant(u.ActorChat)
		}
		r.Reaction = &capture.Reaction{Emoji: emoji, Removed: removed}
		recs = append(recs, r)
	}
	for _, t := range u.NewReaction {
		if k := key(t); !had[k] {
			add(k, false)
			had[k] = true // a repeated entry adds once
		}
	}
	for _, t := range u.OldReaction {
		if k := key(t); !has[k] {
			add(k, true)
			has[k] = true
		}
	}
	return recs
}

// connection records a business connection being enabled or disabled: the
// business user's consent to the bot (and so to capture) of their chats.
func (mp *mapper) connection(bc *BusinessConnection) *capture.Record {
	r := mp.base("business_connection")
	r.Kind = capture.KindConsent
	r.NativeID = "business_connection:" + bc.ID + ":" + strconv.FormatUint(mp.updateID, 10)
	r.Account = strconv.FormatInt(bc.User.ID, 10)
	r.Conversation = capture.Conversation{ID: strconv.FormatInt(bc.UserChatID, 10), Type: "direct"}
	r.Sender = userParticipant(&bc.User)
	r.Sender.Affiliation = capture.AffiliationInternal
	r.Direction = capture.DirectionInternal
	r.SentAt = time.Unix(bc.Date, 0).UTC()
	state, text := capture.ConsentDisagree, "business connection "+bc.ID+" disabled"
	if bc.IsEnabled {
		state, text = capture.ConsentAgree, "business connection "+bc.ID+" enabled"
	}
	r.Text = text
	r.Consent = &capture.Consent{SubjectID: r.Sender.ID, State: state, At: r.SentAt}
	return r
}

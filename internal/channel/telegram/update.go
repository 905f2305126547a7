package telegram

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// errMalformed classes every parse failure of an update.
var errMalformed = errors.New("malformed update")

// Update is one Bot API update (core.telegram.org/bots/api#update), with the
// fields capture uses. Exactly one of the optional parts is set.
type Update struct {
	UpdateID               int64                    `json:"update_id"`
	Message                *Message                 `json:"message,omitempty"`
	EditedMessage          *Message                 `json:"edited_message,omitempty"`
	ChannelPost            *Message                 `json:"channel_post,omitempty"`
	EditedChannelPost      *Message                 `json:"edited_channel_post,omitempty"`
	BusinessConnection     *BusinessConnection      `json:"business_connection,omitempty"`
	BusinessMessage        *Message                 `json:"business_message,omitempty"`
	EditedBusinessMessage  *Message                 `json:"edited_business_message,omitempty"`
	DeletedBusinessMessage *BusinessMessagesDeleted `json:"deleted_business_messages,omitempty"`
	MessageReaction        *MessageReactionUpdated  `json:"message_reaction,omitempty"`
}

// User is a Telegram user or bot.
type User struct {
	ID        int64  `json:"id"`
	IsBot     bool   `json:"is_bot"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name,omitempty"`
	Username  string `json:"username,omitempty"`
}

// Chat is where a message was sent.
type Chat struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	Title     string `json:"title,omitempty"`
	Username  string `json:"username,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
}

// Message is a message, channel post or business message.
type Message struct {
	MessageID            int64           `json:"message_id"`
	MessageThreadID      int64           `json:"message_thread_id,omitempty"`
	From                 *User           `json:"from,omitempty"`
	SenderChat           *Chat           `json:"sender_chat,omitempty"`
	Date                 int64           `json:"date"`
	BusinessConnectionID string          `json:"business_connection_id,omitempty"`
	Chat                 Chat            `json:"chat"`
	ReplyToMessage       *Message        `json:"reply_to_message,omitempty"`
	EditDate             int64           `json:"edit_date,omitempty"`
	Text                 string          `json:"text,omitempty"`
	Entities             []MessageEntity `json:"entities,omitempty"`
	Caption              string          `json:"caption,omitempty"`
	CaptionEntities      []MessageEntity `json:"caption_entities,omitempty"`
	Photo                []PhotoSize     `json:"photo,omitempty"`
	Animation            *File           `json:"animation,omitempty"`
	Audio                *File           `json:"audio,omitempty"`
	Document             *File           `json:"document,omitempty"`
	Sticker              *Sticker        `json:"sticker,omitempty"`
	Video                *File           `json:"video,omitempty"`
	VideoNote            *File           `json:"video_note,omitempty"`
	Voice                *File           `json:"voice,omitempty"`
	Contact              *Contact        `json:"contact,omitempty"`
	Location             *Location       `json:"location,omitempty"`
	Poll                 *Poll           `json:"poll,omitempty"`
}

// MessageEntity is a span of special text (mention, text_mention, url...).
// Offset and Length count UTF-16 code units.
type MessageEntity struct {
	Type   string `json:"type"`
	Offset int    `json:"offset"`
	Length int    `json:"length"`
	User   *User  `json:"user,omitempty"`
}

// PhotoSize is one size of a photo.
type PhotoSize struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	FileSize     int64  `json:"file_size,omitempty"`
}

// File is the common part of document, audio, voice, video, video_note and
// animation.
type File struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileName     string `json:"file_name,omitempty"`
	MIMEType     string `json:"mime_type,omitempty"`
	FileSize     int64  `json:"file_size,omitempty"`
}

// Sticker is a sticker; its emoji is kept as text.
type Sticker struct {
	File
	Emoji string `json:"emoji,omitempty"`
}

// Contact is a shared contact.
type Contact struct {
	PhoneNumber string `json:"phone_number"`
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name,omitempty"`
	UserID      int64  `json:"user_id,omitempty"`
}

// Location is a point on the map.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

// Poll is a poll; its question and options are kept as text.
type Poll struct {
	ID       string `json:"id"`
	Question string `json:"question"`
	Options  []struct {
		Text string `json:"text"`
	} `json:"options"`
}

// BusinessConnection is a Telegram Business user connecting (or
// disconnecting) the bot to their account.
type BusinessConnection struct {
	ID         string `json:"id"`
	User       User   `json:"user"`
	UserChatID int64  `json:"user_chat_id"`
	Date       int64  `json:"date"`
	IsEnabled  bool   `json:"is_enabled"`
}

// BusinessMessagesDeleted lists messages deleted from a business account.
type BusinessMessagesDeleted struct {
	BusinessConnectionID string  `json:"business_connection_id"`
	Chat                 Chat    `json:"chat"`
	MessageIDs           []int64 `json:"message_ids"`
}

// ReactionType is an emoji, a custom emoji or a paid reaction.
type ReactionType struct {
	Type          string `json:"type"`
	Emoji         string `json:"emoji,omitempty"`
	CustomEmojiID string `json:"custom_emoji_id,omitempty"`
}

// MessageReactionUpdated is a change of one user's reactions to a message.
type MessageReactionUpdated struct {
	Chat        Chat           `json:"chat"`
	MessageID   int64          `json:"message_id"`
	User        *User          `json:"user,omitempty"`
	ActorChat   *Chat          `json:"actor_chat,omitempty"`
	Date        int64          `json:"date"`
	OldReaction []ReactionType `json:"old_reaction"`
	NewReaction []ReactionType `json:"new_reaction"`
}

// maxDeletedIDs bounds deleted_business_messages; Telegram sends at most
// 100 ids per update.
const maxDeletedIDs = 1000

// parseUpdate decodes one update and checks what capture relies on.
func parseUpdate(body []byte) (*Update, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: body is not a JSON object", errMalformed)
	}
	var u Update
	if err := json.Unmarshal(trimmed, &u); err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if u.UpdateID <= 0 {
		return nil, fmt.Errorf("%w: update_id is missing", errMalformed)
	}
	for _, m := range []*Message{u.Message, u.EditedMessage, u.ChannelPost, u.EditedChannelPost, u.BusinessMessage, u.EditedBusinessMessage} {
		if m == nil {
			continue
		}
		if m.MessageID == 0 || m.Chat.ID == 0 || m.Date <= 0 {
			return nil, fmt.Errorf("%w: message without message_id, chat or date", errMalformed)
		}
	}
	for _, m := range []*Message{u.EditedMessage, u.EditedChannelPost, u.EditedBusinessMessage} {
		if m != nil && m.EditDate <= 0 {
			return nil, fmt.Errorf("%w: edited message without edit_date", errMalformed)
		}
	}
	for _, m := range []*Message{u.BusinessMessage, u.EditedBusinessMessage} {
		if m != nil && m.BusinessConnectionID == "" {
			return nil, fmt.Errorf("%w: business message without business_connection_id", errMalformed)
		}
	}
	if bc := u.BusinessConnection; bc != nil && (bc.ID == "" || bc.User.ID == 0 || bc.Date <= 0) {
		return nil, fmt.Errorf("%w: business_connection without id, user or date", errMalformed)
	}
	if d := u.DeletedBusinessMessage; d != nil &&
		(d.BusinessConnectionID == "" || d.Chat.ID == 0 || len(d.MessageIDs) == 0 || len(d.MessageIDs) > maxDeletedIDs) {
		return nil, fmt.Errorf("%w: deleted_business_messages without connection, chat or 1 to %d ids", errMalformed, maxDeletedIDs)
	}
	if r := u.MessageReaction; r != nil && (r.Chat.ID == 0 || r.MessageID == 0 || r.Date <= 0 || (r.User == nil && r.ActorChat == nil)) {
		return nil, fmt.Errorf("%w: message_reaction without chat, message_id, date or actor", errMalformed)
	}
	return &u, nil
}

package line

import (
	"encoding/json"
	"errors"
	"fmt"
)

// errMalformed wraps every body problem; the handler answers 400 with it.
var errMalformed = errors.New("malformed LINE webhook")

// Webhook is the body of a LINE webhook POST. Unknown fields are ignored:
// LINE adds fields and event types without notice.
type Webhook struct {
	// Destination is the bot's user id, the account the events are for.
	Destination string  `json:"destination"`
	Events      []Event `json:"events"`
}

// Event is one webhook event.
type Event struct {
	Type            string          `json:"type"`
	Mode            string          `json:"mode"`
	Timestamp       int64           `json:"timestamp"`
	Source          Source          `json:"source"`
	WebhookEventID  string          `json:"webhookEventId"`
	DeliveryContext DeliveryContext `json:"deliveryContext"`
	Message         *Message        `json:"message"`
	Unsend          *Unsend         `json:"unsend"`
	Joined          *Members        `json:"joined"`
	Left            *Members        `json:"left"`
}

// Source is where an event happened.
type Source struct {
	Type    string `json:"type"`
	UserID  string `json:"userId"`
	GroupID string `json:"groupId"`
	RoomID  string `json:"roomId"`
}

// DeliveryContext says whether LINE is redelivering the event.
type DeliveryContext struct {
	IsRedelivery bool `json:"isRedelivery"`
}

// Message is a message event's message.
type Message struct {
	ID              string    `json:"id"`
	Type            string    `json:"type"`
	Text            string    `json:"text"`
	QuotedMessageID string    `json:"quotedMessageId"`
	FileName        string    `json:"fileName"`
	FileSize        int64     `json:"fileSize"`
	Title           string    `json:"title"`
	Address         string    `json:"address"`
	Latitude        float64   `json:"latitude"`
	Longitude       float64   `json:"longitude"`
	PackageID       string    `json:"packageId"`
	StickerID       string    `json:"stickerId"`
	Keywords        []string  `json:"keywords"`
	Mention         *Mentions `json:"mention"`
}

// Mentions lists the users a text message mentions.
type Mentions struct {
	Mentionees []struct {
		Type   string `json:"type"`
		UserID string `json:"userId"`
	} `json:"mentionees"`
}

// Unsend names the message a user took back.
type Unsend struct {
	MessageID string `json:"messageId"`
}

// Members are the users who joined or left a group or room.
type Members struct {
	Members []Source `json:"members"`
}

// parseWebhook decodes a body.
func parseWebhook(body []byte) (*Webhook, error) {
	var w Webhook
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if w.Destination == "" {
		return nil, fmt.Errorf("%w: destination is missing", errMalformed)
	}
	return &w, nil
}

package whatsapp

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Webhook fields this channel captures; changes of other fields (template
// and account updates) carry no communications and are skipped.
const (
	fieldMessages = "messages"
	fieldEchoes   = "smb_message_echoes"
	objectWABA    = "whatsapp_business_account"
)

// errMalformed wraps every body problem; the handler answers 400 with it.
var errMalformed = errors.New("malformed WhatsApp payload")

// Notification is the body of a Cloud API webhook POST. Unknown fields are
// ignored: Meta adds fields without notice and they must not break capture.
type Notification struct {
	Object string  `json:"object"`
	Entry  []Entry `json:"entry"`
}

// Entry is one WhatsApp Business Account's changes.
type Entry struct {
	// ID is the WhatsApp Business Account id.
	ID      string   `json:"id"`
	Changes []Change `json:"changes"`
}

// Change is one field's update.
type Change struct {
	Field string `json:"field"`
	Value Value  `json:"value"`
}

// Value holds a change's messages, statuses or echoes.
type Value struct {
	MessagingProduct string    `json:"messaging_product"`
	Metadata         Metadata  `json:"metadata"`
	Contacts         []Contact `json:"contacts"`
	Messages         []Message `json:"messages"`
	MessageEchoes    []Message `json:"message_echoes"`
	Statuses         []Status  `json:"statuses"`
}

// Metadata names the business phone number a change is for.
type Metadata struct {
	DisplayPhoneNumber string `json:"display_phone_number"`
	PhoneNumberID      string `json:"phone_number_id"`
}

// Contact is the WhatsApp profile of a customer in the change.
type Contact struct {
	Profile struct {
		Name string `json:"name"`
	} `json:"profile"`
	WaID string `json:"wa_id"`
}

// Message is an inbound message, or an echo of one the business sent from
// the WhatsApp Business app (then To is the customer).
type Message struct {
	From        string          `json:"from"`
	To          string          `json:"to"`
	ID          string          `json:"id"`
	Timestamp   string          `json:"timestamp"`
	Type        string          `json:"type"`
	Context     *MessageContext `json:"context"`
	Text        *Text           `json:"text"`
	Image       *Media          `json:"image"`
	Audio       *Media          `json:"audio"`
	Video       *Media          `json:"video"`
	Document    *Media          `json:"document"`
	Sticker     *Media          `json:"sticker"`
	Location    *Location       `json:"location"`
	Contacts    []SharedContact `json:"contacts"`
	Interactive *Interactive    `json:"interactive"`
	Button      *Button         `json:"button"`
	Reaction    *Reaction       `json:"reaction"`
	Order       *Order          `json:"order"`
	System      *System         `json:"system"`
	Errors      []APIError      `json:"errors"`
}

// MessageContext is set on replies (and forwards).
type MessageContext struct {
	From string `json:"from"`
	ID   string `json:"id"`
}

// Text is a text message's body.
type Text struct {
	Body string `json:"body"`
}

// Media is an image, audio, video, document or sticker; the content is
// fetched separately by id.
type Media struct {
	ID       string `json:"id"`
	MIMEType string `json:"mime_type"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
}

// Location is a shared location.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name"`
	Address   string  `json:"address"`
}

// SharedContact is a contact card sent in a message.
type SharedContact struct {
	Name struct {
		FormattedName string `json:"formatted_name"`
	} `json:"name"`
	Phones []struct {
		Phone string `json:"phone"`
	} `json:"phones"`
}

// Interactive is a reply to a button or list message, or a flow response.
type Interactive struct {
	Type        string `json:"type"`
	ButtonReply *struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"button_reply"`
	ListReply *struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"list_reply"`
	NFMReply *struct {
		Body         string `json:"body"`
		ResponseJSON string `json:"response_json"`
	} `json:"nfm_reply"`
}

// Button is a tap on a template's quick-reply button.
type Button struct {
	Payload string `json:"payload"`
	Text    string `json:"text"`
}

// Reaction is an emoji added to (or, with no emoji, removed from) MessageID.
type Reaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`
}

// Order is a cart sent from a catalogue.
type Order struct {
	CatalogID    string `json:"catalog_id"`
	Text         string `json:"text"`
	ProductItems []struct {
		ProductRetailerID string `json:"product_retailer_id"`
		// Quantity and ItemPrice are numbers in practice and strings in
		// some of Meta's samples; both are kept as written.
		Quantity  json.RawMessage `json:"quantity"`
		ItemPrice json.RawMessage `json:"item_price"`
		Currency  string          `json:"currency"`
	} `json:"product_items"`
}

// System is a notice such as a customer changing their number.
type System struct {
	Body string `json:"body"`
	Type string `json:"type"`
}

// APIError explains an unsupported message or a failed status.
type APIError struct {
	Code  int    `json:"code"`
	Title string `json:"title"`
}

// Status is a delivery status of a message the business sent.
type Status struct {
	ID          string     `json:"id"`
	Status      string     `json:"status"`
	Timestamp   string     `json:"timestamp"`
	RecipientID string     `json:"recipient_id"`
	Errors      []APIError `json:"errors"`
}

// parseNotification decodes a body and checks that it is a WhatsApp Business
// Account notification.
func parseNotification(body []byte) (*Notification, error) {
	var n Notification
	if err := json.Unmarshal(body, &n); err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if n.Object != objectWABA {
		return nil, fmt.Errorf("%w: object must be %q", errMalformed, objectWABA)
	}
	return &n, nil
}

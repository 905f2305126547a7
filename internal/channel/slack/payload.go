package slack

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-operator/vigil/internal/channel/inbound"
)

// Envelope types.
const (
	typeURLVerification = "url_verification"
	typeEventCallback   = "event_callback"
	typeAppRateLimited  = "app_rate_limited"
)

// errMalformed wraps every body problem; the handler answers 400 with it.
var errMalformed = errors.New("malformed Slack request")

// Envelope is the outer object of every Events API request. Unknown fields
// are ignored: Slack adds fields without notice.
type Envelope struct {
	Type      string `json:"type"`
	Challenge string `json:"challenge"`
	TeamID    string `json:"team_id"`
	APIAppID  string `json:"api_app_id"`
	Event     *Event `json:"event"`
	EventID   string `json:"event_id"`
	EventTime int64  `json:"event_time"`
	// IsExtSharedChannel marks events from Slack Connect channels.
	IsExtSharedChannel bool  `json:"is_ext_shared_channel"`
	MinuteRateLimited  int64 `json:"minute_rate_limited"`
}

// Event is the inner event. Several event types put objects where message
// events put ids (channel_created's channel, user_change's user), so those
// fields accept either.
type Event struct {
	Type            string   `json:"type"`
	Subtype         string   `json:"subtype"`
	Channel         flexID   `json:"channel"`
	ChannelType     string   `json:"channel_type"`
	User            flexID   `json:"user"`
	Team            string   `json:"team"`
	UserTeam        string   `json:"user_team"`
	Text            string   `json:"text"`
	TS              string   `json:"ts"`
	ThreadTS        string   `json:"thread_ts"`
	EventTS         string   `json:"event_ts"`
	BotID           string   `json:"bot_id"`
	Username        string   `json:"username"`
	DeletedTS       string   `json:"deleted_ts"`
	Reaction        string   `json:"reaction"`
	Files           []File   `json:"files"`
	Message         *Message `json:"message"`
	PreviousMessage *Message `json:"previous_message"`
	Item            *Item    `json:"item"`
}

// Message is the message inside message_changed and message_deleted.
type Message struct {
	User     string  `json:"user"`
	Team     string  `json:"team"`
	UserTeam string  `json:"user_team"`
	BotID    string  `json:"bot_id"`
	Username string  `json:"username"`
	Text     string  `json:"text"`
	TS       string  `json:"ts"`
	ThreadTS string  `json:"thread_ts"`
	Edited   *Edited `json:"edited"`
	Files    []File  `json:"files"`
}

// Edited says who edited a message and when.
type Edited struct {
	User string `json:"user"`
	TS   string `json:"ts"`
}

// Item is what a reaction was added to.
type Item struct {
	Type    string `json:"type"`
	Channel string `json:"channel"`
	TS      string `json:"ts"`
	File    string `json:"file"`
}

// File is a file shared in a message; the content is fetched separately.
type File struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Mimetype string `json:"mimetype"`
	Size     int64  `json:"size"`
}

// flexID is an id given as a string, or as an object with an "id".
type flexID string

// UnmarshalJSON accepts "C123", {"id":"C123",...} or anything else (as "").
func (f *flexID) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*f = flexID(s)
		return nil
	}
	var o struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(b, &o) == nil {
		*f = flexID(o.ID)
		return nil
	}
	*f = ""
	return nil
}

// parseEnvelope decodes a request body.
func parseEnvelope(body []byte) (*Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if e.Type == "" {
		return nil, fmt.Errorf("%w: type is missing", errMalformed)
	}
	return &e, nil
}

// parseTS reads a Slack timestamp, "1531420618.000200": unix seconds and up
// to six fractional digits.
func parseTS(ts string) (time.Time, error) {
	secs, frac, _ := strings.Cut(ts, ".")
	t, err := inbound.ParseUnixSeconds(secs)
	if err != nil {
		return time.Time{}, fmt.Errorf("ts %q: %w", ts, err)
	}
	if len(frac) > 6 {
		return time.Time{}, fmt.Errorf("ts %q has more than 6 fractional digits", ts)
	}
	if frac == "" {
		return t, nil
	}
	micros, err := strconv.ParseUint(frac+strings.Repeat("0", 6-len(frac)), 10, 32)
	if err != nil || strings.ContainsAny(frac, "+-") {
		return time.Time{}, fmt.Errorf("ts %q has a bad fraction", ts)
	}
	return t.Add(time.Duration(micros) * time.Microsecond), nil
}

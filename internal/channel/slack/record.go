package slack

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
const ChannelName = "slack"

// conversationTypes maps Slack's channel_type to capture.v1.
var conversationTypes = map[string]string{"im": "direct", "mpim": "group", "channel": "channel", "group": "channel"}

// mapper turns events of one workspace into records.
type mapper struct {
	teamID string
}

// toRecord maps one event_callback or app_rate_limited envelope. The
// returned key identifies the event across Slack's retries.
func (mp *mapper) toRecord(e *Envelope, rawBody []byte) (*capture.Record, string, error) {
	sum := sha256.Sum256(rawBody)
	r := &capture.Record{
		SchemaVersion: capture.SchemaVersion,
		Channel:       ChannelName,
		Tenant:        mp.teamID,
		Account:       mp.teamID,
		Raw:           capture.RawRef{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(rawBody)), ContentType: "application/json"},
		Provenance:    capture.Provenance{SigVerified: true, SigScheme: SigScheme},
	}
	var err error
	key := ""
	if e.Type == typeAppRateLimited {
		key, err = mp.rateLimited(r, e)
	} else {
		key, err = mp.event(r, e)
	}
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", errMalformed, err)
	}
	if err := checkID("the record's id", r.NativeID); err != nil {
		return nil, "", fmt.Errorf("%w: %v", errMalformed, err)
	}
	if len(r.Target) > capture.MaxIDBytes || len(r.ReplyTo) > capture.MaxIDBytes {
		return nil, "", fmt.Errorf("%w: the target or thread id is over %d bytes", errMalformed, capture.MaxIDBytes)
	}
	r.SetDedupKey()
	return r, key, nil
}

// rateLimited records that Slack dropped this app's events for a minute: a
// coverage hole an auditor must see.
func (mp *mapper) rateLimited(r *capture.Record, e *Envelope) (string, error) {
	if e.MinuteRateLimited <= 0 {
		return "", fmt.Errorf("minute_rate_limited is missing")
	}
	at := time.Unix(e.MinuteRateLimited, 0).UTC()
	r.Kind = capture.KindSystem
	r.NativeType = typeAppRateLimited
	r.NativeID = typeAppRateLimited + ":" + strconv.FormatInt(e.MinuteRateLimited, 10)
	r.Sender = capture.Participant{ID: "slack", Affiliation: capture.AffiliationSystem}
	r.Text = "Slack rate-limited this app's event deliveries for the minute starting " + at.Format(time.RFC3339) + "; events of that minute were not delivered and are missing from capture."
	r.SentAt = at
	return r.NativeID, nil
}

func (mp *mapper) event(r *capture.Record, e *Envelope) (string, error) {
	if err := checkID("event_id", e.EventID); err != nil {
		return "", err
	}
	ev := e.Event
	if ev == nil || ev.Type == "" {
		return "", fmt.Errorf("event.type is missing")
	}
	r.NativeType = ev.Type
	if ev.Subtype != "" {
		r.NativeType = ev.Type + ":" + ev.Subtype
	}
	channel := string(ev.Channel)
	r.Conversation = capture.Conversation{ID: channel, Type: conversationTypes[ev.ChannelType]}
	switch ev.Type {
	case "message":
		return "e:" + e.EventID, mp.message(r, e, ev, channel)
	case "reaction_added", "reaction_removed":
		return "e:" + e.EventID, mp.reaction(r, e, ev)
	case "member_joined_channel", "member_left_channel":
		r.Kind = capture.KindMembership
	default:
		// Kept, so that nothing the app was sent is lost; docs list the
		// subscriptions that are mapped.
		r.Kind = capture.KindSystem
	}
	r.NativeID = e.EventID
	mp.setSender(r, e, string(ev.User), ev.UserTeam, ev.Team, ev.BotID, ev.Username)
	at, err := eventTime(ev.EventTS, e.EventTime)
	if err != nil {
		return "", err
	}
	r.SentAt = at
	return "e:" + e.EventID, nil
}

func (mp *mapper) message(r *capture.Record, e *Envelope, ev *Event, channel string) error {
	if channel == "" {
		return fmt.Errorf("event.channel is missing")
	}
	sentAt, err := parseTS(ev.TS)
	if err != nil {
		return err
	}
	r.SentAt = sentAt.UTC()
	r.NativeID = channel + ":" + ev.TS
	switch ev.Subtype {
	case "message_changed":
		return mp.edit(r, e, ev, channel)
	case "message_deleted":
		if ev.DeletedTS == "" {
			return fmt.Errorf("message_deleted without deleted_ts")
		}
		r.Kind = capture.KindRecall
		r.Target = channel + ":" + ev.DeletedTS
		if p := ev.PreviousMessage; p != nil {
			mp.setSender(r, e, p.User, p.UserTeam, p.Team, p.BotID, p.Username)
		} else {
			r.Sender.Affiliation = capture.AffiliationUnknown
		}
		return nil
	case "channel_join", "channel_leave", "group_join", "group_leave":
		r.Kind = capture.KindMembership
	default:
		r.Kind = capture.KindMessage
	}
	mp.setSender(r, e, string(ev.User), ev.UserTeam, ev.Team, ev.BotID, ev.Username)
	mp.setContent(r, ev.Text, ev.Files)
	if ev.ThreadTS != "" {
		r.Conversation.ThreadID = ev.ThreadTS
		if ev.ThreadTS != ev.TS {
			r.ReplyTo = channel + ":" + ev.ThreadTS
		}
	}
	return nil
}

// edit maps message_changed: a new record pointing at the original, never a
// change to it.
func (mp *mapper) edit(r *capture.Record, e *Envelope, ev *Event, channel string) error {
	m := ev.Message
	if m == nil || m.TS == "" {
		return fmt.Errorf("message_changed without message.ts")
	}
	r.Kind = capture.KindEdit
	r.Target = channel + ":" + m.TS
	editedAt := r.SentAt
	if m.Edited != nil && m.Edited.TS != "" {
		t, err := parseTS(m.Edited.TS)
		if err != nil {
			return fmt.Errorf("message.edited: %w", err)
		}
		editedAt = t.UTC()
	}
	r.EditedAt = &editedAt
	mp.setSender(r, e, m.User, m.UserTeam, m.Team, m.BotID, m.Username)
	mp.setContent(r, m.Text, m.Files)
	if m.ThreadTS != "" && m.ThreadTS != m.TS {
		r.Conversation.ThreadID = m.ThreadTS
		r.ReplyTo = channel + ":" + m.ThreadTS
	}
	return nil
}

func (mp *mapper) reaction(r *capture.Record, e *Envelope, ev *Event) error {
	it := ev.Item
	if it == nil {
		return fmt.Errorf("%s without item", ev.Type)
	}
	r.Kind = capture.KindReaction
	r.NativeID = e.EventID
	switch {
	case it.Channel != "" && it.TS != "":
		r.Target = it.Channel + ":" + it.TS
		r.Conversation.ID = it.Channel
	case it.File != "":
		r.Target = it.File
	default:
		return fmt.Errorf("%s item has neither channel and ts nor file", ev.Type)
	}
	if ev.Reaction != "" {
		r.Reaction = &capture.Reaction{Emoji: ev.Reaction, Removed: ev.Type == "reaction_removed"}
	}
	mp.setSender(r, e, string(ev.User), ev.UserTeam, ev.Team, "", "")
	at, err := eventTime(ev.EventTS, e.EventTime)
	if err != nil {
		return err
	}
	r.SentAt = at
	return nil
}

// setSender fills sender and direction. A user of another workspace (Slack
// Connect) is external; in a shared channel our own users' messages leave
// the organisation.
func (mp *mapper) setSender(r *capture.Record, e *Envelope, user, userTeam, team, botID, username string) {
	home := userTeam
	if home == "" {
		home = team
	}
	p := capture.Participant{ID: user, IDType: "slack_user", Affiliation: capture.AffiliationInternal, Org: mp.teamID}
	switch {
	case user == "" && botID != "":
		p = capture.Participant{ID: botID, IDType: "slack_bot", DisplayName: username, Affiliation: capture.AffiliationBot, Org: mp.teamID}
	case home != "" && home != mp.teamID:
		p.Affiliation, p.Org = capture.AffiliationExternal, home
	}
	r.Sender = p
	switch {
	case p.Affiliation == capture.AffiliationExternal:
		r.Direction = capture.DirectionInbound
	case e.IsExtSharedChannel:
		r.Direction = capture.DirectionOutbound
	default:
		r.Direction = capture.DirectionInternal
	}
}

func (mp *mapper) setContent(r *capture.Record, text string, files []File) {
	r.Text = text
	r.Mentions = mentions(text)
	r.MsgType = "text"
	for _, f := range files {
		r.Attachments = append(r.Attachments, capture.Attachment{NativeRef: f.ID, Name: f.Name, MIME: f.Mimetype, Size: max(f.Size, 0), State: "pending"})
	}
	if text == "" && len(files) > 0 {
		r.MsgType = "file"
	}
}

// mentions extracts user ids from <@U123> and <@U123|name> in message text.
func mentions(text string) []string {
	var ids []string
	for {
		i := strings.Index(text, "<@")
		if i < 0 {
			return ids
		}
		text = text[i+2:]
		end := strings.IndexAny(text, ">|")
		if end <= 0 {
			return ids
		}
		ids = append(ids, text[:end])
		text = text[end:]
	}
}

func eventTime(eventTS string, envelopeTime int64) (time.Time, error) {
	if eventTS != "" {
		t, err := parseTS(eventTS)
		return t.UTC(), err
	}
	if envelopeTime > 0 {
		return time.Unix(envelopeTime, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("the event has neither event_ts nor event_time")
}

func checkID(field, v string) error {
	if v == "" || len(v) > capture.MaxIDBytes {
		return fmt.Errorf("%s must be 1 to %d bytes", field, capture.MaxIDBytes)
	}
	return nil
}

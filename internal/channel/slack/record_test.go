package slack

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
)

func mapEvent(t *testing.T, body string) (*capture.Record, string) {
	t.Helper()
	env, err := parseEnvelope([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	r, key, err := (&mapper{teamID: testTeam}).toRecord(env, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	stamp(r)
	if err := r.Validate(); err != nil {
		t.Fatalf("record invalid: %v", err)
	}
	return r, key
}

func TestPlainMessage(t *testing.T) {
	body := callback("Ev0PV52K21", plainMessage)
	r, key := mapEvent(t, body)
	if key != "e:Ev0PV52K21" {
		t.Fatalf("dedupe key %q", key)
	}
	want := capture.Record{
		NativeID: "C2147483705:1706781600.000200", Kind: capture.KindMessage, Channel: "slack", Tenant: testTeam, Account: testTeam,
		Conversation: capture.Conversation{ID: "C2147483705", Type: "channel"},
		Sender:       capture.Participant{ID: "U2147483697", IDType: "slack_user", Affiliation: capture.AffiliationInternal, Org: testTeam},
		Direction:    capture.DirectionInternal, MsgType: "text", NativeType: "message",
		Text: "Hi <@U0G9QF9C6>, the Lotus term sheet is attached", Mentions: []string{"U0G9QF9C6"},
		SentAt: time.Unix(1706781600, 200_000).UTC(),
	}
	got := capture.Record{
		NativeID: r.NativeID, Kind: r.Kind, Channel: r.Channel, Tenant: r.Tenant, Account: r.Account, Conversation: r.Conversation,
		Sender: r.Sender, Direction: r.Direction, MsgType: r.MsgType, NativeType: r.NativeType, Text: r.Text, Mentions: r.Mentions, SentAt: r.SentAt,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if !r.Provenance.SigVerified || r.Provenance.SigScheme != "slack-v0" || r.Raw.Size != int64(len(body)) {
		t.Fatalf("provenance %+v raw %+v", r.Provenance, r.Raw)
	}
}

func TestEventMapping(t *testing.T) {
	tests := []struct {
		name, event                             string
		kind                                    capture.Kind
		nativeID, target, replyTo, thread, text string
		sender                                  capture.Participant
		direction                               capture.Direction
		check                                   func(*testing.T, *capture.Record)
	}{
		{name: "thread reply", event: `{"type":"message","user":"U1","text":"agreed","ts":"1706781700.000300","thread_ts":"1706781600.000200","parent_user_id":"U2","channel":"C1","event_ts":"1706781700.000300","channel_type":"channel"}`,
			kind: capture.KindMessage, nativeID: "C1:1706781700.000300", replyTo: "C1:1706781600.000200", thread: "1706781600.000200", text: "agreed",
			sender: capture.Participant{ID: "U1", IDType: "slack_user", Affiliation: "internal", Org: testTeam}, direction: capture.DirectionInternal},
		{name: "thread broadcast", event: `{"type":"message","subtype":"thread_broadcast","user":"U1","text":"also here","ts":"1706781701.000100","thread_ts":"1706781600.000200","root":{"ts":"1706781600.000200"},"channel":"C1","event_ts":"1706781701.000100","channel_type":"channel"}`,
			kind: capture.KindMessage, nativeID: "C1:1706781701.000100", replyTo: "C1:1706781600.000200", thread: "1706781600.000200", text: "also here",
			sender: capture.Participant{ID: "U1", IDType: "slack_user", Affiliation: "internal", Org: testTeam}, direction: capture.DirectionInternal,
			check: func(t *testing.T, r *capture.Record) {
				if r.NativeType != "message:thread_broadcast" {
					t.Fatalf("nativeType %q", r.NativeType)
				}
			}},
		{name: "bot message", event: `{"type":"message","subtype":"bot_message","text":"Build passed","ts":"1706781702.000100","username":"ci-bot","bot_id":"B123","channel":"C1","event_ts":"1706781702.000100","channel_type":"channel"}`,
			kind: capture.KindMessage, nativeID: "C1:1706781702.000100", text: "Build passed",
			sender: capture.Participant{ID: "B123", IDType: "slack_bot", DisplayName: "ci-bot", Affiliation: "bot", Org: testTeam}, direction: capture.DirectionInternal},
		{name: "file share", event: `{"type":"message","subtype":"file_share","text":"","user":"U1","files":[{"id":"F0123","created":1706781703,"name":"terms.pdf","title":"terms.pdf","mimetype":"application/pdf","filetype":"pdf","size":48213,"url_private":"https://files.slack.com/x"}],"upload":false,"ts":"1706781703.000100","channel":"D1","event_ts":"1706781703.000100","channel_type":"im"}`,
			kind: capture.KindMessage, nativeID: "D1:1706781703.000100",
			sender: capture.Participant{ID: "U1", IDType: "slack_user", Affiliation: "internal", Org: testTeam}, direction: capture.DirectionInternal,
			check: func(t *testing.T, r *capture.Record) {
				want := []capture.Attachment{{NativeRef: "F0123", Name: "terms.pdf", MIME: "application/pdf", Size: 48213, State: "pending"}}
				if r.MsgType != "file" || r.Conversation.Type != "direct" || !reflect.DeepEqual(r.Attachments, want) {
					t.Fatalf("msgType %q conversation %+v attachments %+v", r.MsgType, r.Conversation, r.Attachments)
				}
			}},
		{name: "slack connect user", event: `{"type":"message","user":"W0EXT","user_team":"T0PARTNER","source_team":"T0PARTNER","team":"T0PARTNER","text":"price?","ts":"1706781704.000100","channel":"C0SHARED","event_ts":"1706781704.000100","channel_type":"channel"}`,
			kind: capture.KindMessage, nativeID: "C0SHARED:1706781704.000100", text: "price?",
			sender: capture.Participant{ID: "W0EXT", IDType: "slack_user", Affiliation: "external", Org: "T0PARTNER"}, direction: capture.DirectionInbound},
		{name: "edit", event: `{"type":"message","subtype":"message_changed","hidden":true,"message":{"type":"message","user":"U1","text":"the price is 12.40","edited":{"user":"U1","ts":"1706781800.000000"},"ts":"1706781600.000200"},"channel":"C1","previous_message":{"type":"message","user":"U1","text":"the price is 12.04","ts":"1706781600.000200"},"event_ts":"1706781800.000400","ts":"1706781800.000400","channel_type":"channel"}`,
			kind: capture.KindEdit, nativeID: "C1:1706781800.000400", target: "C1:1706781600.000200", text: "the price is 12.40",
			sender: capture.Participant{ID: "U1", IDType: "slack_user", Affiliation: "internal", Org: testTeam}, direction: capture.DirectionInternal,
			check: func(t *testing.T, r *capture.Record) {
				if r.EditedAt == nil || !r.EditedAt.Equal(time.Unix(1706781800, 0)) {
					t.Fatalf("editedAt %v", r.EditedAt)
				}
			}},
		{name: "delete", event: `{"type":"message","subtype":"message_deleted","hidden":true,"deleted_ts":"1706781600.000200","channel":"C1","previous_message":{"type":"message","user":"U1","text":"delete me","ts":"1706781600.000200"},"event_ts":"1706781900.000500","ts":"1706781900.000500","channel_type":"channel"}`,
			kind: capture.KindRecall, nativeID: "C1:1706781900.000500", target: "C1:1706781600.000200",
			sender: capture.Participant{ID: "U1", IDType: "slack_user", Affiliation: "internal", Org: testTeam}, direction: capture.DirectionInternal},
		{name: "reaction added", event: `{"type":"reaction_added","user":"U1","reaction":"thumbsup","item_user":"U2","item":{"type":"message","channel":"C1","ts":"1706781600.000200"},"event_ts":"1706781950.000600"}`,
			kind: capture.KindReaction, nativeID: "Ev1", target: "C1:1706781600.000200",
			sender: capture.Participant{ID: "U1", IDType: "slack_user", Affiliation: "internal", Org: testTeam}, direction: capture.DirectionInternal,
			check: func(t *testing.T, r *capture.Record) {
				if r.Reaction == nil || *r.Reaction != (capture.Reaction{Emoji: "thumbsup"}) || r.Conversation.ID != "C1" {
					t.Fatalf("reaction %+v conversation %+v", r.Reaction, r.Conversation)
				}
			}},
		{name: "reaction removed", event: `{"type":"reaction_removed","user":"U1","reaction":"thumbsup","item":{"type":"message","channel":"C1","ts":"1706781600.000200"},"event_ts":"1706781960.000600"}`,
			kind: capture.KindReaction, nativeID: "Ev1", target: "C1:1706781600.000200",
			sender: capture.Participant{ID: "U1", IDType: "slack_user", Affiliation: "internal", Org: testTeam}, direction: capture.DirectionInternal,
			check: func(t *testing.T, r *capture.Record) {
				if r.Reaction == nil || !r.Reaction.Removed {
					t.Fatalf("reaction %+v", r.Reaction)
				}
			}},
		{name: "member joined", event: `{"type":"member_joined_channel","user":"W06GH7XHN","channel":"C0698JE0H","channel_type":"C","team":"T061EG9R6","inviter":"U123456789","event_ts":"1706781970.000100"}`,
			kind: capture.KindMembership, nativeID: "Ev1",
			sender: capture.Participant{ID: "W06GH7XHN", IDType: "slack_user", Affiliation: "internal", Org: testTeam}, direction: capture.DirectionInternal},
		{name: "other event keeps its type", event: `{"type":"channel_created","channel":{"id":"C024BE91L","name":"fun","created":1360782804,"creator":"U024BE7LH"},"event_ts":"1706781980.000100"}`,
			kind: capture.KindSystem, nativeID: "Ev1",
			sender: capture.Participant{IDType: "slack_user", Affiliation: "internal", Org: testTeam}, direction: capture.DirectionInternal,
			check: func(t *testing.T, r *capture.Record) {
				if r.NativeType != "channel_created" || r.Conversation.ID != "C024BE91L" {
					t.Fatalf("nativeType %q conversation %+v", r.NativeType, r.Conversation)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := mapEvent(t, callback("Ev1", tc.event))
			if r.Kind != tc.kind || r.NativeID != tc.nativeID || r.Target != tc.target || r.ReplyTo != tc.replyTo ||
				r.Conversation.ThreadID != tc.thread || r.Text != tc.text || r.Sender != tc.sender || r.Direction != tc.direction {
				t.Fatalf("kind %q nativeID %q target %q replyTo %q thread %q text %q sender %+v direction %q",
					r.Kind, r.NativeID, r.Target, r.ReplyTo, r.Conversation.ThreadID, r.Text, r.Sender, r.Direction)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestSharedChannelOutbound(t *testing.T) {
	body := strings.Replace(callback("Ev2", plainMessage), `"is_ext_shared_channel":false`, `"is_ext_shared_channel":true`, 1)
	if r, _ := mapEvent(t, body); r.Direction != capture.DirectionOutbound {
		t.Fatalf("our user's message in a shared channel: direction %q", r.Direction)
	}
}

func TestRateLimitedIsACoverageGap(t *testing.T) {
	body := `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","type":"app_rate_limited","team_id":"` + testTeam + `","minute_rate_limited":1518467820,"api_app_id":"AXXXXXXXX"}`
	r, key := mapEvent(t, body)
	if r.Kind != capture.KindSystem || r.NativeID != "app_rate_limited:1518467820" || key != r.NativeID || !strings.Contains(r.Text, "missing from capture") {
		t.Fatalf("record %+v", r)
	}
}

func TestMalformedEvents(t *testing.T) {
	tests := map[string]string{
		"no event id":        strings.Replace(callback("Ev1", plainMessage), `"event_id":"Ev1"`, `"event_id":""`, 1),
		"no event":           `{"type":"event_callback","team_id":"` + testTeam + `","event_id":"Ev1"}`,
		"message no channel": callback("Ev1", `{"type":"message","user":"U1","text":"x","ts":"1.1"}`),
		"message bad ts":     callback("Ev1", `{"type":"message","user":"U1","text":"x","ts":"yesterday","channel":"C1"}`),
		"edit no message":    callback("Ev1", `{"type":"message","subtype":"message_changed","channel":"C1","ts":"1.1"}`),
		"delete no target":   callback("Ev1", `{"type":"message","subtype":"message_deleted","channel":"C1","ts":"1.1"}`),
		"reaction no item":   callback("Ev1", `{"type":"reaction_added","user":"U1","reaction":"x","event_ts":"1.1"}`),
		"no time":            strings.Replace(callback("Ev1", `{"type":"team_join","user":"U1"}`), `"event_time":1706781600,`, "", 1),
		"rate limit no time": `{"type":"app_rate_limited","team_id":"` + testTeam + `"}`,
		"long ts":            callback("Ev1", `{"type":"message","user":"U1","ts":"1.1","channel":"`+strings.Repeat("C", 600)+`"}`),
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			env, err := parseEnvelope([]byte(body))
			if err == nil {
				_, _, err = (&mapper{teamID: testTeam}).toRecord(env, []byte(body))
			}
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error %v, want errMalformed", err)
			}
		})
	}
}

// FuzzEnvelope: never panics; an event that maps has an id and a time and
// passes capture validation unless capture's own size limits object.
func FuzzEnvelope(f *testing.F) {
	f.Add([]byte(callback("Ev1", plainMessage)))
	f.Add([]byte(urlVerification))
	f.Add([]byte(callback("Ev1", `{"type":"message","subtype":"message_changed","message":{"user":"U1","text":"x","edited":{"ts":"2.0"},"ts":"1.1"},"channel":"C1","ts":"2.1"}`)))
	f.Add([]byte(callback("Ev1", `{"type":"reaction_added","user":"U1","reaction":"x","item":{"type":"file","file":"F1"},"event_ts":"1.1"}`)))
	f.Add([]byte(`{"type":"app_rate_limited","team_id":"T","minute_rate_limited":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := parseEnvelope(body)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error not classed as malformed: %v", err)
			}
			return
		}
		if env.Type != typeEventCallback && env.Type != typeAppRateLimited {
			return
		}
		r, key, err := (&mapper{teamID: testTeam}).toRecord(env, body)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error not classed as malformed: %v", err)
			}
			return
		}
		if r.NativeID == "" || key == "" || r.SentAt.IsZero() {
			t.Fatalf("incomplete record %+v", r)
		}
		stamp(r)
		if err := r.Validate(); err != nil && !strings.Contains(err.Error(), "at most") && !strings.Contains(err.Error(), "over-long") {
			t.Fatalf("mapped record invalid: %v", err)
		}
	})
}

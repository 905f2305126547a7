package line

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
)

func mapWebhook(t *testing.T, body string) ([]*capture.Record, []string) {
	t.Helper()
	w, err := parseWebhook([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	recs, keys, err := (&mapper{botUserID: testBot}).toRecords(w, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		stamp(r)
		if err := r.Validate(); err != nil {
			t.Fatalf("record %s invalid: %v", r.NativeID, err)
		}
	}
	return recs, keys
}

func TestTextMessage(t *testing.T) {
	body := webhook(textEvent)
	recs, keys := mapWebhook(t, body)
	r := recs[0]
	want := capture.Record{
		Channel: "line", Account: testBot, NativeID: "468789577898262530", Kind: capture.KindMessage,
		Conversation: capture.Conversation{ID: "U4af4980629bbbb43e5d7b5b3f3d86c9b", Type: "direct"},
		Sender:       capture.Participant{ID: "U4af4980629bbbb43e5d7b5b3f3d86c9b", IDType: "line_user_id", Affiliation: capture.AffiliationExternal},
		Recipients:   []capture.Participant{{ID: testBot, IDType: "line_bot_user_id", Affiliation: capture.AffiliationInternal}},
		Direction:    capture.DirectionInbound, MsgType: "text", NativeType: "message:text",
		Text: "Please sell 200 shares at market @example", Mentions: []string{"U0123456789abcdef0123456789abcdef"},
		SentAt: time.UnixMilli(1692251666727).UTC(),
	}
	got := capture.Record{
		Channel: r.Channel, Account: r.Account, NativeID: r.NativeID, Kind: r.Kind, Conversation: r.Conversation, Sender: r.Sender,
		Recipients: r.Recipients, Direction: r.Direction, MsgType: r.MsgType, NativeType: r.NativeType, Text: r.Text, Mentions: r.Mentions, SentAt: r.SentAt,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if keys[0] != "01H810YECXQQZ37VAXPF6H9E6T" || !r.Provenance.SigVerified || r.Provenance.SigScheme != "line-signature" ||
		r.Provenance.Redelivery || r.Raw.Size != int64(len(body)) {
		t.Fatalf("key %q provenance %+v raw %+v", keys[0], r.Provenance, r.Raw)
	}
}

func TestEventMapping(t *testing.T) {
	tests := []struct {
		name, event                         string
		kind                                capture.Kind
		nativeID, msgType, text, target, re string
		convType                            string
		attachment                          *capture.Attachment
	}{
		{name: "image in group", event: event("E1", "message", groupSource, `,"message":{"type":"image","id":"354718705033693859","contentProvider":{"type":"line"},"imageSet":{"id":"E005D41A7288F41B","index":1,"total":2}}`),
			kind: capture.KindMessage, nativeID: "354718705033693859", msgType: "image", convType: "group", attachment: &capture.Attachment{NativeRef: "354718705033693859", State: "pending"}},
		{name: "video in room", event: event("E1", "message", roomSource, `,"message":{"type":"video","id":"325708","duration":60000,"contentProvider":{"type":"line"}}`),
			kind: capture.KindMessage, nativeID: "325708", msgType: "video", convType: "group", attachment: &capture.Attachment{NativeRef: "325708", State: "pending"}},
		{name: "audio", event: event("E1", "message", userSource, `,"message":{"type":"audio","id":"325709","duration":60000,"contentProvider":{"type":"line"}}`),
			kind: capture.KindMessage, nativeID: "325709", msgType: "audio", convType: "direct", attachment: &capture.Attachment{NativeRef: "325709", State: "pending"}},
		{name: "file", event: event("E1", "message", userSource, `,"message":{"type":"file","id":"325710","fileName":"statement.pdf","fileSize":2138}`),
			kind: capture.KindMessage, nativeID: "325710", msgType: "file", convType: "direct", attachment: &capture.Attachment{NativeRef: "325710", Name: "statement.pdf", Size: 2138, State: "pending"}},
		{name: "location", event: event("E1", "message", userSource, `,"message":{"type":"location","id":"325711","title":"my location","address":"1-3 Kioicho, Chiyoda-ku, Tokyo","latitude":35.67966,"longitude":139.73669}`),
			kind: capture.KindMessage, nativeID: "325711", msgType: "location", convType: "direct", text: "my location, 1-3 Kioicho, Chiyoda-ku, Tokyo, 35.67966,139.73669"},
		{name: "sticker", event: event("E1", "message", userSource, `,"message":{"type":"sticker","id":"1501597916","quoteToken":"q","stickerId":"52002738","packageId":"11537","stickerResourceType":"ANIMATION","keywords":["cony","Thanks"]}`),
			kind: capture.KindMessage, nativeID: "1501597916", msgType: "sticker", convType: "direct", text: "cony Thanks"},
		{name: "quote reply", event: event("E1", "message", groupSource, `,"message":{"type":"text","id":"325712","text":"done","quotedMessageId":"468789577898262530"}`),
			kind: capture.KindMessage, nativeID: "325712", msgType: "text", convType: "group", text: "done", re: "468789577898262530"},
		{name: "unsend", event: event("E1", "unsend", groupSource, `,"unsend":{"messageId":"325708"}`),
			kind: capture.KindRecall, nativeID: "E1", target: "325708", convType: "group"},
		{name: "follow", event: event("E1", "follow", userSource, `,"replyToken":"r","follow":{"isUnblocked":false}`),
			kind: capture.KindMembership, nativeID: "E1", convType: "direct"},
		{name: "unfollow", event: event("E1", "unfollow", userSource, ``),
			kind: capture.KindMembership, nativeID: "E1", convType: "direct"},
		{name: "join", event: event("E1", "join", groupSource, `,"replyToken":"r"`),
			kind: capture.KindMembership, nativeID: "E1", convType: "group"},
		{name: "leave", event: event("E1", "leave", groupSource, ``),
			kind: capture.KindMembership, nativeID: "E1", convType: "group"},
		{name: "postback kept as system", event: event("E1", "postback", userSource, `,"postback":{"data":"action=buy&itemid=111"}`),
			kind: capture.KindSystem, nativeID: "E1", convType: "direct"},
		{name: "future message type", event: event("E1", "message", userSource, `,"message":{"type":"hologram","id":"9"}`),
			kind: capture.KindMessage, nativeID: "9", msgType: "unknown", convType: "direct"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, _ := mapWebhook(t, webhook(tc.event))
			r := recs[0]
			if r.Kind != tc.kind || r.NativeID != tc.nativeID || r.MsgType != tc.msgType || r.Text != tc.text ||
				r.Target != tc.target || r.ReplyTo != tc.re || r.Conversation.Type != tc.convType {
				t.Fatalf("kind %q nativeID %q msgType %q text %q target %q replyTo %q conversation %+v",
					r.Kind, r.NativeID, r.MsgType, r.Text, r.Target, r.ReplyTo, r.Conversation)
			}
			var wantAtt []capture.Attachment
			if tc.attachment != nil {
				wantAtt = []capture.Attachment{*tc.attachment}
			}
			if !reflect.DeepEqual(r.Attachments, wantAtt) {
				t.Fatalf("attachments %+v, want %+v", r.Attachments, wantAtt)
			}
		})
	}
}

func TestMembersAndRedelivery(t *testing.T) {
	joined := event("E1", "memberJoined", groupSource, `,"joined":{"members":[{"type":"user","userId":"U111"},{"type":"user","userId":"U222"}]}`)
	left := strings.Replace(event("E2", "memberLeft", groupSource, `,"left":{"members":[{"type":"user","userId":"U333"}]}`), `"isRedelivery":false`, `"isRedelivery":true`, 1)
	recs, keys := mapWebhook(t, webhook(joined, left))
	if len(recs) != 2 || keys[0] != "E1" || keys[1] != "E2" {
		t.Fatalf("%d records, keys %v", len(recs), keys)
	}
	if recs[0].Kind != capture.KindMembership || len(recs[0].Recipients) != 2 || recs[0].Recipients[1].ID != "U222" || recs[0].Provenance.Redelivery {
		t.Fatalf("memberJoined %+v", recs[0])
	}
	if recs[1].Recipients[0].ID != "U333" || !recs[1].Provenance.Redelivery {
		t.Fatalf("memberLeft %+v", recs[1])
	}
}

func TestMalformedWebhooks(t *testing.T) {
	tests := map[string]string{
		"not json":           `{"destination":`,
		"no destination":     `{"events":[]}`,
		"no event id":        webhook(strings.Replace(textEvent, `"webhookEventId":"01H810YECXQQZ37VAXPF6H9E6T",`, "", 1)),
		"no timestamp":       webhook(strings.Replace(textEvent, `"timestamp":1692251666727,`, "", 1)),
		"unknown source":     webhook(event("E1", "follow", `{"type":"square"}`, ``)),
		"group without id":   webhook(event("E1", "join", `{"type":"group"}`, ``)),
		"message no message": webhook(event("E1", "message", userSource, ``)),
		"message no id":      webhook(event("E1", "message", userSource, `,"message":{"type":"text","text":"x"}`)),
		"unsend no target":   webhook(event("E1", "unsend", userSource, `,"unsend":{}`)),
		"long quote":         webhook(event("E1", "message", userSource, `,"message":{"type":"text","id":"1","quotedMessageId":"`+strings.Repeat("9", 600)+`"}`)),
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			w, err := parseWebhook([]byte(body))
			if err == nil {
				_, _, err = (&mapper{botUserID: testBot}).toRecords(w, []byte(body))
			}
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error %v, want errMalformed", err)
			}
		})
	}
}

// FuzzWebhook: never panics; events that map have ids, keys and times and
// pass capture validation unless capture's own size limits object.
func FuzzWebhook(f *testing.F) {
	f.Add([]byte(webhook(textEvent)))
	f.Add([]byte(webhook(event("E1", "unsend", groupSource, `,"unsend":{"messageId":"1"}`))))
	f.Add([]byte(webhook(event("E1", "memberJoined", roomSource, `,"joined":{"members":[{"type":"user","userId":"U1"}]}`))))
	f.Add([]byte(`{"destination":"Uxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","events":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := parseWebhook(body)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error not classed as malformed: %v", err)
			}
			return
		}
		recs, keys, err := (&mapper{botUserID: testBot}).toRecords(w, body)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error not classed as malformed: %v", err)
			}
			return
		}
		if len(recs) != len(w.Events) || len(keys) != len(recs) {
			t.Fatalf("%d events gave %d records and %d keys", len(w.Events), len(recs), len(keys))
		}
		for i, r := range recs {
			if r.NativeID == "" || keys[i] == "" || r.SentAt.IsZero() || r.Conversation.ID == "" {
				t.Fatalf("incomplete record %+v", r)
			}
			stamp(r)
			if err := r.Validate(); err != nil && !strings.Contains(err.Error(), "at most") && !strings.Contains(err.Error(), "over-long") {
				t.Fatalf("mapped record invalid: %v", err)
			}
		}
	})
}

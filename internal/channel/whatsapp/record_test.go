package whatsapp

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
)

func mapBody(t *testing.T, body string) *batch {
	t.Helper()
	n, err := parseNotification([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	b, err := (&mapper{phoneNumberID: testPhoneNumberID}).toRecords(n, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range b.recs {
		stamp(r)
		if err := r.Validate(); err != nil {
			t.Fatalf("record %s invalid: %v", r.NativeID, err)
		}
	}
	return b
}

func TestMetaReferencePayload(t *testing.T) {
	b := mapBody(t, metaReference)
	if len(b.recs) != 1 {
		t.Fatalf("%d records", len(b.recs))
	}
	r := b.recs[0]
	want := capture.Record{
		Channel: "whatsapp", Tenant: "102290129340398", Account: testPhoneNumberID,
		NativeID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", Kind: capture.KindMessage,
		Conversation: capture.Conversation{ID: "16505551234", Type: "direct"},
		Sender:       capture.Participant{ID: "16505551234", IDType: "wa_id", DisplayName: "Sheena Nelson", Affiliation: capture.AffiliationExternal},
		Recipients:   []capture.Participant{{ID: testPhoneNumberID, IDType: "phone_number_id", DisplayName: "15550783881", Affiliation: capture.AffiliationInternal}},
		Direction:    capture.DirectionInbound, MsgType: "text", NativeType: "text", Text: "Does it come in another color?",
		SentAt: time.Unix(1749416383, 0).UTC(),
	}
	got := capture.Record{
		Channel: r.Channel, Tenant: r.Tenant, Account: r.Account, NativeID: r.NativeID, Kind: r.Kind,
		Conversation: r.Conversation, Sender: r.Sender, Recipients: r.Recipients, Direction: r.Direction,
		MsgType: r.MsgType, NativeType: r.NativeType, Text: r.Text, SentAt: r.SentAt,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	if !r.Provenance.SigVerified || r.Provenance.SigScheme != SigScheme || r.Raw.Size != int64(len(metaReference)) || len(r.Raw.SHA256) != 64 {
		t.Fatalf("provenance %+v raw %+v", r.Provenance, r.Raw)
	}
	if b.keys[0] != "m:"+r.NativeID {
		t.Fatalf("dedupe key %q", b.keys[0])
	}
}

func TestMessageTypes(t *testing.T) {
	tests := []struct {
		name, msg                    string
		kind                         capture.Kind
		msgType, text, target, reply string
		attachment                   *capture.Attachment
		reaction                     *capture.Reaction
	}{
		{name: "reply", msg: `{"from":"16505551234","id":"w1","timestamp":"1749416383","type":"text","context":{"from":"15550783881","id":"w0"},"text":{"body":"yes"}}`,
			kind: capture.KindMessage, msgType: "text", text: "yes", reply: "w0"},
		{name: "image", msg: `{"from":"16505551234","id":"w1","timestamp":"1749416383","type":"image","image":{"caption":"the contract","mime_type":"image/jpeg","sha256":"abc=","id":"media-1"}}`,
			kind: capture.KindMessage, msgType: "image", text: "the contract", attachment: &capture.Attachment{NativeRef: "media-1", MIME: "image/jpeg", State: "pending"}},
		{name: "document", msg: `{"from":"16505551234","id":"w1","timestamp":"1749416383","type":"document","document":{"filename":"terms.pdf","mime_type":"application/pdf","id":"media-2"}}`,
			kind: capture.KindMessage, msgType: "file", attachment: &capture.Attachment{NativeRef: "media-2", Name: "terms.pdf", MIME: "application/pdf", State: "pending"}},
		{name: "audio", msg: `{"from":"16505551234","id":"w1","timestamp":"1749416383","type":"audio","audio":{"mime_type":"audio/ogg; codecs=opus","id":"media-3","voice":true}}`,
			kind: capture.KindMessage, msgType: "audio", attachment: &capture.Attachment{NativeRef: "media-3", MIME: "audio/ogg; codecs=opus", State: "pending"}},
		{name: "video", msg: `{"from":"16505551234","id":"w1","timestamp":"1749416383","type":"video","video":{"mime_type":"video/mp4","id":"media-4"}}`,
			kind: capture.KindMessage, msgType: "video", attachment: &capture.Attachment{NativeRef: "media-4", MIME: "video/mp4", State: "pending"}},
		{name: "sticker", msg: `{"from":"16505551234","id":"w1","timestamp":"1749416383","type":"sticker","sticker":{"mime_type":"image/webp","id":"media-5","animated":false}}`,
			kind: capture.KindMessage, msgType: "sticker", attachment: &capture.Attachment{NativeRef: "media-5", MIME: "image/webp", State: "pending"}},
		{name: "location", msg: `{"from":"16505551234","id":"w1","timestamp":"1749416383","type":"location","location":{"latitude":22.2793,"longitude":114.1628,"name":"IFC","address":"8 Finance St"}}`,
			kind: capture.KindMessage, msgType: "location", text: "IFC, 8 Finance St, 22.2793,114.1628"},
		{name: "contacts", msg: `{"from":"16505551234","id":"w1","timestamp":"1749416383","type":"contacts","contacts":[{"name":{"formatted_name":"Lau Tai Man"},"phones":[{"phone":"+852 5555 0101","wa_id":"85255550101"}]}]}`,
			kind: capture.KindMessage, msgType: "contact_card", text: "Lau Tai Man +852 5555 0101"},
		{name: "interactive button", msg: `{"from":"16505551234","id":"w1","timestamp":"1749416383","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"b1","title":"Confirm trade"}}}`,
			kind: capture.KindMessage, msgType: "text", text: "Confirm trade"},
		{name: "interactive list", msg: `{"from":"16505551234","id":"w1","timestamp":"1749416383","type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"l1","title":"Option B"}}}`,
			kind: capture.KindMessage, msgType: "text", text: "Option B"},
		{name: "flow", msg: `{"from":"16505551234","id":"w1","timestamp":"1749416383","type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{"name":"flow","body":"Sent","response_json":"{\"amount\":\"5000\"}"}}}`,
			kind: capture.KindMessage, msgType: "text", text: "Sent\n{\"amount\":\"5000\"}"},
		{name: "button", msg: `{"from":"16505551234","id":"w1","timestamp":"1749416383","type":"button","context":{"from":"15550783881","id":"w0"},"button":{"payload":"STOP","text":"Stop promotions"}}`,
			kind: capture.KindMessage, msgType: "text", text: "Stop promotions", reply: "w0"},
		{name: "order", msg: `{"from":"16505551234","id":"w1","timestamp":"1749416383","type":"order","order":{"catalog_id":"c1","text":"please","product_items":[{"product_retailer_id":"sku-1","quantity":2,"item_price":9.5,"currency":"USD"}]}}`,
			kind: capture.KindMessage, msgType: "order", text: "please\nsku-1 x2 @ 9.5 USD"},
		{name: "reaction", msg: `{"from":"16505551234","id":"w1","timestamp":"1749416383","type":"reaction","reaction":{"message_id":"w0","emoji":"👍"}}`,
			kind: capture.KindReaction, target: "w0", reaction: &capture.Reaction{Emoji: "👍"}},
		{name: "reaction removed", msg: `{"from":"16505551234","id":"w1","timestamp":"1749416383","type":"reaction","reaction":{"message_id":"w0"}}`,
			kind: capture.KindReaction, target: "w0", reaction: &capture.Reaction{Removed: true}},
		{name: "system", msg: `{"from":"16505551234","id":"w1","timestamp":"1749416383","type":"system","system":{"body":"NAME changed from 16505551234 to 16505559999","new_wa_id":"16505559999","type":"user_changed_number"}}`,
			kind: capture.KindSystem, text: "NAME changed from 16505551234 to 16505559999"},
		{name: "unsupported", msg: `{"from":"16505551234","id":"w1","timestamp":"1749416383","type":"unsupported","errors":[{"code":131051,"title":"Message type unknown"}]}`,
			kind: capture.KindMessage, msgType: "unknown"},
		{name: "future type", msg: `{"from":"16505551234","id":"w1","timestamp":"1749416383","type":"hologram","hologram":{"id":"x"}}`,
			kind: capture.KindMessage, msgType: "unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := mapBody(t, notification(tc.msg))
			r := b.recs[0]
			if r.Kind != tc.kind || r.MsgType != tc.msgType || r.Text != tc.text || r.Target != tc.target || r.ReplyTo != tc.reply {
				t.Fatalf("kind %q msgType %q text %q target %q replyTo %q", r.Kind, r.MsgType, r.Text, r.Target, r.ReplyTo)
			}
			if !reflect.DeepEqual(r.Reaction, tc.reaction) {
				t.Fatalf("reaction %+v, want %+v", r.Reaction, tc.reaction)
			}
			var wantAtt []capture.Attachment
			if tc.attachment != nil {
				wantAtt = []capture.Attachment{*tc.attachment}
			}
			if !reflect.DeepEqual(r.Attachments, wantAtt) {
				t.Fatalf("attachments %+v, want %+v", r.Attachments, wantAtt)
			}
			if r.NativeType == "" {
				t.Fatal("nativeType must keep Meta's type")
			}
		})
	}
}

func TestStatusesAndEchoes(t *testing.T) {
	statuses := `"statuses":[` +
		`{"id":"wamid.OUT1","status":"sent","timestamp":"1749416400","recipient_id":"16505551234","conversation":{"id":"c1","origin":{"type":"service"}},"pricing":{"billable":true}},` +
		`{"id":"wamid.OUT1","status":"read","timestamp":"1749416460","recipient_id":"16505551234"},` +
		`{"id":"wamid.OUT2","status":"failed","timestamp":"1749416470","recipient_id":"16505551234","errors":[{"code":131047,"title":"Re-engagement message"}]}]`
	b := mapBody(t, changeFor(testPhoneNumberID, "messages", statuses))
	if len(b.recs) != 3 {
		t.Fatalf("%d records", len(b.recs))
	}
	sent, read, failed := b.recs[0], b.recs[1], b.recs[2]
	if sent.Kind != capture.KindStatus || sent.NativeID != "wamid.OUT1:sent" || sent.Target != "wamid.OUT1" || sent.NativeType != "sent" ||
		sent.Direction != capture.DirectionOutbound || sent.Sender.Affiliation != capture.AffiliationInternal || sent.Recipients[0].ID != "16505551234" {
		t.Fatalf("sent status %+v", sent)
	}
	if read.DedupKey == sent.DedupKey || b.keys[0] == b.keys[1] {
		t.Fatal("each status of a message must be its own record")
	}
	if failed.Text != "131047 Re-engagement message" {
		t.Fatalf("failed status text %q", failed.Text)
	}

	echo := `"message_echoes":[{"from":"15550783881","to":"16505551234","id":"wamid.ECHO1","timestamp":"1749416500","type":"text","text":{"body":"Yes, in blue."}}]`
	b = mapBody(t, changeFor(testPhoneNumberID, "smb_message_echoes", echo))
	r := b.recs[0]
	if r.Direction != capture.DirectionOutbound || r.Sender.ID != testPhoneNumberID || r.Sender.Affiliation != capture.AffiliationInternal ||
		r.Recipients[0] != (capture.Participant{ID: "16505551234", IDType: "wa_id", DisplayName: "Sheena Nelson", Affiliation: capture.AffiliationExternal}) ||
		r.Conversation.ID != "16505551234" || r.Text != "Yes, in blue." {
		t.Fatalf("echo %+v", r)
	}
}

func TestOtherNumbersAndFieldsAreSkipped(t *testing.T) {
	body := `{"object":"whatsapp_business_account","entry":[{"id":"w","changes":[` +
		`{"field":"messages","value":{"metadata":{"phone_number_id":"999"},"messages":[` + textMessage("theirs", "not ours") + `]}},` +
		`{"field":"message_template_status_update","value":{"event":"APPROVED"}},` +
		`{"field":"messages","value":{"metadata":{"phone_number_id":"` + testPhoneNumberID + `"},"messages":[` + textMessage("ours", "hi") + `]}}]}]}`
	b := mapBody(t, body)
	if len(b.recs) != 1 || b.recs[0].NativeID != "ours" || b.otherNumber != 1 || b.otherField != 1 {
		t.Fatalf("records %d (first %q), otherNumber %d, otherField %d", len(b.recs), b.recs[0].NativeID, b.otherNumber, b.otherField)
	}
}

func TestMalformedNotifications(t *testing.T) {
	tests := map[string]string{
		"not json":           `{"object":`,
		"wrong object":       `{"object":"page","entry":[]}`,
		"missing id":         notification(`{"from":"16505551234","timestamp":"1749416383","type":"text","text":{"body":"x"}}`),
		"missing from":       notification(`{"id":"w1","timestamp":"1749416383","type":"text","text":{"body":"x"}}`),
		"bad timestamp":      notification(`{"from":"1","id":"w1","timestamp":"yesterday","type":"text"}`),
		"media without id":   notification(`{"from":"1","id":"w1","timestamp":"1749416383","type":"image","image":{"mime_type":"image/jpeg"}}`),
		"reaction no target": notification(`{"from":"1","id":"w1","timestamp":"1749416383","type":"reaction","reaction":{"emoji":"x"}}`),
		"long id":            notification(textMessage(strings.Repeat("w", 513), "x")),
		"status no status":   changeFor(testPhoneNumberID, "messages", `"statuses":[{"id":"w","timestamp":"1","recipient_id":"1"}]`),
		"echo without to":    changeFor(testPhoneNumberID, "smb_message_echoes", `"message_echoes":[{"from":"1","id":"e","timestamp":"1","type":"text"}]`),
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			n, err := parseNotification([]byte(body))
			if err == nil {
				_, err = (&mapper{phoneNumberID: testPhoneNumberID}).toRecords(n, []byte(body))
			}
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error %v, want errMalformed", err)
			}
		})
	}
}

// FuzzNotification: never panics; a notification that maps is made only of
// records for our number with ids, that pass capture validation unless
// capture's own size limits object.
func FuzzNotification(f *testing.F) {
	f.Add([]byte(metaReference))
	f.Add([]byte(notification(`{"from":"1","id":"w1","timestamp":"1","type":"reaction","reaction":{"message_id":"w0"}}`)))
	f.Add([]byte(changeFor(testPhoneNumberID, "messages", `"statuses":[{"id":"w","status":"read","timestamp":"1","recipient_id":"1"}]`)))
	f.Add([]byte(changeFor(testPhoneNumberID, "smb_message_echoes", `"message_echoes":[{"from":"1","to":"2","id":"e","timestamp":"1","type":"image","image":{"id":"m"}}]`)))
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := parseNotification(body)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error not classed as malformed: %v", err)
			}
			return
		}
		b, err := (&mapper{phoneNumberID: testPhoneNumberID}).toRecords(n, body)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error not classed as malformed: %v", err)
			}
			return
		}
		if len(b.keys) != len(b.recs) {
			t.Fatalf("%d keys for %d records", len(b.keys), len(b.recs))
		}
		for _, r := range b.recs {
			if r.NativeID == "" || r.Account != testPhoneNumberID || r.SentAt.IsZero() {
				t.Fatalf("incomplete record %+v", r)
			}
			stamp(r)
			if err := r.Validate(); err != nil && !strings.Contains(err.Error(), "at most") && !strings.Contains(err.Error(), "over-long") {
				t.Fatalf("mapped record invalid: %v", err)
			}
		}
	})
}

package telegram

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/connector"
)

const (
	alice    = `{"id":1111111,"is_bot":false,"first_name":"Alice","last_name":"Wong","username":"alicew"}`
	customer = `{"id":2222222,"is_bot":false,"first_name":"陈","username":"chen"}`
	group    = `{"id":-1001234567890,"title":"Desk","type":"supergroup"}`
	private  = `{"id":2222222,"first_name":"陈","type":"private"}`
)

func msg(chat, from, extra string) string {
	return fmt.Sprintf(`{"message_id":77,"from":%s,"chat":%s,"date":1767225000%s}`, from, chat, extra)
}

type want struct {
	kind      capture.Kind
	nativeID  string
	target    string
	msgType   string
	text      string
	dir       capture.Direction
	sender    string
	aff       capture.Affiliation
	account   string
	convType  string
	replyTo   string
	mentions  string
	attach    string
	reaction  string
	edited    bool
	consent   string
	nativeTyp string
}

func TestUpdateMapping(t *testing.T) {
	cases := []struct {
		name   string
		update string
		want   []want
	}{
		{"group text with mentions and reply", `{"update_id":1,"message":` + msg(group, alice,
			`,"text":"@bob 👍🏽 ok @carol","entities":[{"type":"mention","offset":0,"length":4},{"type":"mention","offset":13,"length":6},{"type":"text_mention","offset":5,"length":2,"user":{"id":42,"is_bot":false,"first_name":"D"}}],"reply_to_message":{"message_id":70,"chat":`+group+`,"date":1767224000}`) + `}`,
			[]want{{kind: "message", nativeID: "-1001234567890:77", msgType: "text", text: "@bob 👍🏽 ok @carol", sender: "1111111", aff: "unknown", account: testBotID,
				convType: "group", replyTo: "-1001234567890:70", mentions: "[@bob @carol 42]", nativeTyp: "message"}}},
		{"private photo picks largest size", `{"update_id":2,"message":` + msg(private, customer,
			`,"caption":"合同","photo":[{"file_id":"small","file_unique_id":"a","width":90,"height":90,"file_size":1000},{"file_id":"big","file_unique_id":"b","width":1280,"height":960,"file_size":90000},{"file_id":"mid","file_unique_id":"c","width":320,"height":240}]`) + `}`,
			[]want{{kind: "message", nativeID: "2222222:77", msgType: "image", text: "合同", dir: "inbound", sender: "2222222", aff: "unknown", account: testBotID,
				convType: "direct", attach: "[{big photo  90000}]", nativeTyp: "message"}}},
		{"edited message", `{"update_id":3,"edited_message":` + msg(group, alice, `,"edit_date":1767225100,"text":"sell"`) + `}`,
			[]want{{kind: "edit", nativeID: "-1001234567890:77:edit:1767225100", target: "-1001234567890:77", msgType: "text", text: "sell", sender: "1111111", aff: "unknown",
				account: testBotID, convType: "group", edited: true, nativeTyp: "edited_message"}}},
		{"channel post", `{"update_id":4,"channel_post":{"message_id":9,"sender_chat":{"id":-1009,"title":"News","type":"channel"},"chat":{"id":-1009,"title":"News","type":"channel"},"date":1767225000,"text":"hello"}}`,
			[]want{{kind: "message", nativeID: "-1009:9", msgType: "text", text: "hello", sender: "-1009", aff: "unknown", account: testBotID, convType: "channel", nativeTyp: "channel_post"}}},
		{"edited channel post", `{"update_id":5,"edited_channel_post":{"message_id":9,"chat":{"id":-1009,"title":"News","type":"channel"},"date":1767225000,"edit_date":1767225009,"text":"hello!"}}`,
			[]want{{kind: "edit", nativeID: "-1009:9:edit:1767225009", target: "-1009:9", msgType: "text", text: "hello!", sender: "-1009", aff: "unknown", account: testBotID, convType: "channel", edited: true, nativeTyp: "edited_channel_post"}}},
		{"bot document", `{"update_id":6,"message":` + msg(group, `{"id":99,"is_bot":true,"first_name":"Helper"}`,
			`,"document":{"file_id":"DOC","file_unique_id":"u","file_name":"terms.pdf","mime_type":"application/pdf","file_size":48213}`) + `}`,
			[]want{{kind: "message", nativeID: "-1001234567890:77", msgType: "file", sender: "99", aff: "bot", account: testBotID, convType: "group",
				attach: "[{DOC terms.pdf application/pdf 48213}]", nativeTyp: "message"}}},
		{"animation wins over document", `{"update_id":7,"message":` + msg(group, alice,
			`,"animation":{"file_id":"ANI","file_unique_id":"u","mime_type":"video/mp4"},"document":{"file_id":"ANI","file_unique_id":"u"}`) + `}`,
			[]want{{kind: "message", nativeID: "-1001234567890:77", msgType: "video", sender: "1111111", aff: "unknown", account: testBotID, convType: "group",
				attach: "[{ANI animation video/mp4 0}]", nativeTyp: "message"}}},
		{"voice", `{"update_id":8,"message":` + msg(group, alice, `,"voice":{"file_id":"V","file_unique_id":"u","mime_type":"audio/ogg","file_size":5}`) + `}`,
			[]want{{kind: "message", nativeID: "-1001234567890:77", msgType: "audio", sender: "1111111", aff: "unknown", account: testBotID, convType: "group", attach: "[{V voice audio/ogg 5}]", nativeTyp: "message"}}},
		{"sticker", `{"update_id":9,"message":` + msg(group, alice, `,"sticker":{"file_id":"S","file_unique_id":"u","emoji":"😀"}`) + `}`,
			[]want{{kind: "message", nativeID: "-1001234567890:77", msgType: "sticker", text: "😀", sender: "1111111", aff: "unknown", account: testBotID, convType: "group", attach: "[{S sticker  0}]", nativeTyp: "message"}}},
		{"location", `{"update_id":10,"message":` + msg(group, alice, `,"location":{"latitude":22.2783,"longitude":114.1747}`) + `}`,
			[]want{{kind: "message", nativeID: "-1001234567890:77", msgType: "location", text: "22.2783,114.1747", sender: "1111111", aff: "unknown", account: testBotID, convType: "group", nativeTyp: "message"}}},
		{"contact", `{"update_id":11,"message":` + msg(group, alice, `,"contact":{"phone_number":"+85212345678","first_name":"Bob"}`) + `}`,
			[]want{{kind: "message", nativeID: "-1001234567890:77", msgType: "contact_card", text: "Bob +85212345678", sender: "1111111", aff: "unknown", account: testBotID, convType: "group", nativeTyp: "message"}}},
		{"poll", `{"update_id":12,"message":` + msg(group, alice, `,"poll":{"id":"p","question":"Lunch?","options":[{"text":"yes","voter_count":0},{"text":"no","voter_count":0}],"total_voter_count":0,"is_closed":false,"is_anonymous":true,"type":"regular","allows_multiple_answers":false}`) + `}`,
			[]want{{kind: "message", nativeID: "-1001234567890:77", msgType: "vote", text: "Lunch?\n- yes\n- no", sender: "1111111", aff: "unknown", account: testBotID, convType: "group", nativeTyp: "message"}}},
		{"reaction changed", `{"update_id":13,"message_reaction":{"chat":` + group + `,"message_id":77,"user":` + alice + `,"date":1767225200,"old_reaction":[{"type":"emoji","emoji":"👍"}],"new_reaction":[{"type":"emoji","emoji":"🔥"},{"type":"custom_emoji","custom_emoji_id":"5368"}]}}`,
			[]want{
				{kind: "reaction", nativeID: "-1001234567890:77:reaction:13:🔥", target: "-1001234567890:77", sender: "1111111", aff: "unknown", account: testBotID, convType: "group", reaction: "🔥", nativeTyp: "message_reaction"},
				{kind: "reaction", nativeID: "-1001234567890:77:reaction:13:custom_emoji:5368", target: "-1001234567890:77", sender: "1111111", aff: "unknown", account: testBotID, convType: "group", reaction: "custom_emoji:5368", nativeTyp: "message_reaction"},
				{kind: "reaction", nativeID: "-1001234567890:77:reaction:13:👍", target: "-1001234567890:77", sender: "1111111", aff: "unknown", account: testBotID, convType: "group", reaction: "👍 removed", nativeTyp: "message_reaction"},
			}},
		{"reaction removed", `{"update_id":14,"message_reaction":{"chat":` + group + `,"message_id":77,"actor_chat":{"id":-1009,"title":"News","type":"channel"},"date":1767225200,"old_reaction":[{"type":"emoji","emoji":"👍"}],"new_reaction":[]}}`,
			[]want{{kind: "reaction", nativeID: "-1001234567890:77:reaction:14:👍", target: "-1001234567890:77", sender: "-1009", aff: "unknown", account: testBotID, convType: "group", reaction: "👍 removed", nativeTyp: "message_reaction"}}},
		{"business message from customer, connection unknown", `{"update_id":15,"business_message":` + msg(private, customer, `,"business_connection_id":"BCX","text":"price?"`) + `}`,
			[]want{{kind: "message", nativeID: "BCX:2222222:77", msgType: "text", text: "price?", dir: "inbound", sender: "2222222", aff: "external", account: testBotID, convType: "direct", nativeTyp: "business_message"}}},
		{"business message from owner, connection unknown", `{"update_id":16,"business_message":` + msg(private, alice, `,"business_connection_id":"BCX","text":"9.5"`) + `}`,
			[]want{{kind: "message", nativeID: "BCX:2222222:77", msgType: "text", text: "9.5", dir: "outbound", sender: "1111111", aff: "internal", account: testBotID, convType: "direct", nativeTyp: "business_message"}}},
		{"deleted business messages", `{"update_id":17,"deleted_business_messages":{"business_connection_id":"BCX","chat":` + private + `,"message_ids":[77,78]}}`,
			[]want{
				{kind: "recall", nativeID: "BCX:2222222:77", target: "BCX:2222222:77", sender: "2222222", aff: "unknown", account: testBotID, convType: "direct", nativeTyp: "deleted_business_messages"},
				{kind: "recall", nativeID: "BCX:2222222:78", target: "BCX:2222222:78", sender: "2222222", aff: "unknown", account: testBotID, convType: "direct", nativeTyp: "deleted_business_messages"},
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t)
			if rec := ts.post(tc.update, testSecret); rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			recs := ts.sink.Records()
			if len(recs) != len(tc.want) {
				t.Fatalf("%d records, want %d", len(recs), len(tc.want))
			}
			for i, w := range tc.want {
				checkRecord(t, recs[i], w)
			}
		})
	}
}

func checkRecord(t *testing.T, r *capture.Record, w want) {
	t.Helper()
	reaction := ""
	if r.Reaction != nil {
		reaction = r.Reaction.Emoji
		if r.Reaction.Removed {
			reaction += " removed"
		}
	}
	var att []string
	for _, a := range r.Attachments {
		if a.State != "pending" {
			t.Errorf("attachment state %q", a.State)
		}
		att = append(att, fmt.Sprintf("{%s %s %s %d}", a.NativeRef, a.Name, a.MIME, a.Size))
	}
	attach := ""
	if att != nil {
		attach = "[" + strings.Join(att, " ") + "]"
	}
	mentions := ""
	if r.Mentions != nil {
		mentions = fmt.Sprint(r.Mentions)
	}
	consent := ""
	if r.Consent != nil {
		consent = r.Consent.SubjectID + " " + r.Consent.State
	}
	got := want{kind: r.Kind, nativeID: r.NativeID, target: r.Target, msgType: r.MsgType, text: r.Text, dir: r.Direction,
		sender: r.Sender.ID, aff: r.Sender.Affiliation, account: r.Account, convType: r.Conversation.Type, replyTo: r.ReplyTo,
		mentions: mentions, attach: attach, reaction: reaction, edited: r.EditedAt != nil, consent: consent, nativeTyp: r.NativeType}
	if got != w {
		t.Errorf("record\n got %+v\nwant %+v", got, w)
	}
	if r.NativeSeq == nil || r.Channel != "telegram" || r.Provenance.SigScheme != SigScheme || r.Raw.SHA256 == "" {
		t.Errorf("seq, channel, provenance or raw missing: %+v", r)
	}
}

func TestBusinessConnectionDecidesDirection(t *testing.T) {
	ts := newTestServer(t)
	conn := `{"update_id":20,"business_connection":{"id":"BCX","user":` + alice + `,"user_chat_id":1111111,"date":1767220000,"can_reply":true,"is_enabled":true}}`
	if rec := ts.post(conn, testSecret); rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	// In a group the private-chat rule cannot decide; the connection can.
	grp := `{"update_id":21,"business_message":` + msg(group, alice, `,"business_connection_id":"BCX","text":"hi"`) + `}`
	other := `{"update_id":22,"business_message":` + msg(group, customer, `,"business_connection_id":"BCX","text":"yo"`) + `}`
	unknown := `{"update_id":23,"business_message":` + msg(group, customer, `,"business_connection_id":"BCY","text":"?"`) + `}`
	off := `{"update_id":24,"business_connection":{"id":"BCX","user":` + alice + `,"user_chat_id":1111111,"date":1767229000,"is_enabled":false}}`
	for _, u := range []string{grp, other, unknown, off} {
		if rec := ts.post(u, testSecret); rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
	}
	recs := ts.sink.Records()
	checkRecord(t, recs[0], want{kind: "consent", nativeID: "business_connection:BCX:20", text: "business connection BCX enabled", dir: "internal", sender: "1111111",
		aff: "internal", account: "1111111", convType: "direct", consent: "1111111 agree", nativeTyp: "business_connection"})
	checkRecord(t, recs[1], want{kind: "message", nativeID: "BCX:-1001234567890:77", msgType: "text", text: "hi", dir: "outbound", sender: "1111111", aff: "internal", account: "1111111", convType: "group", nativeTyp: "business_message"})
	checkRecord(t, recs[2], want{kind: "message", nativeID: "BCX:-1001234567890:77", msgType: "text", text: "yo", dir: "inbound", sender: "2222222", aff: "external", account: "1111111", convType: "group", nativeTyp: "business_message"})
	checkRecord(t, recs[3], want{kind: "message", nativeID: "BCY:-1001234567890:77", msgType: "text", text: "?", sender: "2222222", aff: "unknown", account: testBotID, convType: "group", nativeTyp: "business_message"})
	checkRecord(t, recs[4], want{kind: "consent", nativeID: "business_connection:BCX:24", text: "business connection BCX disabled", dir: "internal", sender: "1111111",
		aff: "internal", account: "1111111", convType: "direct", consent: "1111111 disagree", nativeTyp: "business_connection"})
}

func TestMentionsIgnoreBadOffsets(t *testing.T) {
	got := mentions("@a", []MessageEntity{{Type: "mention", Offset: 1, Length: 5}, {Type: "mention", Offset: -1, Length: 1}, {Type: "mention", Offset: 0, Length: 2}})
	if fmt.Sprint(got) != "[@a]" {
		t.Fatalf("%v", got)
	}
}

func TestParseUpdateRefusals(t *testing.T) {
	for name, body := range map[string]string{
		"no update_id":      `{"message":` + msg(group, alice, `,"text":"x"`) + `}`,
		"array":             `[]`,
		"edit without date": `{"update_id":1,"edited_message":` + msg(group, alice, `,"text":"x"`) + `}`,
		"business no conn":  `{"update_id":1,"business_message":` + msg(private, alice, `,"text":"x"`) + `}`,
		"deleted no ids":    `{"update_id":1,"deleted_business_messages":{"business_connection_id":"B","chat":` + private + `,"message_ids":[]}}`,
		"reaction no actor": `{"update_id":1,"message_reaction":{"chat":` + group + `,"message_id":1,"date":5,"old_reaction":[],"new_reaction":[]}}`,
		"connection no id":  `{"update_id":1,"business_connection":{"user":` + alice + `,"date":5,"is_enabled":true}}`,
		"wrong type":        `{"update_id":"1"}`,
	} {
		if _, err := parseUpdate([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestRecordsValidate(t *testing.T) {
	u, err := parseUpdate([]byte(textUpdate))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range newMapper(testBotID, func(string) (int64, bool) { return 0, false }, []byte(textUpdate), u.UpdateID, time.Now()).records(u) {
		connector.Stamp(r, time.Now(), "a", "v")
		if err := r.Validate(); err != nil {
			t.Fatal(err)
		}
	}
}

package wecom

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/connector"
)

// Sample callbacks from 接收消息与事件 (document/path/90239 messages,
// 90240 events, 92130 external contact events), trimmed to what is mapped.
func TestAppRecordMapping(t *testing.T) {
	head := `<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>1348831860</CreateTime>`
	from := func(id string) string { return strings.Replace(head, "%s", id, 1) }
	cases := []struct {
		name, msg  string
		kind       capture.Kind
		msgType    string
		nativeType string
		text       string
		direction  capture.Direction
		attachRef  string
		attachMIME string
		recipients int
	}{
		{"text", from("zhangsan") + `<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[this is a test]]></Content><MsgId>1234567890123456</MsgId><AgentID>1</AgentID></xml>`,
			capture.KindMessage, "text", "text", "this is a test", capture.DirectionInternal, "", "", 1},
		{"image", from("zhangsan") + `<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://p/x.jpg]]></PicUrl><MediaId><![CDATA[media_id]]></MediaId><MsgId>1234567890123457</MsgId><AgentID>1</AgentID></xml>`,
			capture.KindMessage, "image", "image", "", capture.DirectionInternal, "media_id", "image/jpeg", 1},
		{"voice", from("zhangsan") + `<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[media_id]]></MediaId><Format><![CDATA[amr]]></Format><MsgId>1234567890123458</MsgId><AgentID>1</AgentID></xml>`,
			capture.KindMessage, "audio", "voice", "", capture.DirectionInternal, "media_id", "audio/amr", 1},
		{"video", from("zhangsan") + `<MsgType><![CDATA[video]]></MsgType><MediaId><![CDATA[media_id]]></MediaId><ThumbMediaId><![CDATA[t]]></ThumbMediaId><MsgId>1234567890123459</MsgId><AgentID>1</AgentID></xml>`,
			capture.KindMessage, "video", "video", "", capture.DirectionInternal, "media_id", "video/mp4", 1},
		{"location", from("zhangsan") + `<MsgType><![CDATA[location]]></MsgType><Location_X>23.134</Location_X><Location_Y>113.358</Location_Y><Scale>20</Scale><Label><![CDATA[位置信息]]></Label><MsgId>1234567890123460</MsgId><AgentID>1</AgentID></xml>`,
			capture.KindMessage, "location", "location", "位置信息 (23.134,113.358)", capture.DirectionInternal, "", "", 1},
		{"link", from("zhangsan") + `<MsgType><![CDATA[link]]></MsgType><Title><![CDATA[this is a title!]]></Title><Description><![CDATA[this is a description!]]></Description><Url><![CDATA[URL]]></Url><PicUrl><![CDATA[http://p/y.png]]></PicUrl><MsgId>1234567890123461</MsgId><AgentID>1</AgentID></xml>`,
			capture.KindMessage, "link", "link", "this is a title!\nthis is a description!\nURL", capture.DirectionInternal, "http://p/y.png", "", 1},
		{"file from an external contact", from("wmAJ2GCAAAme1XQRC") + `<MsgType><![CDATA[file]]></MsgType><MediaId><![CDATA[m]]></MediaId><FileName><![CDATA[a.pdf]]></FileName><MsgId>1234567890123462</MsgId><AgentID>1</AgentID></xml>`,
			capture.KindMessage, "file", "file", "", capture.DirectionInbound, "m", "", 1},
		{"unknown type", from("zhangsan") + `<MsgType><![CDATA[hologram]]></MsgType><MsgId>1234567890123463</MsgId></xml>`,
			capture.KindMessage, "unknown", "hologram", "", capture.DirectionInternal, "", "", 0},
		{"enter_agent", from("zhangsan") + `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[enter_agent]]></Event><EventKey><![CDATA[]]></EventKey><AgentID>1</AgentID></xml>`,
			capture.KindSystem, "", "event.enter_agent", "", "", "", "", 1},
		{"change_external_contact", from("sys") + `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA]]></ExternalUserID><State><![CDATA[teststate]]></State><WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode></xml>`,
			capture.KindMembership, "", "event.change_external_contact.add_external_contact", "", "", "", "", 2},
	}
	received := time.Unix(1767225600, 0)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := parseAppMessage([]byte(c.msg))
			if err != nil {
				t.Fatal(err)
			}
			r := appRecord(m, []byte(c.msg), recordMeta{channel: ChannelName, tenant: "wwcorp", receivedAt: received})
			if r.Kind != c.kind || r.MsgType != c.msgType || r.NativeType != c.nativeType || r.Text != c.text || r.Direction != c.direction {
				t.Fatalf("kind %q msgType %q nativeType %q text %q direction %q", r.Kind, r.MsgType, r.NativeType, r.Text, r.Direction)
			}
			if len(r.Recipients) != c.recipients {
				t.Fatalf("recipients %+v", r.Recipients)
			}
			if c.attachRef != "" && (len(r.Attachments) != 1 || r.Attachments[0].NativeRef != c.attachRef || r.Attachments[0].MIME != c.attachMIME) {
				t.Fatalf("attachments %+v", r.Attachments)
			}
			if c.attachRef == "" && len(r.Attachments) != 0 {
				t.Fatalf("unexpected attachments %+v", r.Attachments)
			}
			if !r.SentAt.Equal(time.Unix(1348831860, 0)) {
				t.Fatalf("sentAt %v", r.SentAt)
			}
			connector.Stamp(r, received, "ns/acct", "test")
			if err := r.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestEventIdentityTellsApartSameSecondEvents(t *testing.T) {
	ev := func(ext string) *appMessage {
		m, err := parseAppMessage([]byte(`<xml><FromUserName>sys</FromUserName><CreateTime>1403610513</CreateTime><MsgType>event</MsgType><Event>change_external_contact</Event><ChangeType>add_external_contact</ChangeType><UserID>zhangsan</UserID><ExternalUserID>` + ext + `</ExternalUserID></xml>`))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b, a2 := ev("wmA"), ev("wmB"), ev("wmA")
	if a.dedupeKey() == b.dedupeKey() {
		t.Fatal("two contacts added in one second share an identity")
	}
	if a.dedupeKey() != a2.dedupeKey() {
		t.Fatal("a redelivered event has a different identity")
	}
	meta := recordMeta{channel: ChannelName, receivedAt: time.Now()}
	if appRecord(a, nil, meta).NativeID != appRecord(a2, nil, meta).NativeID {
		t.Fatal("nativeID is not stable across redeliveries")
	}
}

func TestParseAppMessageJSONKeepsNumbersExact(t *testing.T) {
	m, err := parseAppMessage([]byte(`{"ToUserName":"ww1","FromUserName":"u","CreateTime":1409659813,"MsgType":"text","Content":"hi","MsgId":4561255354251345929,"AgentID":218}`))
	if err != nil {
		t.Fatal(err)
	}
	if m.MsgID != "4561255354251345929" || m.AgentID != "218" || m.CreateTime != "1409659813" {
		t.Fatalf("parsed %+v", m)
	}
	for _, bad := range []string{"", "   ", "plain text", `{"MsgType":{}}`, `<xml><Content>x</Content></xml>`, `<xml>`} {
		if _, err := parseAppMessage([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestParticipantAffiliation(t *testing.T) {
	for id, want := range map[string]capture.Affiliation{
		"wmAJ2G": capture.AffiliationExternal, "woAJ2G": capture.AffiliationExternal, "wbAJ2G": capture.AffiliationBot,
		"sys": capture.AffiliationSystem, "zhangsan": capture.AffiliationInternal, "": capture.AffiliationUnknown,
	} {
		if got := Participant(id).Affiliation; got != want {
			t.Errorf("%q: %q, want %q", id, got, want)
		}
	}
}

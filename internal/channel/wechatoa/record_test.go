package wechatoa

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/connector"
)

func xmlMsg(typ, extra string) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_123]]></ToUserName><FromUserName><![CDATA[oAbc]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[%s]]></MsgType>%s</xml>`, typ, extra)
}

func TestRecordMapping(t *testing.T) {
	cases := []struct {
		name       string
		body       string
		kind       capture.Kind
		msgType    string
		nativeType string
		nativeID   string
		text       string
		thread     string
		attach     []capture.Attachment
	}{
		{"text", xmlMsg("text", `<Content><![CDATA[买入 600519]]></Content><MsgId>100</MsgId>`), capture.KindMessage, "text", "text", "100", "买入 600519", "", nil},
		{"text from article", xmlMsg("text", `<Content>hi</Content><MsgId>101</MsgId><MsgDataId>2247</MsgDataId><Idx>1</Idx>`), capture.KindMessage, "text", "text", "101", "hi", "article:2247:1", nil},
		{"image", xmlMsg("image", `<PicUrl>http://x/p</PicUrl><MediaId>m1</MediaId><MsgId>102</MsgId>`), capture.KindMessage, "image", "image", "102", "",
			"", []capture.Attachment{{NativeRef: "m1", Name: "image", State: "pending"}}},
		{"voice with recognition", xmlMsg("voice", `<MediaId>m2</MediaId><Format>amr</Format><Recognition>腾讯微信团队</Recognition><MsgId>103</MsgId>`), capture.KindMessage, "audio", "voice", "103", "腾讯微信团队",
			"", []capture.Attachment{{NativeRef: "m2", Name: "voice", MIME: "audio/amr", State: "pending"}}},
		{"video", xmlMsg("video", `<MediaId>m3</MediaId><ThumbMediaId>t3</ThumbMediaId><MsgId>104</MsgId>`), capture.KindMessage, "video", "video", "104", "",
			"", []capture.Attachment{{NativeRef: "m3", Name: "video", State: "pending"}, {NativeRef: "t3", Name: "thumbnail", State: "pending"}}},
		{"shortvideo", xmlMsg("shortvideo", `<MediaId>m4</MediaId><MsgId>105</MsgId>`), capture.KindMessage, "video", "shortvideo", "105", "",
			"", []capture.Attachment{{NativeRef: "m4", Name: "shortvideo", State: "pending"}}},
		{"location", xmlMsg("location", `<Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[广州]]></Label><MsgId>106</MsgId>`), capture.KindMessage, "location", "location", "106", "广州\n23.134521,113.358803", "", nil},
		{"link", xmlMsg("link", `<Title>T</Title><Description>D</Description><Url>https://e/x</Url><MsgId>107</MsgId>`), capture.KindMessage, "link", "link", "107", "T\nD\nhttps://e/x", "", nil},
		{"unknown type", xmlMsg("miniprogrampage", `<Title>mp</Title><MsgId>108</MsgId>`), capture.KindMessage, "unknown", "miniprogrampage", "108", "", "", nil},
		{"subscribe", xmlMsg("event", `<Event>subscribe</Event><EventKey>qrscene_7</EventKey>`), capture.KindMembership, "", "subscribe", "event:oAbc:1700000000:subscribe", "qrscene_7", "", nil},
		{"unsubscribe", xmlMsg("event", `<Event>unsubscribe</Event>`), capture.KindMembership, "", "unsubscribe", "event:oAbc:1700000000:unsubscribe", "", "", nil},
		{"scan", xmlMsg("event", `<Event>SCAN</Event><EventKey>7</EventKey><Ticket>tk</Ticket>`), capture.KindSystem, "", "SCAN", "event:oAbc:1700000000:SCAN", "7", "", nil},
		{"location event", xmlMsg("event", `<Event>LOCATION</Event><Latitude>23.1</Latitude><Longitude>113.3</Longitude><Precision>119</Precision>`), capture.KindSystem, "", "LOCATION", "event:oAbc:1700000000:LOCATION", "23.1,113.3", "", nil},
		{"click", xmlMsg("event", `<Event>CLICK</Event><EventKey>MENU_1</EventKey>`), capture.KindSystem, "", "CLICK", "event:oAbc:1700000000:CLICK", "MENU_1", "", nil},
		{"view", xmlMsg("event", `<Event>VIEW</Event><EventKey>https://e/</EventKey>`), capture.KindSystem, "", "VIEW", "event:oAbc:1700000000:VIEW", "https://e/", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseMessage([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			r := toRecord(m, []byte(tc.body), true, "wxapp")
			if r.Kind != tc.kind || r.MsgType != tc.msgType || r.NativeType != tc.nativeType || r.NativeID != tc.nativeID ||
				r.Text != tc.text || r.Conversation.ThreadID != tc.thread {
				t.Fatalf("got kind=%s msgType=%q nativeType=%q nativeID=%q text=%q thread=%q",
					r.Kind, r.MsgType, r.NativeType, r.NativeID, r.Text, r.Conversation.ThreadID)
			}
			if fmt.Sprint(r.Attachments) != fmt.Sprint(tc.attach) {
				t.Fatalf("attachments %+v, want %+v", r.Attachments, tc.attach)
			}
			if r.Account != "gh_123" || r.Conversation.ID != "gh_123/oAbc" || r.Conversation.Type != "direct" ||
				r.Sender.IDType != IDTypeOpenID || r.Recipients[0].ID != "gh_123" || r.Raw.ContentType != "application/xml" {
				t.Fatalf("identity fields %+v", r)
			}
			connector.Stamp(r, time.Now(), "a", "v")
			if err := r.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestParseMessageRefusals(t *testing.T) {
	for name, body := range map[string]string{
		"no from":         `<xml><ToUserName>a</ToUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><MsgId>1</MsgId></xml>`,
		"no create time":  `<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><MsgType>text</MsgType><MsgId>1</MsgId></xml>`,
		"bad create time": `{"ToUserName":"a","FromUserName":"b","CreateTime":-5,"MsgType":"text","MsgId":1}`,
		"no msgid":        `{"ToUserName":"a","FromUserName":"b","CreateTime":5,"MsgType":"text"}`,
		"event no name":   `{"ToUserName":"a","FromUserName":"b","CreateTime":5,"MsgType":"event"}`,
		"wrong json type": `{"ToUserName":1,"FromUserName":"b","CreateTime":5,"MsgType":"event"}`,
		"neither":         `hello`,
		"empty":           ` `,
	} {
		if _, err := parseMessage([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestDedupeKeyDistinguishesEvents(t *testing.T) {
	a, _ := parseMessage([]byte(xmlMsg("event", `<Event>subscribe</Event>`)))
	b, _ := parseMessage([]byte(xmlMsg("event", `<Event>unsubscribe</Event>`)))
	if a.DedupeKey() == b.DedupeKey() {
		t.Fatal("different events share a dedupe key")
	}
}

package wecom

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/connector"
)

// kfSample is a msg_list element in the published format of kf/sync_msg
// (document/path/94670).
func kfSample(origin int, msgtype, body string) string {
	s := `{"msgid":"from_msgid_4622416642169452483","open_kfid":"wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q","external_userid":"wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw","send_time":1615478585,"origin":` +
		itoa(origin) + `,"msgtype":"` + msgtype + `"`
	if origin == 5 {
		s += `,"servicer_userid":"Zhangsan"`
	}
	if body != "" {
		s += `,"` + msgtype + `":` + body
	}
	return s + "}"
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestKfRecordMapping(t *testing.T) {
	cases := []struct {
		name      string
		raw       string
		kind      capture.Kind
		msgType   string
		native    string
		text      string
		direction capture.Direction
		sender    string
		target    string
		attach    string
	}{
		{"text from customer", kfSample(3, "text", `{"content":"hello world","menu_id":"101"}`),
			capture.KindMessage, "text", "text", "hello world", capture.DirectionInbound, "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw", "", ""},
		{"text from servicer", kfSample(5, "text", `{"content":"您好"}`),
			capture.KindMessage, "text", "text", "您好", capture.DirectionOutbound, "Zhangsan", "", ""},
		{"image", kfSample(3, "image", `{"media_id":"2iSLeVyqzk4eX0IB5kTi9Ljfa2rt9dwfq5WKRQ4Nvvgw"}`),
			capture.KindMessage, "image", "image", "", capture.DirectionInbound, "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw", "", "2iSLeVyqzk4eX0IB5kTi9Ljfa2rt9dwfq5WKRQ4Nvvgw"},
		{"voice", kfSample(3, "voice", `{"media_id":"v1"}`), capture.KindMessage, "audio", "voice", "", capture.DirectionInbound, "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw", "", "v1"},
		{"video", kfSample(3, "video", `{"media_id":"vd"}`), capture.KindMessage, "video", "video", "", capture.DirectionInbound, "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw", "", "vd"},
		{"file", kfSample(3, "file", `{"media_id":"f"}`), capture.KindMessage, "file", "file", "", capture.DirectionInbound, "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw", "", "f"},
		{"location", kfSample(3, "location", `{"latitude":23.106021881103516,"longitude":113.32476043701172,"name":"广州国际媒体港(广州市海珠区)","address":"广东省广州市海珠区滨江东路"}`),
			capture.KindMessage, "location", "location", "广州国际媒体港(广州市海珠区)\n广东省广州市海珠区滨江东路\n(23.106021881103516,113.32476043701172)", capture.DirectionInbound, "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw", "", ""},
		{"link", kfSample(3, "link", `{"title":"TITLE","desc":"DESC","url":"URL","pic_url":"PIC_URL"}`),
			capture.KindMessage, "link", "link", "TITLE\nDESC\nURL", capture.DirectionInbound, "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw", "", ""},
		{"business_card", kfSample(3, "business_card", `{"userid":"USERID"}`), capture.KindMessage, "contact_card", "business_card", "USERID", capture.DirectionInbound, "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw", "", ""},
		{"miniprogram", kfSample(3, "miniprogram", `{"title":"TITLE","appid":"APPID","pagepath":"PAGE_PATH","thumb_media_id":"THUMB"}`),
			capture.KindMessage, "mini_program", "miniprogram", "TITLE\nAPPID PAGE_PATH", capture.DirectionInbound, "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw", "", "THUMB"},
		{"msgmenu", kfSample(5, "msgmenu", `{"head_content":"您对本次服务是否满意呢? ","list":[{"type":"click","click":{"id":"101","content":"满意"}},{"type":"view","view":{"url":"https://work.weixin.qq.com","content":"点击跳转到自助查询页面"}},{"type":"miniprogram","miniprogram":{"appid":"wx123","pagepath":"pages/index","content":"点击打开小程序查询更多"}}],"tail_content":"欢迎再次光临"}`),
			capture.KindMessage, "text", "msgmenu", "您对本次服务是否满意呢? \n满意\n点击跳转到自助查询页面 https://work.weixin.qq.com\n点击打开小程序查询更多\n欢迎再次光临", capture.DirectionOutbound, "Zhangsan", "", ""},
		{"channels_shop_product", kfSample(3, "channels_shop_product", `{"product_id":"10000050","head_image":"IMG","title":"TITLE","sales_price":"100","shop_nickname":"NICKNAME","shop_head_image":"SHOP_IMG"}`),
			capture.KindMessage, "link", "channels_shop_product", "TITLE\n100\nNICKNAME\n10000050", capture.DirectionInbound, "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw", "", ""},
		{"channels_shop_order", kfSample(3, "channels_shop_order", `{"order_id":"1000","product_titles":"商品1、商品2","price_wording":"100.00元","state":"已支付","image_url":"IMG","shop_nickname":"NICK"}`),
			capture.KindMessage, "link", "channels_shop_order", "商品1、商品2\n100.00元\n已支付\nNICK\n1000", capture.DirectionInbound, "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw", "", ""},
		{"merged_msg", kfSample(3, "merged_msg", `{"title":"XXX的聊天记录","item":[{"send_time":1636468095,"msgtype":"text","sender_name":"XXX","msg_content":"{\"text\":{\"content\":\"文本消息\"}}"}]}`),
			capture.KindMessage, "chat_record", "merged_msg", "XXX的聊天记录\nXXX: {\"text\":{\"content\":\"文本消息\"}}", capture.DirectionInbound, "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw", "", ""},
		{"channels", kfSample(3, "channels", `{"sub_type":1,"nickname":"NICK","title":"TITLE"}`), capture.KindMessage, "link", "channels", "NICK\nTITLE", capture.DirectionInbound, "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw", "", ""},
		{"meeting", kfSample(3, "meeting", `{"meetingid":"hyXXXXX"}`), capture.KindMessage, "meeting", "meeting", "hyXXXXX", capture.DirectionInbound, "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw", "", ""},
		{"schedule", kfSample(3, "schedule", `{"scheduleid":"17c7d2bd9f20d652840f72f59e796AAA"}`), capture.KindMessage, "calendar", "schedule", "17c7d2bd9f20d652840f72f59e796AAA", capture.DirectionInbound, "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw", "", ""},
		{"note", kfSample(3, "note", `{}`), capture.KindMessage, "doc", "note", "", capture.DirectionInbound, "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw", "", ""},
		{"unknown type", kfSample(3, "hologram", `{"x":1}`), capture.KindMessage, "unknown", "hologram", "", capture.DirectionInbound, "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw", "", ""},
		{"user recall", kfSample(4, "event", `{"event_type":"user_recall_msg","open_kfid":"wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q","external_userid":"wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw","recall_msgid":"RECALL_MSGID"}`),
			capture.KindRecall, "", "event.user_recall_msg", "", capture.DirectionInbound, "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw", "RECALL_MSGID", ""},
		{"servicer recall", kfSample(4, "event", `{"event_type":"servicer_recall_msg","open_kfid":"wk","recall_msgid":"RECALL2","servicer_userid":"Lisi"}`),
			capture.KindRecall, "", "event.servicer_recall_msg", "", capture.DirectionOutbound, "Lisi", "RECALL2", ""},
		{"enter_session", kfSample(4, "event", `{"event_type":"enter_session","scene":"123","scene_param":"abc","welcome_code":"aaaaaa","wechat_channels":{"nickname":"x","scene":1}}`),
			capture.KindMembership, "", "event.enter_session", "", "", "wecom", "", ""},
		{"msg_send_fail", kfSample(4, "event", `{"event_type":"msg_send_fail","fail_msgid":"FAIL_MSGID","fail_type":4}`),
			capture.KindStatus, "", "event.msg_send_fail", "", "", "wecom", "FAIL_MSGID", ""},
		{"unknown event", kfSample(4, "event", `{"event_type":"brand_new"}`), capture.KindSystem, "", "event.brand_new", "", "", "wecom", "", ""},
		{"malformed element", `{"msgid":"m9","msgtype":"text","text":{"content":["not","a","string"]},"origin":3}`,
			capture.KindMessage, "unknown", "text", "", capture.DirectionInbound, "", "", ""},
	}
	b := kfBatch{corpID: "wwcorp", openKfID: "wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q", cursor: "c0", receivedAt: time.Unix(1767225600, 0)}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := kfRecord(json.RawMessage(c.raw), b)
			if r.Kind != c.kind || r.MsgType != c.msgType || r.NativeType != c.native || r.Text != c.text || r.Direction != c.direction || r.Sender.ID != c.sender || r.Target != c.target {
				t.Fatalf("kind %q msgType %q native %q text %q direction %q sender %q target %q",
					r.Kind, r.MsgType, r.NativeType, r.Text, r.Direction, r.Sender.ID, r.Target)
			}
			if c.attach != "" && (len(r.Attachments) != 1 || r.Attachments[0].NativeRef != c.attach) {
				t.Fatalf("attachments %+v", r.Attachments)
			}
			if r.Channel != KfChannelName || r.Conversation.Type != "customer_service" || r.Provenance.Cursor != "c0" || r.Raw.SHA256 == "" {
				t.Fatalf("record %+v", r)
			}
			connector.Stamp(r, b.receivedAt, "ns/acct", "test")
			if err := r.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestKfRecordsNeverLoseAnElement(t *testing.T) {
	list := []json.RawMessage{
		json.RawMessage(kfSample(3, "text", `{"content":"a"}`)),
		json.RawMessage(`"not an object"`),
		json.RawMessage(`{"origin":3,"msgtype":"text","text":{"content":"no msgid"}}`),
		json.RawMessage(kfSample(3, "text", `{"content":"a"}`)), // repeated msgid: once
	}
	recs := kfRecords(list, kfBatch{corpID: "ww", openKfID: "wk", receivedAt: time.Unix(1767225600, 0)})
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	if recs[1].MsgType != "unknown" || recs[1].NativeID[:7] != "sha256:" {
		t.Fatalf("non-object element: %+v", recs[1])
	}
	if recs[2].NativeID[:7] != "sha256:" || recs[2].Text != "no msgid" {
		t.Fatalf("element without msgid: %+v", recs[2])
	}
}

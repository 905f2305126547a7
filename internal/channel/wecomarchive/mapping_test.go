package wecomarchive

import (
	"bufio"
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
)

type golden struct {
	kind      capture.Kind
	msgType   string
	text      string
	target    string
	sender    capture.Affiliation
	direction capture.Direction
	conv      string
	sentAt    int64 // ms; 0 = the pull time
	media     []string
	consent   *capture.Consent
}

var goldens = map[string]golden{
	"text":               {kind: capture.KindMessage, msgType: "text", text: "test", sender: capture.AffiliationInternal, direction: capture.DirectionInternal, conv: "single:XuJinSheng|icefog", sentAt: 1547087894783},
	"image":              {kind: capture.KindMessage, msgType: "image", sender: capture.AffiliationInternal, direction: capture.DirectionInternal, conv: "single:XuJinSheng|icefog", media: []string{"50de8e5ae8ffe4f1df7a93841f71993a/70961/image/jpeg"}},
	"revoke":             {kind: capture.KindRecall, msgType: "recall", target: "14822339130656386894_1603875600", sender: capture.AffiliationInternal, direction: capture.DirectionOutbound, conv: "single:kenshin|wmUu0zBgAALV7ZymkcMyxvbTe8YdWxxA", sentAt: 1603875615723},
	"agree":              {kind: capture.KindConsent, msgType: "consent", sender: capture.AffiliationExternal, direction: capture.DirectionInbound, conv: "single:kenshin|wmGAgeDQAAvQeaTqWwkMTxGMkvI7OOuQ", sentAt: 1603875826656, consent: &capture.Consent{SubjectID: "wmGAgeDQAAvQeaTqWwkMTxGMkvI7OOuQ", State: capture.ConsentAgree, At: time.UnixMilli(1603875826656).UTC()}},
	"disagree":           {kind: capture.KindConsent, msgType: "consent", sender: capture.AffiliationExternal, direction: capture.DirectionInbound, conv: "single:kenshin|wmErxtDgAA9AW32YyyuYRimKr7D1KWlw", sentAt: 1603875944122, consent: &capture.Consent{SubjectID: "wmErxtDgAA9AW32YyyuYRimKr7D1KWlw", State: capture.ConsentDisagree, At: time.UnixMilli(1603875944122).UTC()}},
	"voice":              {kind: capture.KindMessage, msgType: "audio", sender: capture.AffiliationExternal, direction: capture.DirectionInbound, conv: "single:kenshin|wmGAgeDQAAdBjb8CK4ieMPRm7Cqm-9VA", sentAt: 1603875609704, media: []string{"9db09c7fa627c9e53f17736c786a74d5/6810/audio/amr"}},
	"video":              {kind: capture.KindMessage, msgType: "video", sender: capture.AffiliationInternal, direction: capture.DirectionOutbound, conv: "single:kenshin|wmGAgeDQAAHuRJbt4ZQI_1cqoQcf41WQ", sentAt: 1603875626823, media: []string{"d06fc80c01d6fbffcca3b229ba41eac6/15169724/video/mp4"}},
	"card":               {kind: capture.KindMessage, msgType: "contact_card", text: "微信联系人 wmGAgeDQAAGjFmfnP7A3j2JxQDdLNhSw", sender: capture.AffiliationInternal, direction: capture.DirectionOutbound, conv: "single:kenshin|wmGAgeDQAAy2Dtr0F8aK4dTuatfm-5Rg", sentAt: 1603875680377},
	"location":           {kind: capture.KindMessage, msgType: "location", text: "xxx管理中心\n北京市xxx区xxx路xxx大厦x座\n39.911126,116.586286", sender: capture.AffiliationInternal, direction: capture.DirectionOutbound, conv: "single:icefog|wmN6etBgAA0sbJ3invMvRxPQDFoq9uWA", sentAt: 1603876152141},
	"emotion":            {kind: capture.KindMessage, msgType: "sticker", sender: capture.AffiliationInternal, direction: capture.DirectionOutbound, conv: "single:icef|wmErxtDgAAhteCglUZH2kUt3rq431qmg", sentAt: 1603875611148, media: []string{"94c2b0bba52cc456cb8221b248096612/962604/image/gif"}},
	"file":               {kind: capture.KindMessage, msgType: "file", text: "资料.docx", sender: capture.AffiliationInternal, direction: capture.DirectionOutbound, conv: "single:kens|wmErxtDgAArDlFIhf76O6w4GxU81al8w", sentAt: 1603875608214, media: []string{"18e93fc2ea884df23b3d2d3b8667b9f0/18181/application/vnd.openxmlformats-officedocument.wordprocessingml.document"}},
	"link":               {kind: capture.KindMessage, msgType: "link", text: "邀请你加入群聊\n技术支持群，进入可查看详情\nhttps://work.weixin.qq.com/wework_admin/external_room/join/exceed?vcode=xxx", sender: capture.AffiliationInternal, direction: capture.DirectionInternal, conv: "single:0000726|kenshin", sentAt: 1603875624476},
	"weapp":              {kind: capture.KindMessage, msgType: "mini_program", text: "开始聊天前请仔细阅读服务须知事项\n客户需同意存档聊天记录\n服务须知", sender: capture.AffiliationInternal, direction: capture.DirectionOutbound, conv: "single:kens|wmGAgeDQAAsgQetTQGqRbMxrkodpM3fA", sentAt: 1603875608691},
	"chatrecord":         {kind: capture.KindMessage, msgType: "chat_record", text: "群聊\ntest\ntest2", sender: capture.AffiliationInternal, direction: capture.DirectionInternal, conv: "single:icef|ken", sentAt: 1603875657905},
	"collect":            {kind: capture.KindMessage, msgType: "form", text: "这是填表title\n表项1，文本\n表项2，数字\n表项3，日期\n表项4，时间", sender: capture.AffiliationInternal, direction: capture.DirectionInternal, conv: "wrjc7bDwYAOAhf9quEwRRxyyoMm0QAAA", sentAt: 1576034482344},
	"redpacket":          {kind: capture.KindMessage, msgType: "red_packet", text: "恭喜发财，大吉大利", sender: capture.AffiliationInternal, direction: capture.DirectionInternal, conv: "single:1000000444696|kens", sentAt: 1603877439038},
	"meeting":            {kind: capture.KindMessage, msgType: "meeting", text: "夕会", sender: capture.AffiliationInternal, direction: capture.DirectionInternal, conv: "wr2vOpDgAAN4zVWKbS", sentAt: 1603877328914},
	"switch":             {kind: capture.KindStatus, msgType: "switch", text: "switched enterprise", sender: capture.AffiliationInternal, sentAt: 1554119421840},
	"docmsg":             {kind: capture.KindMessage, msgType: "doc", text: "测试&演示客户\nhttps://doc.weixin.qq.com/txdoc/excel?docid=xxx", sender: capture.AffiliationInternal, direction: capture.DirectionInternal, conv: "wrJawBCQAAStr3jxVxEH", sentAt: 1603877765291},
	"markdown":           {kind: capture.KindMessage, msgType: "markdown", text: "请前往系统查看，谢谢。", sender: capture.AffiliationInternal, direction: capture.DirectionInternal, conv: "wr0SfLCgAAgCaCPeM33UNe", sentAt: 1603875715782},
	"news":               {kind: capture.KindMessage, msgType: "news", text: "service\ntest\nhttp://xxx", sender: capture.AffiliationInternal, direction: capture.DirectionInternal, conv: "wrErxtDgAA0jgXE5", sentAt: 1603876045165},
	"calendar":           {kind: capture.KindMessage, msgType: "calendar", text: "xxx业绩复盘会", sender: capture.AffiliationInternal, direction: capture.DirectionInternal, conv: "wr2LO0CAAAFrTZCGWWAxBA", sentAt: 1603877680795},
	"mixed":              {kind: capture.KindMessage, msgType: "mixed", text: "你好[微笑]", sender: capture.AffiliationInternal, direction: capture.DirectionInternal, conv: "wr_tZ2BwAAUwHpYMwy9cIWqnlU3Hzqfg", sentAt: 1577414359072, media: []string{"368b6c18c82e6441bfd89b343e9d2429/13177/image/jpeg"}},
	"meeting_voice_call": {kind: capture.KindMessage, msgType: "call_recording", sender: capture.AffiliationExternal, direction: capture.DirectionInbound, conv: "voice:grb8a4c48a3c094a70982c518d55e40557", sentAt: 1594197581203, media: []string{"/0/"}},
	"todo":               {kind: capture.KindMessage, msgType: "todo", text: "测试待办\n请于周五前提交报告", sender: capture.AffiliationInternal, direction: capture.DirectionInternal, conv: "single:icef|ken", sentAt: 1603876000123},
	"vote":               {kind: capture.KindMessage, msgType: "vote", text: "午饭吃什么\n面条\n米饭", sender: capture.AffiliationInternal, direction: capture.DirectionInternal, conv: "wrVoteRoomAAA", sentAt: 1603876100456},
	"voip_doc_share":     {kind: capture.KindMessage, msgType: "file", text: "欢迎使用微盘.pdf", sender: capture.AffiliationInternal, direction: capture.DirectionInternal, conv: "single:icef|ken", sentAt: 1603876200789, media: []string{"ff893900f24e55e216e617a40e5c4648/4400654/application/pdf"}},
	"external_redpacket": {kind: capture.KindMessage, msgType: "red_packet", text: "恭喜发财，大吉大利", sender: capture.AffiliationExternal, direction: capture.DirectionInbound, conv: "single:ken|wmGAgeDQAAvQeaTqWwkMTxGMkvI7OOuQ", sentAt: 1603876300000},
	"sphfeed":            {kind: capture.KindMessage, msgType: "channels_feed", text: "视频号名称\n视频号描述", sender: capture.AffiliationInternal, direction: capture.DirectionOutbound, conv: "single:ken|wmGAgeDQAAvQeaTqWwkMTxGMkvI7OOuQ", sentAt: 1603876400000},
}

// fixtureLines reads the §3.2 samples and the constructed shapes.
func fixtureLines(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	for _, name := range []string{"fakesdk/testdata/samples.jsonl", "fakesdk/testdata/constructed.jsonl"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
				out = append(out, append([]byte(nil), line...))
			}
		}
	}
	return out
}

func TestMapEverySample(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	seen := map[string]bool{}
	for i, line := range fixtureLines(t) {
		m, err := ParseMessage(line)
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		key := m.MsgType
		if m.Action == "switch" {
			key = "switch"
		}
		want, ok := goldens[key]
		if !ok {
			t.Fatalf("no golden for %q", key)
		}
		seen[key] = true
		rec, refs := mapMessage(line, pullMeta{corpID: "wwcorp", seq: uint64(100 + i), keyVer: 3, msgID: "chatdata-id", now: now})
		t.Run(key, func(t *testing.T) {
			if rec.NativeID != m.MsgID || rec.Channel != ChannelName || rec.Tenant != "wwcorp" {
				t.Errorf("identity: %q %q %q", rec.NativeID, rec.Channel, rec.Tenant)
			}
			if rec.Kind != want.kind || rec.MsgType != want.msgType || rec.Text != want.text || rec.Target != want.target {
				t.Errorf("got kind=%s msgType=%s text=%q target=%q", rec.Kind, rec.MsgType, rec.Text, rec.Target)
			}
			if key != "switch" && rec.NativeType != key {
				t.Errorf("nativeType %q", rec.NativeType)
			}
			if rec.Sender.Affiliation != want.sender || rec.Direction != want.direction || rec.Conversation.ID != want.conv {
				t.Errorf("got sender=%s direction=%s conv=%q", rec.Sender.Affiliation, rec.Direction, rec.Conversation.ID)
			}
			wantSent := now
			if want.sentAt != 0 {
				wantSent = time.UnixMilli(want.sentAt).UTC()
			}
			if !rec.SentAt.Equal(wantSent) {
				t.Errorf("sentAt %v, want %v", rec.SentAt, wantSent)
			}
			var media []string
			for _, a := range rec.Attachments {
				media = append(media, a.ProviderMD5+"/"+itoa(a.Size)+"/"+a.MIME)
				if a.State != "pending" {
					t.Errorf("attachment state %q before download", a.State)
				}
			}
			if len(media) != len(want.media) || (len(media) > 0 && media[0] != want.media[0]) {
				t.Errorf("media %v, want %v", media, want.media)
			}
			if len(refs) != len(want.media) {
				t.Errorf("%d media refs, want %d", len(refs), len(want.media))
			}
			if (rec.Consent == nil) != (want.consent == nil) || (rec.Consent != nil && *rec.Consent != *want.consent) {
				t.Errorf("consent %+v, want %+v", rec.Consent, want.consent)
			}
			if rec.Provenance.KeyVersion != "3" || rec.Provenance.Cursor != itoa(int64(100+i)) || *rec.NativeSeq != uint64(100+i) {
				t.Errorf("provenance %+v seq %d", rec.Provenance, *rec.NativeSeq)
			}
			if rec.Raw.Envelope != Envelope || len(rec.Raw.SHA256) != 64 || rec.Raw.Size != int64(len(line)) {
				t.Errorf("raw %+v", rec.Raw)
			}
			stampAndValidate(t, rec)
		})
	}
	for k := range goldens {
		if !seen[k] {
			t.Errorf("golden %q has no fixture", k)
		}
	}
}

func TestMapUnknownAndUnparseable(t *testing.T) {
	now := time.Now().UTC()
	rec, _ := mapMessage([]byte(`{"msgid":"x1","action":"send","from":"a","tolist":["b"],"msgtime":1,"msgtype":"hologram","hologram":{}}`), pullMeta{corpID: "c", seq: 1, msgID: "x1", now: now})
	if rec.MsgType != "unknown" || rec.NativeType != "hologram" || rec.Kind != capture.KindMessage {
		t.Fatalf("unknown: %+v", rec)
	}
	stampAndValidate(t, rec)
	rec, refs := mapMessage([]byte("\x00garbage"), pullMeta{corpID: "c", seq: 2, msgID: "from-chatdata", now: now})
	if rec.MsgType != "unknown" || rec.NativeType != "unparseable" || rec.NativeID != "from-chatdata" || refs != nil {
		t.Fatalf("unparseable: %+v", rec)
	}
	stampAndValidate(t, rec)
}

func TestControlCharactersInPlaintext(t *testing.T) {
	plain := []byte("{\"msgid\":\"c1\",\"action\":\"send\",\"from\":\"a\",\"tolist\":[\"b\"],\"msgtime\":5,\"msgtype\":\"text\",\"text\":{\"content\":\"line1\nline2\x00\x01end\"}}\x00")
	rec, _ := mapMessage(plain, pullMeta{corpID: "c", seq: 1, now: time.Now()})
	if rec.MsgType != "text" || rec.Text != "line1\nline2\x00\x01end" {
		t.Fatalf("got %q %q", rec.MsgType, rec.Text)
	}
}

func itoa(n int64) string {
	return string(appendInt(nil, n))
}

func appendInt(b []byte, n int64) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

func stampAndValidate(t *testing.T, rec *capture.Record) {
	t.Helper()
	cp := *rec
	cp.SchemaVersion = capture.SchemaVersion
	cp.CapturedAt = time.Now().UTC()
	cp.ID = capture.NewID(cp.CapturedAt)
	cp.SetDedupKey()
	if err := cp.Validate(); err != nil {
		t.Errorf("record does not validate: %v", err)
	}
}

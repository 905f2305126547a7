package wecomarchive_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/channel/wecom"
	"github.com/vigil-operator/vigil/internal/channel/wecom/qyapi/qyapitest"
	"github.com/vigil-operator/vigil/internal/channel/wecomarchive"
	"github.com/vigil-operator/vigil/internal/channel/wecomarchive/fakesdk"
	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/connector/connectortest"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

// Official WeCom callback vector set A's token and key (research §1.2).
const (
	cbToken  = "QDG6eK"
	cbAESKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func post(t *testing.T, url, body string) {
	t.Helper()
	res, err := http.Post(url, "application/x-ndjson", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %s", url, res.Status)
	}
}

// The whole path: the fake SDK served over the bridge protocol, the bridge
// client, the channel's Run into a sink, the WeCom API fake for room names
// and permit list, and a signed msgaudit_notify waking the puller.
func TestEndToEndBridge(t *testing.T) {
	fake := newFake(t)
	bridge := httptest.NewServer(fakesdk.NewServer(fake))
	defer bridge.Close()
	api := qyapitest.Start(t, testCorp, "archive-secret")
	api.SetPermitUsers(1, "ken", "icef")
	api.SetGroupChat("wr2vOpDgAAN4zVWKbS", qyapitest.GroupChat{RoomName: "夕会群", Creator: "ken"})

	// Every doc sample and constructed shape, over the control API.
	var lines []string
	for _, l := range append(fakesdk.Samples(), fakesdk.Constructed()...) {
		lines = append(lines, string(l))
	}
	post(t, bridge.URL+fakesdk.PathMessages, strings.Join(lines, "\n"))
	fixtures := len(lines)
	// An image in three chunks, a message and its recall, then a seq gap.
	img := media(wecomarchive.MediaChunkBytes*2+77, 9)
	post(t, bridge.URL+fakesdk.PathMedia+"?sdkfileid=e2e-img", string(img))
	post(t, bridge.URL+fakesdk.PathMessages, string(imageMsg("e2e-img-msg", "e2e-img", img, ""))+"\n"+
		string(textMsg("e2e-oops", "ken", "wmGAgeDQAAvQeaTqWwkMTxGMkvI7OOuQ", 1700000000000, "wrong price"))+"\n"+
		`{"msgid":"e2e-recall","action":"recall","from":"ken","tolist":["wmGAgeDQAAvQeaTqWwkMTxGMkvI7OOuQ"],"roomid":"","msgtime":1700000001000,"msgtype":"revoke","revoke":{"pre_msgid":"e2e-oops"}}`)
	post(t, bridge.URL+fakesdk.PathInject+"?op=gap&skip=2", "")
	post(t, bridge.URL+fakesdk.PathMessages, string(textMsg("e2e-after-gap", "ken", "icef", 1700000002000, "next")))
	total := fixtures + 4
	lastSeq := uint64(total + 2)

	reg := prometheus.NewRegistry()
	p := params(t, t.TempDir(), 1)
	p.Registerer = reg
	p.Credentials[cc.KeyCallbackToken] = []byte(cbToken)
	p.Credentials[cc.KeyEncodingAESKey] = []byte(cbAESKey)
	p.Settings = map[string]string{
		cc.SettingSDKMode:      "Bridge",
		cc.SettingSDKBridgeURL: bridge.URL,
		cc.SettingAPIBaseURL:   api.URL,
		cc.SettingPollInterval: "1h",
		cc.SettingPullLimit:    "10",
	}
	ch, err := wecomarchive.NewWithOptions(p, wecomarchive.Options{RatePerMinute: 60000, MediaRetryGap: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var chAny connector.Channel = ch
	wc, ok := chAny.(connector.WebhookChannel)
	if !ok || wc.WebhookPath() != wecomarchive.Path {
		t.Fatal("not a webhook channel on Path")
	}
	sink := &connectortest.Sink{}
	hook := httptest.NewServer(wc.WebhookHandler(sink))
	defer hook.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ch.Run(ctx, sink) }()
	waitFor(t, "the first pull", func() bool { return ch.Cursor() == lastSeq })

	recs := sink.Records()
	if n := countMessages(recs); n != total {
		t.Fatalf("%d records, want %d", n, total)
	}
	byID := map[string]*capture.Record{}
	for _, r := range recs {
		byID[r.NativeID] = r
	}
	imgRec := byID["e2e-img-msg"]
	sum := sha256.Sum256(img)
	if imgRec == nil || imgRec.Attachments[0].State != "stored" || imgRec.Attachments[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("image record %+v", imgRec)
	}
	if r := byID["e2e-recall"]; r == nil || r.Kind != capture.KindRecall || r.Target != "e2e-oops" {
		t.Fatalf("recall record %+v", r)
	}
	gapID := fmt.Sprintf("archive_gap:seq:%d-%d", total, total+1) // seqs after the recall
	if r := byID[gapID]; r == nil || r.MsgType != wecomarchive.MsgTypeGap {
		t.Fatalf("no gap record %s", gapID)
	}
	if r := byID["5935786683775673543_1603877328"]; r == nil || r.Conversation.Name != "夕会群" {
		t.Fatalf("room name not filled: %+v", r)
	}
	if len(byType(recs, wecomarchive.MsgTypeCheckpoint)) != 1 {
		t.Fatal("no checkpoint after the first pull")
	}
	for _, r := range recs {
		if r.Kind != capture.KindSystem && (r.Raw.Envelope != wecomarchive.Envelope || r.Channel != "wecom_archive") {
			t.Fatalf("record %s raw %+v channel %s", r.NativeID, r.Raw, r.Channel)
		}
	}

	// New traffic and a signed msgaudit_notify: the puller wakes long
	// before its hour-long poll.
	post(t, bridge.URL+fakesdk.PathMessages, string(textMsg("e2e-late", "icef", "ken", 1700000003000, "late")))
	notify := []byte("<xml><ToUserName><![CDATA[" + testCorp + "]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1700000004</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[msgaudit_notify]]></Event><AgentID>2000004</AgentID></xml>")
	req, err := wecom.SignedCallback(hook.URL+wecomarchive.Path, cbToken, cbAESKey, testCorp, notify, wxcrypt.FormatXML, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK || body.String() != "success" {
		t.Fatalf("callback answered %s %q", res.Status, body.String())
	}
	waitFor(t, "the notified pull", func() bool { return ch.Cursor() == lastSeq+1 })

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	metric := func(name string) float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name {
				var v float64
				for _, m := range mf.GetMetric() {
					v += m.GetCounter().GetValue() + m.GetGauge().GetValue()
				}
				return v
			}
		}
		t.Fatalf("metric %s not registered", name)
		return 0
	}
	const pre = "vigil_connector_wecom_archive_"
	if v := metric(pre + "cursor_seq"); v != float64(lastSeq+1) {
		t.Errorf("cursor_seq %v", v)
	}
	if v := metric(pre + "gaps_total"); v != 1 {
		t.Errorf("gaps_total %v", v)
	}
	if v := metric(pre + "media_bytes_total"); v < float64(len(img)) {
		t.Errorf("media_bytes_total %v", v)
	}
	if v := metric(pre + "records_total"); v != float64(len(sink.Records())) {
		t.Errorf("records_total %v, sink has %d", v, len(sink.Records()))
	}
	if v := metric(pre + "source_window_remaining_seconds"); v < (wecomarchive.SourceWindow - time.Minute).Seconds() {
		t.Errorf("source_window_remaining_seconds %v", v)
	}
	if v := metric(pre + "last_successful_pull_timestamp_seconds"); v < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last pull %v", v)
	}
	if v := metric(pre + "permit_users"); v != 2 {
		t.Errorf("permit_users %v", v)
	}
	if v := metric(pre + "pulls_total"); v < 2 {
		t.Errorf("pulls_total %v", v)
	}
}

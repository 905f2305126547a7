package wecom

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/channel/wecom/qyapi"
	"github.com/vigil-operator/vigil/internal/channel/wecom/qyapi/qyapitest"
	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/connector/connectortest"
	"github.com/vigil-operator/vigil/internal/connector/spool"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

const (
	testKfSecret = "kf-secret-for-tests"
	testOpenKfID = "wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q"
)

// kfServer serves kf/sync_msg from a fixed chain of pages keyed by cursor,
// in the published response format, and records the requests.
type kfServer struct {
	mu    sync.Mutex
	reqs  []syncMsgRequest
	pages map[string]map[string]any
}

func newKfServer(t *testing.T) (*kfServer, *qyapitest.Fake) {
	fake := qyapitest.Start(t, setA.receiveID, testKfSecret)
	s := &kfServer{pages: map[string]map[string]any{
		"": {"next_cursor": "c1", "has_more": 1, "msg_list": []json.RawMessage{
			json.RawMessage(kfSample(3, "text", `{"content":"我想咨询一下理财产品"}`)),
			json.RawMessage(replaceMsgID(kfSample(5, "text", `{"content":"您好，请问有什么可以帮您"}`), "from_msgid_2")),
		}},
		"c1": {"next_cursor": "c2", "has_more": 0, "msg_list": []json.RawMessage{
			json.RawMessage(replaceMsgID(kfSample(4, "event", `{"event_type":"user_recall_msg","external_userid":"wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw","recall_msgid":"from_msgid_4622416642169452483"}`), "evt_1")),
		}},
		"c2": {"next_cursor": "c3", "has_more": 0, "msg_list": []json.RawMessage{
			json.RawMessage(replaceMsgID(kfSample(3, "text", `{"content":"谢谢"}`), "from_msgid_3")),
		}},
	}}
	fake.Handle(kfSyncPath, func(body []byte) (any, error) {
		var req syncMsgRequest
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, &qyapi.APIError{Code: 47001, Msg: "data format error"}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.reqs = append(s.reqs, req)
		page, ok := s.pages[req.Cursor]
		if !ok {
			return nil, &qyapi.APIError{Code: 95007, Msg: "invalid msg token"}
		}
		return page, nil
	})
	return s, fake
}

func (s *kfServer) requests() []syncMsgRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]syncMsgRequest(nil), s.reqs...)
}

func replaceMsgID(s, id string) string {
	var m map[string]any
	_ = json.Unmarshal([]byte(s), &m)
	m["msgid"] = id
	b, _ := json.Marshal(m)
	return string(b)
}

func newKfChannel(t *testing.T, baseURL, stateDir string) *Channel {
	t.Helper()
	ch, err := New(connector.ChannelParams{
		Account: "bank/kf", ExternalID: setA.receiveID, StateDir: stateDir,
		Credentials: map[string][]byte{
			cc.KeyCallbackToken: []byte(setA.token), cc.KeyEncodingAESKey: []byte(setA.aesKey), cc.KeyCorpSecret: []byte(testKfSecret),
		},
		Settings: map[string]string{cc.SettingAPIBaseURL: baseURL},
		Logger:   logr.Discard(), Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ch.kf.backoff = 5 * time.Millisecond
	return ch
}

func kfCallback(token string) string {
	return `<xml><ToUserName><![CDATA[` + setA.receiveID + `]]></ToUserName><CreateTime>` + itoa(int(time.Now().Unix())) +
		`</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event><Token><![CDATA[` + token +
		`]]></Token><OpenKfId><![CDATA[` + testOpenKfID + `]]></OpenKfId></xml>`
}

func sendCallback(t *testing.T, h http.Handler, msg string) {
	t.Helper()
	req, err := SignedCallback("http://connector"+Path, setA.token, setA.aesKey, setA.receiveID, []byte(msg), wxcrypt.FormatXML, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Body.String() != replyOK {
		t.Fatalf("callback answered %d %q", rec.Code, rec.Body.String())
	}
}

func waitRecords(t *testing.T, sink *connectortest.Sink, n int) []*capture.Record {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if recs := sink.Records(); len(recs) >= n {
			return recs
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %d records, have %d", n, len(sink.Records()))
	return nil
}

// runChannel runs ch until the test ends or stop is called.
func runChannel(t *testing.T, ch *Channel, sink connector.Sink) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ch.Run(ctx, sink) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func TestKfFlowPersistsCursorAcrossRestart(t *testing.T) {
	srv, fake := newKfServer(t)
	dir := t.TempDir()
	sink := &connectortest.Sink{}

	ch := newKfChannel(t, fake.URL, dir)
	stop := runChannel(t, ch, sink)
	sendCallback(t, ch.WebhookHandler(sink), kfCallback("ENCtok1"))
	recs := waitRecords(t, sink, 3)
	stop()

	reqs := srv.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d sync_msg requests, want 2 (has_more then done)", len(reqs))
	}
	want0 := syncMsgRequest{Cursor: "", Token: "ENCtok1", Limit: 1000, VoiceFormat: 0, OpenKfID: testOpenKfID}
	if reqs[0] != want0 || reqs[1].Cursor != "c1" || reqs[1].Token != "ENCtok1" {
		t.Fatalf("requests %+v", reqs)
	}
	if recs[0].Channel != KfChannelName || recs[0].Text != "我想咨询一下理财产品" || recs[0].Direction != capture.DirectionInbound ||
		recs[1].Direction != capture.DirectionOutbound || recs[1].Sender.ID != "Zhangsan" ||
		recs[2].Kind != capture.KindRecall || recs[2].Target != "from_msgid_4622416642169452483" {
		t.Fatalf("records %+v %+v %+v", recs[0], recs[1], recs[2])
	}
	if recs[0].Provenance.Cursor != "" || recs[2].Provenance.Cursor != "c1" || recs[0].Tenant != setA.receiveID || recs[0].Account != testOpenKfID {
		t.Fatalf("provenance/tenant: %+v", recs[2])
	}
	if got := testutil.ToFloat64(ch.kf.metrics.Messages); got != 3 {
		t.Fatalf("kf messages = %v", got)
	}
	store, _ := newCursorStore(dir)
	if c, err := store.load(testOpenKfID); err != nil || c != "c2" {
		t.Fatalf("persisted cursor %q, %v; want c2", c, err)
	}

	// After a restart the saved cursor is reused. The callback arrives
	// before Run starts: it is queued, not lost.
	ch2 := newKfChannel(t, fake.URL, dir)
	sendCallback(t, ch2.WebhookHandler(sink), kfCallback("ENCtok2"))
	runChannel(t, ch2, sink)
	recs = waitRecords(t, sink, 4)
	reqs = srv.requests()
	if last := reqs[len(reqs)-1]; last.Cursor != "c2" || last.Token != "ENCtok2" {
		t.Fatalf("after restart requested %+v, want cursor c2", last)
	}
	if recs[3].Text != "谢谢" {
		t.Fatalf("record after restart %+v", recs[3])
	}
}

func TestKfCursorMovesOnlyAfterTheSinkAccepts(t *testing.T) {
	_, fake := newKfServer(t)
	dir := t.TempDir()
	ch := newKfChannel(t, fake.URL, dir)
	full := &connectortest.Sink{Err: spool.ErrSpoolFull}
	if _, err := ch.kf.sync(context.Background(), full, testOpenKfID, "tok"); !errors.Is(err, spool.ErrSpoolFull) {
		t.Fatalf("sync into a full spool: %v", err)
	}
	if c, _ := ch.kf.cursors.load(testOpenKfID); c != "" {
		t.Fatalf("cursor moved to %q although nothing was stored", c)
	}
	ok := &connectortest.Sink{}
	n, err := ch.kf.sync(context.Background(), ok, testOpenKfID, "tok")
	if err != nil || n != 3 {
		t.Fatalf("sync = %d, %v", n, err)
	}
	if c, _ := ch.kf.cursors.load(testOpenKfID); c != "c2" {
		t.Fatalf("cursor %q, want c2", c)
	}
}

func TestKfSyncRetriesThenGivesUpWithoutMovingTheCursor(t *testing.T) {
	srv, fake := newKfServer(t)
	ch := newKfChannel(t, fake.URL, t.TempDir())
	for i := 0; i < kfAttempts; i++ {
		fake.FailNext(kfSyncPath, 95007, "invalid msg token")
	}
	ch.kf.syncWithRetry(context.Background(), &connectortest.Sink{}, testOpenKfID, "tok")
	if got := testutil.ToFloat64(ch.kf.metrics.Syncs.WithLabelValues("error")); got != kfAttempts {
		t.Fatalf("error syncs = %v, want %d", got, kfAttempts)
	}
	if len(srv.requests()) != 0 {
		t.Fatal("failed calls reached the handler")
	}
	// One failure, then success on the retry.
	fake.FailNext(kfSyncPath, 95007, "invalid msg token")
	sink := &connectortest.Sink{}
	ch.kf.syncWithRetry(context.Background(), sink, testOpenKfID, "tok")
	if len(sink.Records()) != 3 || testutil.ToFloat64(ch.kf.metrics.Syncs.WithLabelValues("ok")) != 1 {
		t.Fatalf("retry stored %d records", len(sink.Records()))
	}
}

func TestKfSyncStopsOnACursorThatDoesNotMove(t *testing.T) {
	fake := qyapitest.Start(t, setA.receiveID, testKfSecret)
	fake.Handle(kfSyncPath, func([]byte) (any, error) {
		return map[string]any{"next_cursor": "", "has_more": 1, "msg_list": []any{}}, nil
	})
	ch := newKfChannel(t, fake.URL, t.TempDir())
	if _, err := ch.kf.sync(context.Background(), &connectortest.Sink{}, testOpenKfID, "tok"); err == nil {
		t.Fatal("a server that never advances the cursor looped or was accepted")
	}
}

func TestNewChecksParams(t *testing.T) {
	good := func() connector.ChannelParams {
		return connector.ChannelParams{
			ExternalID: setA.receiveID, StateDir: t.TempDir(), Logger: logr.Discard(), Registerer: prometheus.NewRegistry(),
			Credentials: map[string][]byte{cc.KeyCallbackToken: []byte(setA.token), cc.KeyEncodingAESKey: []byte(setA.aesKey + "\n")},
		}
	}
	if ch, err := Factory(good()); err != nil || ch.Name() != ChannelName {
		t.Fatalf("valid params refused: %v", err)
	}
	for name, edit := range map[string]func(*connector.ChannelParams){
		"no corp id":   func(p *connector.ChannelParams) { p.ExternalID = "" },
		"no token":     func(p *connector.ChannelParams) { delete(p.Credentials, cc.KeyCallbackToken) },
		"bad key":      func(p *connector.ChannelParams) { p.Credentials[cc.KeyEncodingAESKey] = []byte("short") },
		"no registry":  func(p *connector.ChannelParams) { p.Registerer = nil },
		"kf no state":  func(p *connector.ChannelParams) { p.Credentials[cc.KeyCorpSecret] = []byte("s"); p.StateDir = "" },
		"bad settings": func(p *connector.ChannelParams) { p.Settings = map[string]string{SettingReplayCacheSize: "-1"} },
		"bad window":   func(p *connector.ChannelParams) { p.Settings = map[string]string{SettingFreshnessWindow: "ten"} },
		"bad dedupe":   func(p *connector.ChannelParams) { p.Settings = map[string]string{SettingDedupeCacheSize: "0"} },
	} {
		p := good()
		edit(&p)
		if _, err := New(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

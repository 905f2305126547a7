package wechatoa

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/connector/connectortest"
	"github.com/vigil-operator/vigil/internal/connector/spool"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

// The §2.1 official worked example (mini-program / 公众号 "消息推送").
const (
	vecToken  = "AAAAA"
	vecAESKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	vecAppID  = "wxba5fad812f8e6fb9"

	vecGetQuery = "signature=f464b24fc39322e44b38aa78f5edd27bd1441696&timestamp=1714036504&nonce=1514711492&echostr=4375120948345356249"

	vecPlainQuery = "signature=899cf89e464efb63f54ddac96b0a0a235f53aa78&timestamp=1714037059&nonce=486452656"
	vecPlainBody  = `{"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY","CreateTime":1714037059,"MsgType":"event","Event":"debug_demo","debug_str":"hello world"}`

	vecSecureQuery = "signature=6c5c811b55cc85e0e1b54100749188c20beb3f5d&timestamp=1714112445&nonce=415670741&openid=o9AgO5Kd5ggOC-bXrbNODIiE3bGY&encrypt_type=aes&msg_signature=046e02f8204d34f8ba5fa3b1db94908f3df2e9b3"
	vecSecureBody  = `{"ToUserName":"gh_97417a04a28d","Encrypt":"+qdx1OKCy+5JPCBFWw70tm0fJGb2Jmeia4FCB7kao+/Q5c/ohsOzQHi8khUOb05JCpj0JB4RvQMkUyus8TPxLKJGQqcvZqzDpVzazhZv6JsXUnnR8XGT740XgXZUXQ7vJVnAG+tE8NUd4yFyjPy7GgiaviNrlCTj+l5kdfMuFUPpRSrfMZuMcp3Fn2Pede2IuQrKEYwKSqFIZoNqJ4M8EajAsjLY2km32IIjdf8YL/P50F7mStwntrA2cPDrM1kb6mOcfBgRtWygb3VIYnSeOBrebufAlr7F9mFUPAJGj04="}`
	vecSecureMsg   = `{"ToUserName":"gh_97417a04a28d","FromUserName":"o9AgO5Kd5ggOC-bXrbNODIiE3bGY","CreateTime":1714112445,"MsgType":"event","Event":"debug_demo","debug_str":"hello world"}`
)

type testServer struct {
	ch   *Channel
	sink *connectortest.Sink
	h    http.Handler
	now  time.Time
}

func newTestServer(t testing.TB, mode Mode, appID string, now int64) *testServer {
	t.Helper()
	ch, err := New(connector.ChannelParams{
		Account: "compliance/oa", ExternalID: appID,
		Credentials: map[string][]byte{cc.KeyToken: []byte(vecToken), cc.KeyEncodingAESKey: []byte(vecAESKey)},
		Settings:    map[string]string{cc.SettingMessageMode: string(mode)},
		Logger:      logr.Discard(), Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{ch: ch, sink: &connectortest.Sink{}, now: time.Unix(now, 0)}
	ch.now = func() time.Time { return ts.now }
	ts.h = ch.WebhookHandler(ts.sink)
	return ts
}

func (ts *testServer) do(method, query string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, Path+"?"+query, bytes.NewReader(body))
	rec := httptest.NewRecorder()
	ts.h.ServeHTTP(rec, req)
	return rec
}

func (ts *testServer) rejected(reason string) float64 {
	return testutil.ToFloat64(ts.ch.metrics.Rejected.WithLabelValues(reason))
}

func crypter(t testing.TB, appID string) *wxcrypt.Crypter {
	t.Helper()
	c, err := wxcrypt.New(vecToken, vecAESKey, appID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func expectStatus(t *testing.T, rec *httptest.ResponseRecorder, status int, body string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d (body %q)", rec.Code, status, rec.Body.String())
	}
	if body != "" && rec.Body.String() != body {
		t.Fatalf("body %q, want %q", rec.Body.String(), body)
	}
}

func TestOfficialVectorURLVerification(t *testing.T) {
	ts := newTestServer(t, ModeSecure, vecAppID, 1714036504)
	rec := ts.do(http.MethodGet, vecGetQuery, nil)
	expectStatus(t, rec, 200, "4375120948345356249")
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("content type %q", ct)
	}
	bad := strings.Replace(vecGetQuery, "nonce=1514711492", "nonce=1514711493", 1)
	expectStatus(t, ts.do(http.MethodGet, bad, nil), 401, "")
	expectStatus(t, ts.do(http.MethodGet, "timestamp=1&nonce=2&echostr=3", nil), 401, "")
	if ts.rejected("bad_signature") != 1 || ts.rejected("missing_signature") != 1 {
		t.Fatal("refusals not counted by reason")
	}
	// The helper reproduces the official request.
	req, err := NewVerifyRequest("http://x"+Path, vecToken, "1714036504", "1514711492", "4375120948345356249")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := url.ParseQuery(req.URL.RawQuery); got.Get(ParamSignature) != "f464b24fc39322e44b38aa78f5edd27bd1441696" {
		t.Fatalf("helper signature %q", got.Get(ParamSignature))
	}
}

func TestOfficialVectorPlaintextPush(t *testing.T) {
	ts := newTestServer(t, ModePlaintext, vecAppID, 1714037059)
	expectStatus(t, ts.do(http.MethodPost, vecPlainQuery, []byte(vecPlainBody)), 200, Reply)
	recs := ts.sink.Records()
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	if r.Channel != "wechat_mp" || r.Kind != capture.KindSystem || r.NativeType != "debug_demo" ||
		r.Account != "gh_97417a04a28d" || r.Sender.ID != "o9AgO5Kd5ggOC-bXrbNODIiE3bGY" ||
		r.Sender.Affiliation != capture.AffiliationExternal || r.Direction != capture.DirectionInbound ||
		!r.SentAt.Equal(time.Unix(1714037059, 0)) || r.Raw.Envelope != EnvelopeNone || r.Raw.ContentType != "application/json" ||
		r.Provenance.SigScheme != SigSchemePlain || !r.Provenance.SigVerified || r.Tenant != vecAppID {
		t.Fatalf("record %+v", r)
	}
	if r.Raw.Size != int64(len(vecPlainBody)) {
		t.Fatalf("raw size %d", r.Raw.Size)
	}
}

func TestOfficialVectorSecurePush(t *testing.T) {
	ts := newTestServer(t, ModeSecure, vecAppID, 1714112445)
	expectStatus(t, ts.do(http.MethodPost, vecSecureQuery, []byte(vecSecureBody)), 200, Reply)
	recs := ts.sink.Records()
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	if r.Raw.Envelope != EnvelopeAES || r.Provenance.SigScheme != SigSchemeEncrypted || r.NativeType != "debug_demo" ||
		r.Raw.Size != int64(len(vecSecureMsg)) || !r.SentAt.Equal(time.Unix(1714112445, 0)) {
		t.Fatalf("record %+v", r)
	}
	// Replaying the same signed request is refused and stores nothing.
	expectStatus(t, ts.do(http.MethodPost, vecSecureQuery, []byte(vecSecureBody)), 409, "")
	if ts.rejected("replay") != 1 || len(ts.sink.Records()) != 1 {
		t.Fatal("replay not refused")
	}
	// Compatible mode also takes the encrypted-only form.
	cts := newTestServer(t, ModeCompatible, vecAppID, 1714112445)
	expectStatus(t, cts.do(http.MethodPost, vecSecureQuery, []byte(vecSecureBody)), 200, Reply)
}

func TestPushRefusals(t *testing.T) {
	const now = 1714112445
	c := crypter(t, vecAppID)
	textMsg := `<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>1714112445</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello]]></Content><MsgId>1234567890123456</MsgId></xml>`
	build := func(mode Mode, cr *wxcrypt.Crypter, ts string, msg string) (string, []byte) {
		q, body, err := BuildPush(mode, vecToken, cr, ts, "nonce1", []byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		return q.Encode(), body
	}
	secQ, secB := build(ModeSecure, c, "1714112445", textMsg)
	compQ, compB := build(ModeCompatible, c, "1714112445", textMsg)
	plainQ, plainB := build(ModePlaintext, nil, "1714112445", textMsg)
	wrongQ, wrongB := build(ModeSecure, crypter(t, "wx0000000000000000"), "1714112445", textMsg)
	staleQ, staleB := build(ModeSecure, c, "1714111844", textMsg)
	vals, _ := url.ParseQuery(secQ)
	vals.Set(ParamMsgSignature, strings.Repeat("0", 40))
	badMsgSigQ := vals.Encode()
	vals.Del(ParamMsgSignature)
	noMsgSigQ := vals.Encode()
	tampered := bytes.Replace(compB, []byte("[hello]"), []byte("[hellp]"), 1)
	big := bytes.Repeat([]byte("x"), MaxBodyBytes+1)

	cases := []struct {
		name   string
		mode   Mode
		query  string
		body   []byte
		status int
		reason string
	}{
		{"secure ok", ModeSecure, secQ, secB, 200, ""},
		{"compatible ok", ModeCompatible, compQ, compB, 200, ""},
		{"plaintext ok", ModePlaintext, plainQ, plainB, 200, ""},
		{"downgrade secure to plaintext", ModeSecure, plainQ, plainB, 401, ReasonModeMismatch},
		{"downgrade secure to compatible", ModeSecure, compQ, compB, 401, ReasonModeMismatch},
		{"downgrade compatible to plaintext", ModeCompatible, plainQ, plainB, 401, ReasonModeMismatch},
		{"encrypted push to plaintext account", ModePlaintext, secQ, secB, 401, ReasonModeMismatch},
		{"plaintext copy tampered", ModeCompatible, compQ, tampered, 400, ReasonPlaintextMismatch},
		{"bad signature", ModeSecure, strings.Replace(secQ, "nonce=nonce1", "nonce=nonce2", 1), secB, 401, "bad_signature"},
		{"bad msg_signature", ModeSecure, badMsgSigQ, secB, 401, "bad_signature"},
		{"missing msg_signature", ModeSecure, noMsgSigQ, secB, 401, "missing_signature"},
		{"missing signature", ModeSecure, "timestamp=1714112445&nonce=n", secB, 401, "missing_signature"},
		{"wrong appid", ModeSecure, wrongQ, wrongB, 401, "wrong_receiver"},
		{"stale", ModeSecure, staleQ, staleB, 401, "stale_timestamp"},
		{"oversized", ModeSecure, secQ, big, 413, "too_large"},
		{"not xml or json", ModePlaintext, plainQ, []byte("hello"), 400, "malformed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, tc.mode, vecAppID, now)
			rec := ts.do(http.MethodPost, tc.query, tc.body)
			if tc.reason == "" {
				expectStatus(t, rec, tc.status, Reply)
				recs := ts.sink.Records()
				if len(recs) != 1 || recs[0].Text != "hello" || recs[0].NativeID != "1234567890123456" {
					t.Fatalf("records %+v", recs)
				}
				return
			}
			expectStatus(t, rec, tc.status, "")
			if got := ts.rejected(tc.reason); got != 1 {
				t.Fatalf("%s counted %v times", tc.reason, got)
			}
			if n := len(ts.sink.Records()); n != 0 {
				t.Fatalf("%d records stored on refusal", n)
			}
		})
	}
}

func TestDuplicateAndSpoolFullRetry(t *testing.T) {
	ts := newTestServer(t, ModeSecure, vecAppID, 1714112445)
	c := crypter(t, vecAppID)
	msg := []byte(`<xml><ToUserName>gh_a</ToUserName><FromUserName>oU</FromUserName><CreateTime>1714112440</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>42</MsgId></xml>`)
	push := func(nonce string) *httptest.ResponseRecorder {
		q, body, err := BuildPush(ModeSecure, vecToken, c, "1714112445", nonce, msg)
		if err != nil {
			t.Fatal(err)
		}
		return ts.do(http.MethodPost, q.Encode(), body)
	}
	ts.sink.SetErr(fmt.Errorf("wrapped: %w", spool.ErrSpoolFull))
	rec := push("n1")
	expectStatus(t, rec, 503, "")
	if rec.Header().Get("Retry-After") == "" || ts.rejected("spool_full") != 1 {
		t.Fatal("spool full not signalled")
	}
	ts.sink.SetErr(nil)
	// The very same request is accepted once the spool has room.
	expectStatus(t, push("n1"), 200, Reply)
	// WeChat's retry (new nonce, same MsgId) is acknowledged, not stored.
	expectStatus(t, push("n2"), 200, Reply)
	if n := len(ts.sink.Records()); n != 1 {
		t.Fatalf("%d records", n)
	}
	if d := testutil.ToFloat64(ts.ch.metrics.Duplicates); d != 1 {
		t.Fatalf("duplicates %v", d)
	}
	ts.sink.SetErr(errors.New("disk on fire"))
	expectStatus(t, push("n3"), 200, Reply) // still a duplicate: never reaches the sink
}

func TestMethodAndConfig(t *testing.T) {
	ts := newTestServer(t, ModeSecure, vecAppID, 1714112445)
	expectStatus(t, ts.do(http.MethodPut, vecSecureQuery, nil), 405, "")
	bad := []struct {
		name  string
		creds map[string][]byte
		set   map[string]string
		appID string
	}{
		{"no token", map[string][]byte{cc.KeyEncodingAESKey: []byte(vecAESKey)}, nil, vecAppID},
		{"no key in secure", map[string][]byte{cc.KeyToken: []byte(vecToken)}, nil, vecAppID},
		{"short key", map[string][]byte{cc.KeyToken: []byte(vecToken), cc.KeyEncodingAESKey: []byte(vecAESKey[1:])}, nil, vecAppID},
		{"no appid", map[string][]byte{cc.KeyToken: []byte(vecToken), cc.KeyEncodingAESKey: []byte(vecAESKey)}, nil, ""},
		{"bad mode", map[string][]byte{cc.KeyToken: []byte(vecToken)}, map[string]string{cc.SettingMessageMode: "Safe"}, vecAppID},
		{"bad window", map[string][]byte{cc.KeyToken: []byte(vecToken)}, map[string]string{cc.SettingMessageMode: "Plaintext", SettingFreshnessWindow: "-1s"}, vecAppID},
	}
	for _, tc := range bad {
		_, err := New(connector.ChannelParams{ExternalID: tc.appID, Credentials: tc.creds, Settings: tc.set, Registerer: prometheus.NewRegistry(), Logger: logr.Discard()})
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	ch, err := New(connector.ChannelParams{Credentials: map[string][]byte{cc.KeyToken: []byte(vecToken)},
		Settings: map[string]string{cc.SettingMessageMode: "Plaintext"}, Registerer: prometheus.NewRegistry(), Logger: logr.Discard()})
	if err != nil || ch.Mode() != ModePlaintext || ch.WebhookPath() != Path || ch.Name() != ChannelName {
		t.Fatalf("plaintext without key: %v", err)
	}
	if m, _ := parseMode(""); m != ModeSecure {
		t.Fatal("default mode must be Secure")
	}
}

func TestBuildPushRoundTripsJSONCompatible(t *testing.T) {
	ts := newTestServer(t, ModeCompatible, vecAppID, 1714112445)
	msg := strings.Replace(vecSecureMsg, `"MsgType":"event","Event":"debug_demo"`, `"MsgType":"text","Content":"你好","MsgId":4561255354251345929`, 1)
	req, err := NewPushRequest(Path, ModeCompatible, vecToken, crypter(t, vecAppID), "1714112445", "77", []byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	ts.h.ServeHTTP(rec, req)
	expectStatus(t, rec, 200, Reply)
	r := ts.sink.Records()[0]
	if r.Text != "你好" || r.NativeID != strconv.FormatUint(4561255354251345929, 10) || r.Raw.ContentType != "application/json" {
		t.Fatalf("record %+v", r)
	}
}

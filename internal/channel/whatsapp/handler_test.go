package whatsapp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/connector/connectortest"
	"github.com/vigil-operator/vigil/internal/connector/spool"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
)

type testServer struct {
	ch   *Channel
	sink *connectortest.Sink
	h    http.Handler
}

func testParams(reg prometheus.Registerer) connector.ChannelParams {
	return connector.ChannelParams{
		Account: "team-a/sales-line", Custodian: "sales", ExternalID: testPhoneNumberID,
		Credentials: map[string][]byte{cc.KeyAppSecret: []byte(testAppSecret), cc.KeyVerifyToken: []byte(testVerifyToken)},
		Logger:      logr.Discard(), Registerer: reg,
	}
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	ch, err := Factory(testParams(prometheus.NewRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	wc := ch.(*Channel)
	sink := &connectortest.Sink{}
	return &testServer{ch: wc, sink: sink, h: wc.WebhookHandler(sink)}
}

func (ts *testServer) post(body string, sig string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(body))
	if sig != "" {
		req.Header.Set(HeaderSignature, sig)
	}
	rec := httptest.NewRecorder()
	ts.h.ServeHTTP(rec, req)
	return rec
}

func (ts *testServer) postSigned(body string) *httptest.ResponseRecorder {
	return ts.post(body, Sign([]byte(testAppSecret), []byte(body)))
}

func (ts *testServer) rejected(reason string) float64 {
	return testutil.ToFloat64(ts.ch.metrics.Rejected.WithLabelValues(reason))
}

func TestSubscriptionHandshake(t *testing.T) {
	tests := []struct {
		name, query string
		want        int
	}{
		{"valid", "hub.mode=subscribe&hub.verify_token=" + testVerifyToken + "&hub.challenge=1158201444", 200},
		{"wrong token", "hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444", 403},
		{"token prefix", "hub.mode=subscribe&hub.verify_token=vigil&hub.challenge=1158201444", 403},
		{"no token", "hub.mode=subscribe&hub.challenge=1158201444", 403},
		{"wrong mode", "hub.mode=unsubscribe&hub.verify_token=" + testVerifyToken + "&hub.challenge=1", 403},
		{"no challenge", "hub.mode=subscribe&hub.verify_token=" + testVerifyToken, 403},
		{"huge challenge", "hub.mode=subscribe&hub.verify_token=" + testVerifyToken + "&hub.challenge=" + strings.Repeat("9", 2000), 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t)
			rec := httptest.NewRecorder()
			ts.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, Path+"?"+tc.query, nil))
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d", rec.Code, tc.want)
			}
			if tc.want == 200 {
				if rec.Body.String() != "1158201444" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
					t.Fatalf("challenge echoed as %q (%s)", rec.Body, rec.Header().Get("Content-Type"))
				}
				return
			}
			if strings.Contains(rec.Body.String(), "1158201444") || ts.rejected(ReasonBadVerifyToken) != 1 {
				t.Fatalf("refusal echoed the challenge or was not counted: %q", rec.Body)
			}
		})
	}
}

func TestNotificationResponses(t *testing.T) {
	good := metaReference
	big := notification(textMessage("w", strings.Repeat("x", MaxBodyBytes)))
	tests := []struct {
		name       string
		body, sig  string
		sinkErr    error
		wantStatus int
		wantReason string
	}{
		{"accepted", good, Sign([]byte(testAppSecret), []byte(good)), nil, 200, ""},
		{"unsigned", good, "", nil, 401, "missing_signature"},
		{"wrong secret", good, Sign([]byte("other"), []byte(good)), nil, 401, "bad_signature"},
		{"body changed", good + " ", Sign([]byte(testAppSecret), []byte(good)), nil, 401, "bad_signature"},
		{"too large", big, Sign([]byte(testAppSecret), []byte(big)), nil, 413, "too_large"},
		{"malformed", `{"object":"page"}`, Sign([]byte(testAppSecret), []byte(`{"object":"page"}`)), nil, 400, "malformed"},
		{"spool full", good, Sign([]byte(testAppSecret), []byte(good)), fmt.Errorf("wrapped: %w", spool.ErrSpoolFull), 503, "spool_full"},
		{"sink failure", good, Sign([]byte(testAppSecret), []byte(good)), fmt.Errorf("disk on fire"), 500, "internal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t)
			ts.sink.Err = tc.sinkErr
			rec := ts.post(tc.body, tc.sig)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d (%s), want %d", rec.Code, rec.Body, tc.wantStatus)
			}
			if tc.wantReason == "" {
				if len(ts.sink.Records()) != 1 || testutil.ToFloat64(ts.ch.metrics.Accepted) != 1 {
					t.Fatalf("%d records captured", len(ts.sink.Records()))
				}
				return
			}
			if len(ts.sink.Records()) != 0 || ts.rejected(tc.wantReason) != 1 {
				t.Fatalf("refused request captured %d records; rejected{%s} = %v", len(ts.sink.Records()), tc.wantReason, ts.rejected(tc.wantReason))
			}
			if strings.Contains(rec.Body.String(), "another color") || strings.Contains(rec.Body.String(), testAppSecret) {
				t.Fatalf("refusal echoes content or secret: %s", rec.Body)
			}
		})
	}
}

func TestRedeliveryIsDeduplicated(t *testing.T) {
	ts := newTestServer(t)
	// The first delivery meets a full spool: 503, nothing stored, nothing
	// remembered, so Meta's retry is captured.
	ts.sink.SetErr(spool.ErrSpoolFull)
	if rec := ts.postSigned(metaReference); rec.Code != 503 || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("spool full: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	ts.sink.SetErr(nil)
	if rec := ts.postSigned(metaReference); rec.Code != 200 {
		t.Fatalf("retry: %d %s", rec.Code, rec.Body)
	}
	// A redelivery of a captured notification is acknowledged, not stored.
	rec := ts.postSigned(metaReference)
	var resp map[string]int
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || rec.Code != 200 || resp["accepted"] != 0 || resp["duplicates"] != 1 {
		t.Fatalf("redelivery: %d %s", rec.Code, rec.Body)
	}
	if got := testutil.ToFloat64(ts.ch.metrics.Duplicates); got != 1 || len(ts.sink.Records()) != 1 {
		t.Fatalf("duplicates %v, records %d", got, len(ts.sink.Records()))
	}
	// A later status of the same message is new; a repeated one is not.
	status := func(s string) string {
		return changeFor(testPhoneNumberID, "messages", `"statuses":[{"id":"wamid.X","status":"`+s+`","timestamp":"1749416400","recipient_id":"16505551234"}]`)
	}
	ts.postSigned(status("delivered"))
	ts.postSigned(status("read"))
	ts.postSigned(status("read"))
	if len(ts.sink.Records()) != 3 || testutil.ToFloat64(ts.ch.metrics.Duplicates) != 2 {
		t.Fatalf("records %d, duplicates %v", len(ts.sink.Records()), testutil.ToFloat64(ts.ch.metrics.Duplicates))
	}
}

func TestBatchIsAllOrNothing(t *testing.T) {
	ts := newTestServer(t)
	// Passes the channel's checks but not capture's: an over-long display name.
	long := strings.Replace(notification(textMessage("w1", "a"), textMessage("w2", "b")), "Sheena Nelson", strings.Repeat("n", 1100), 1)
	if rec := ts.postSigned(long); rec.Code != 400 || len(ts.sink.Records()) != 0 {
		t.Fatalf("status %d, %d records", rec.Code, len(ts.sink.Records()))
	}
	// The refused batch's ids were released, so a fixed resend is captured.
	if rec := ts.postSigned(notification(textMessage("w1", "a"), textMessage("w2", "b"))); rec.Code != 200 || len(ts.sink.Records()) != 2 {
		t.Fatalf("resend: %d, %d records", rec.Code, len(ts.sink.Records()))
	}
}

func TestOtherNumberIsNeverStored(t *testing.T) {
	ts := newTestServer(t)
	body := changeFor("999999", "messages", `"messages":[`+textMessage("w", "for someone else")+`]`)
	if rec := ts.postSigned(body); rec.Code != 200 || len(ts.sink.Records()) != 0 {
		t.Fatalf("status %d, %d records", rec.Code, len(ts.sink.Records()))
	}
	if got := testutil.ToFloat64(ts.ch.skipped.WithLabelValues(skipOtherNumber)); got != 1 {
		t.Fatalf("skipped{other_phone_number} = %v", got)
	}
}

func TestMethodAndConfig(t *testing.T) {
	ts := newTestServer(t)
	rec := httptest.NewRecorder()
	ts.h.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, Path, bytes.NewReader(nil)))
	if rec.Code != 405 || ts.rejected("method") != 1 {
		t.Fatalf("PUT: %d", rec.Code)
	}
	if ts.ch.Name() != "whatsapp" || ts.ch.WebhookPath() != "/whatsapp" {
		t.Fatal("name or path changed")
	}
	for name, mutate := range map[string]func(*connector.ChannelParams){
		"no app secret":   func(p *connector.ChannelParams) { delete(p.Credentials, cc.KeyAppSecret) },
		"no verify token": func(p *connector.ChannelParams) { delete(p.Credentials, cc.KeyVerifyToken) },
		"no externalID":   func(p *connector.ChannelParams) { p.ExternalID = "" },
		"no registerer":   func(p *connector.ChannelParams) { p.Registerer = nil },
	} {
		p := testParams(prometheus.NewRegistry())
		mutate(&p)
		if _, err := New(p); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

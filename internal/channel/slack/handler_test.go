package slack

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/connector/connectortest"
	"github.com/vigil-operator/vigil/internal/connector/spool"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
)

const testSecret = "5ad7a2c2f0e4b1c9d8e7f6a5b4c3d2e1"

type testServer struct {
	ch   *Channel
	sink *connectortest.Sink
	h    http.Handler
	now  time.Time
}

func testParams(reg prometheus.Registerer) connector.ChannelParams {
	return connector.ChannelParams{
		Account: "team-a/slack", Custodian: "desk", ExternalID: testTeam,
		Credentials: map[string][]byte{cc.KeySigningSecret: []byte(testSecret)},
		Logger:      logr.Discard(), Registerer: reg,
	}
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	ch, err := Factory(testParams(prometheus.NewRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{ch: ch.(*Channel), sink: &connectortest.Sink{}, now: testNow}
	ts.ch.now = func() time.Time { return ts.now }
	ts.h = ts.ch.WebhookHandler(ts.sink)
	return ts
}

func (ts *testServer) send(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	ts.h.ServeHTTP(rec, req)
	return rec
}

// post signs body with the test secret at signedAt.
func (ts *testServer) post(body string, signedAt time.Time, hdr ...string) *httptest.ResponseRecorder {
	req, err := SignedRequest(Path, []byte(testSecret), []byte(body), signedAt)
	if err != nil {
		panic(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return ts.send(req)
}

func (ts *testServer) rejected(reason string) float64 {
	return testutil.ToFloat64(ts.ch.metrics.Rejected.WithLabelValues(reason))
}

// TestOfficialVectorThroughHandler runs Slack's documented request through
// the handler with the clock set to its timestamp: it authenticates (and is
// then refused only because a slash-command form is not an Events API body);
// five minutes and a second later it is stale.
func TestOfficialVectorThroughHandler(t *testing.T) {
	for _, tc := range []struct {
		now        time.Time
		wantStatus int
		wantReason string
	}{
		{time.Unix(officialTimestamp, 0), 400, "malformed"},
		{time.Unix(officialTimestamp+300, 0), 400, "malformed"},
		{time.Unix(officialTimestamp+301, 0), 401, "stale_timestamp"},
		{time.Unix(officialTimestamp-301, 0), 401, "stale_timestamp"},
	} {
		reg := prometheus.NewRegistry()
		p := testParams(reg)
		p.Credentials[cc.KeySigningSecret] = []byte(officialSecret)
		ch, err := New(p)
		if err != nil {
			t.Fatal(err)
		}
		ch.now = func() time.Time { return tc.now }
		req := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(officialBody))
		req.Header.Set(HeaderTimestamp, "1531420618")
		req.Header.Set(HeaderSignature, officialSignature)
		rec := httptest.NewRecorder()
		ch.WebhookHandler(&connectortest.Sink{}).ServeHTTP(rec, req)
		if rec.Code != tc.wantStatus || testutil.ToFloat64(ch.metrics.Rejected.WithLabelValues(tc.wantReason)) != 1 {
			t.Fatalf("at %v: status %d (%s), want %d %s", tc.now.Unix(), rec.Code, rec.Body, tc.wantStatus, tc.wantReason)
		}
	}
}

func TestURLVerification(t *testing.T) {
	ts := newTestServer(t)
	rec := ts.post(urlVerification, ts.now)
	var resp map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || rec.Code != 200 ||
		resp["challenge"] != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Fatalf("status %d body %s", rec.Code, rec.Body)
	}
	if len(ts.sink.Records()) != 0 {
		t.Fatal("the handshake must not be captured")
	}
	// Unsigned handshakes are refused like any other request.
	req := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(urlVerification))
	if rec := ts.send(req); rec.Code != 401 || strings.Contains(rec.Body.String(), "3eZbrw") {
		t.Fatalf("unsigned handshake: %d %s", rec.Code, rec.Body)
	}
}

func TestResponses(t *testing.T) {
	good := callback("Ev1", plainMessage)
	big := callback("Ev1", messageEvent("1.1", strings.Repeat("x", MaxBodyBytes)))
	otherTeam := strings.Replace(good, `"team_id":"`+testTeam+`"`, `"team_id":"T0OTHER"`, 1)
	tests := []struct {
		name       string
		body       string
		signedAt   time.Duration
		sinkErr    error
		wantStatus int
		wantReason string
	}{
		{"accepted", good, 0, nil, 200, ""},
		{"stale", good, -5*time.Minute - time.Second, nil, 401, "stale_timestamp"},
		{"future", good, 5*time.Minute + time.Second, nil, 401, "stale_timestamp"},
		{"too large", big, 0, nil, 413, "too_large"},
		{"other workspace", otherTeam, 0, nil, 403, "wrong_receiver"},
		{"unknown type", `{"type":"block_actions"}`, 0, nil, 400, "malformed"},
		{"not json", `payload=%7B%7D`, 0, nil, 400, "malformed"},
		{"spool full", good, 0, fmt.Errorf("wrapped: %w", spool.ErrSpoolFull), 503, "spool_full"},
		{"sink failure", good, 0, fmt.Errorf("disk on fire"), 500, "internal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t)
			ts.sink.Err = tc.sinkErr
			rec := ts.post(tc.body, ts.now.Add(tc.signedAt))
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d (%s), want %d", rec.Code, rec.Body, tc.wantStatus)
			}
			if tc.wantReason == "" {
				if len(ts.sink.Records()) != 1 || testutil.ToFloat64(ts.ch.metrics.Accepted) != 1 {
					t.Fatalf("%d records", len(ts.sink.Records()))
				}
				return
			}
			if len(ts.sink.Records()) != 0 || ts.rejected(tc.wantReason) != 1 {
				t.Fatalf("%d records, rejected{%s} = %v", len(ts.sink.Records()), tc.wantReason, ts.rejected(tc.wantReason))
			}
			if strings.Contains(rec.Body.String(), "term sheet") || strings.Contains(rec.Body.String(), testSecret) {
				t.Fatalf("refusal echoes content or secret: %s", rec.Body)
			}
		})
	}
	ts := newTestServer(t)
	req := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(good))
	req.Header.Set(HeaderTimestamp, fmt.Sprint(ts.now.Unix()))
	req.Header.Set(HeaderSignature, "v0="+strings.Repeat("0", 64))
	if rec := ts.send(req); rec.Code != 401 || ts.rejected("bad_signature") != 1 {
		t.Fatalf("forged: %d", rec.Code)
	}
	if rec := ts.send(httptest.NewRequest(http.MethodGet, Path, nil)); rec.Code != 405 || ts.rejected("method") != 1 {
		t.Fatalf("GET: %d", rec.Code)
	}
}

func TestReplayRetryAndDedupe(t *testing.T) {
	ts := newTestServer(t)
	body := callback("Ev1", plainMessage)
	// The spool is full: 503, and the very same signed request, resent,
	// is not a replay.
	ts.sink.SetErr(spool.ErrSpoolFull)
	if rec := ts.post(body, ts.now); rec.Code != 503 || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("spool full: %d", rec.Code)
	}
	ts.sink.SetErr(nil)
	if rec := ts.post(body, ts.now); rec.Code != 200 {
		t.Fatalf("same request after 503: %d %s", rec.Code, rec.Body)
	}
	// An intercepted request sent again is a replay.
	if rec := ts.post(body, ts.now); rec.Code != 409 || ts.rejected("replay") != 1 {
		t.Fatalf("replay: %d", rec.Code)
	}
	// Slack's retry is signed anew and carries the retry headers: it is
	// acknowledged and not stored twice.
	rec := ts.post(body, ts.now.Add(time.Minute), HeaderRetryNum, "1", "X-Slack-Retry-Reason", "http_timeout")
	if rec.Code != 200 || testutil.ToFloat64(ts.ch.metrics.Duplicates) != 1 || len(ts.sink.Records()) != 1 {
		t.Fatalf("retry: %d %s, duplicates %v, records %d", rec.Code, rec.Body, testutil.ToFloat64(ts.ch.metrics.Duplicates), len(ts.sink.Records()))
	}
	if ts.sink.Records()[0].Provenance.Redelivery {
		t.Fatal("a first delivery is not a redelivery")
	}
	// A retry of an event that was never captured is stored and marked.
	rec = ts.post(callback("Ev2", messageEvent("1706781601.000100", "second")), ts.now, HeaderRetryNum, "2")
	if recs := ts.sink.Records(); rec.Code != 200 || len(recs) != 2 || !recs[1].Provenance.Redelivery {
		t.Fatalf("retried event: %d, %d records", rec.Code, len(recs))
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for name, mutate := range map[string]func(*connector.ChannelParams){
		"no secret":     func(p *connector.ChannelParams) { delete(p.Credentials, cc.KeySigningSecret) },
		"no externalID": func(p *connector.ChannelParams) { p.ExternalID = "" },
		"no registerer": func(p *connector.ChannelParams) { p.Registerer = nil },
	} {
		p := testParams(prometheus.NewRegistry())
		mutate(&p)
		if _, err := New(p); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	ch, err := New(testParams(prometheus.NewRegistry()))
	if err != nil || ch.Name() != "slack" || ch.WebhookPath() != "/slack/events" {
		t.Fatalf("channel %v %v", ch, err)
	}
}

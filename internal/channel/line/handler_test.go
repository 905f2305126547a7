package line

import (
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
		Account: "team-a/line-oa", Custodian: "desk", ExternalID: testBot,
		Credentials: map[string][]byte{cc.KeyChannelSecret: []byte(testSecret)},
		Logger:      logr.Discard(), Registerer: reg,
	}
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	ch, err := Factory(testParams(prometheus.NewRegistry()))
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{ch: ch.(*Channel), sink: &connectortest.Sink{}}
	ts.h = ts.ch.WebhookHandler(ts.sink)
	return ts
}

func (ts *testServer) post(body, sig string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(body))
	if sig != "" {
		req.Header.Set(HeaderSignature, sig)
	}
	rec := httptest.NewRecorder()
	ts.h.ServeHTTP(rec, req)
	return rec
}

func (ts *testServer) postSigned(body string) *httptest.ResponseRecorder {
	return ts.post(body, Sign([]byte(testSecret), []byte(body)))
}

func (ts *testServer) rejected(reason string) float64 {
	return testutil.ToFloat64(ts.ch.metrics.Rejected.WithLabelValues(reason))
}

func TestResponses(t *testing.T) {
	good := webhook(textEvent)
	big := webhook(event("E1", "message", userSource, `,"message":{"type":"text","id":"1","text":"`+strings.Repeat("x", MaxBodyBytes)+`"}`))
	other := strings.Replace(good, testBot, "U0000000000000000000000000000000", 1)
	sign := func(b string) string { return Sign([]byte(testSecret), []byte(b)) }
	tests := []struct {
		name, body, sig string
		sinkErr         error
		wantStatus      int
		wantReason      string
	}{
		{"accepted", good, sign(good), nil, 200, ""},
		{"unsigned", good, "", nil, 401, "missing_signature"},
		{"wrong secret", good, Sign([]byte("other"), []byte(good)), nil, 401, "bad_signature"},
		{"body changed", good + " ", sign(good), nil, 401, "bad_signature"},
		{"too large", big, sign(big), nil, 413, "too_large"},
		{"other account", other, sign(other), nil, 403, "wrong_receiver"},
		{"malformed", `{"events":[]}`, sign(`{"events":[]}`), nil, 400, "malformed"},
		{"spool full", good, sign(good), fmt.Errorf("wrapped: %w", spool.ErrSpoolFull), 503, "spool_full"},
		{"sink failure", good, sign(good), fmt.Errorf("disk on fire"), 500, "internal"},
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
					t.Fatalf("%d records", len(ts.sink.Records()))
				}
				return
			}
			if len(ts.sink.Records()) != 0 || ts.rejected(tc.wantReason) != 1 {
				t.Fatalf("%d records, rejected{%s} = %v", len(ts.sink.Records()), tc.wantReason, ts.rejected(tc.wantReason))
			}
			if strings.Contains(rec.Body.String(), "sell 200") || strings.Contains(rec.Body.String(), testSecret) {
				t.Fatalf("refusal echoes content or secret: %s", rec.Body)
			}
		})
	}
}

func TestConsoleVerifyIsAcknowledged(t *testing.T) {
	ts := newTestServer(t)
	body := `{"destination":"` + testBot + `","events":[]}`
	if rec := ts.postSigned(body); rec.Code != 200 || len(ts.sink.Records()) != 0 {
		t.Fatalf("verify: %d, %d records", rec.Code, len(ts.sink.Records()))
	}
}

func TestRedeliveryAfterSpoolFull(t *testing.T) {
	ts := newTestServer(t)
	body := webhook(textEvent, event("E2", "unsend", userSource, `,"unsend":{"messageId":"1"}`))
	ts.sink.SetErr(spool.ErrSpoolFull)
	if rec := ts.postSigned(body); rec.Code != 503 || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("spool full: %d", rec.Code)
	}
	// LINE redelivers the same events, marked as redeliveries.
	ts.sink.SetErr(nil)
	redelivered := strings.ReplaceAll(body, `"isRedelivery":false`, `"isRedelivery":true`)
	if rec := ts.postSigned(redelivered); rec.Code != 200 {
		t.Fatalf("redelivery: %d %s", rec.Code, rec.Body)
	}
	recs := ts.sink.Records()
	if len(recs) != 2 || !recs[0].Provenance.Redelivery || !recs[1].Provenance.Redelivery {
		t.Fatalf("%d records after redelivery", len(recs))
	}
	// Once captured, a redelivery is acknowledged and not stored again.
	rec := ts.postSigned(redelivered)
	var resp map[string]int
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || rec.Code != 200 || resp["duplicates"] != 2 || resp["accepted"] != 0 {
		t.Fatalf("duplicate redelivery: %d %s", rec.Code, rec.Body)
	}
	if len(ts.sink.Records()) != 2 || testutil.ToFloat64(ts.ch.metrics.Duplicates) != 2 {
		t.Fatalf("records %d, duplicates %v", len(ts.sink.Records()), testutil.ToFloat64(ts.ch.metrics.Duplicates))
	}
}

func TestBatchIsAllOrNothing(t *testing.T) {
	ts := newTestServer(t)
	long := event("E9", "message", userSource, `,"message":{"type":"text","id":"2","text":"`+strings.Repeat("y", 300<<10)+`"}`)
	if rec := ts.postSigned(webhook(textEvent, long)); rec.Code != 400 || len(ts.sink.Records()) != 0 {
		t.Fatalf("status %d, %d records", rec.Code, len(ts.sink.Records()))
	}
	if rec := ts.postSigned(webhook(textEvent)); rec.Code != 200 || len(ts.sink.Records()) != 1 {
		t.Fatalf("the good event alone: %d, %d records", rec.Code, len(ts.sink.Records()))
	}
}

func TestMethodAndConfig(t *testing.T) {
	ts := newTestServer(t)
	rec := httptest.NewRecorder()
	ts.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, Path, nil))
	if rec.Code != 405 || ts.rejected("method") != 1 {
		t.Fatalf("GET: %d", rec.Code)
	}
	if ts.ch.Name() != "line" || ts.ch.WebhookPath() != "/line" {
		t.Fatal("name or path changed")
	}
	for name, mutate := range map[string]func(*connector.ChannelParams){
		"no secret":     func(p *connector.ChannelParams) { delete(p.Credentials, cc.KeyChannelSecret) },
		"no externalID": func(p *connector.ChannelParams) { p.ExternalID = "" },
		"no registerer": func(p *connector.ChannelParams) { p.Registerer = nil },
	} {
		p := testParams(prometheus.NewRegistry())
		mutate(&p)
		if _, err := New(p); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

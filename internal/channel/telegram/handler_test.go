package telegram

import (
	"bytes"
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

const (
	testSecret = "s3cr3t-Token_for-vigil"
	testBotID  = "7012345678"
)

type testServer struct {
	ch   *Channel
	sink *connectortest.Sink
	h    http.Handler
}

func newTestServer(t testing.TB) *testServer {
	t.Helper()
	ch, err := New(connector.ChannelParams{
		Account: "compliance/bot", ExternalID: testBotID,
		Credentials: map[string][]byte{cc.KeySecretToken: []byte(testSecret)},
		Logger:      logr.Discard(), Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ch.now = func() time.Time { return time.Unix(1767225600, 0) }
	ts := &testServer{ch: ch, sink: &connectortest.Sink{}}
	ts.h = ch.WebhookHandler(ts.sink)
	return ts
}

func (ts *testServer) post(body string, secret ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader([]byte(body)))
	for _, s := range secret {
		req.Header.Add(HeaderSecretToken, s)
	}
	rec := httptest.NewRecorder()
	ts.h.ServeHTTP(rec, req)
	return rec
}

func (ts *testServer) rejected(reason string) float64 {
	return testutil.ToFloat64(ts.ch.metrics.Rejected.WithLabelValues(reason))
}

const textUpdate = `{"update_id":10000,"message":{"message_id":1365,"from":{"id":1111111,"is_bot":false,"first_name":"Test","last_name":"Lastname","username":"Test","language_code":"en"},"chat":{"id":-1001234567890,"title":"Desk","type":"supergroup"},"date":1441645532,"text":"@alice buy 100","entities":[{"offset":0,"length":6,"type":"mention"}]}}`

func TestSecretTokenChecks(t *testing.T) {
	cases := []struct {
		name    string
		secrets []string
		status  int
		reason  string
	}{
		{"ok", []string{testSecret}, 200, ""},
		{"missing", nil, 401, "missing_signature"},
		{"empty", []string{""}, 401, "missing_signature"},
		{"wrong", []string{testSecret + "x"}, 401, "bad_signature"},
		{"prefix", []string{testSecret[:5]}, 401, "bad_signature"},
		{"two headers", []string{testSecret, "other"}, 401, "bad_signature"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t)
			rec := ts.post(textUpdate, tc.secrets...)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.reason != "" {
				if ts.rejected(tc.reason) != 1 || len(ts.sink.Records()) != 0 {
					t.Fatal("refusal not counted, or something stored")
				}
				if strings.Contains(rec.Body.String(), testSecret) {
					t.Fatal("secret echoed")
				}
			} else if len(ts.sink.Records()) != 1 {
				t.Fatal("not stored")
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	ts := newTestServer(t)
	req := httptest.NewRequest(http.MethodGet, Path, nil)
	req.Header.Set(HeaderSecretToken, testSecret)
	rec := httptest.NewRecorder()
	ts.h.ServeHTTP(rec, req)
	if rec.Code != 405 || ts.rejected("method") != 1 {
		t.Fatalf("GET: %d", rec.Code)
	}
	if rec := ts.post(`{"update_id":1,"message":{"message_id":1,"chat":{"id":1,"type":"private"}}}`, testSecret); rec.Code != 400 || ts.rejected("malformed") != 1 {
		t.Fatalf("no date: %d", rec.Code)
	}
	big := `{"update_id":1,"x":"` + strings.Repeat("a", MaxBodyBytes) + `"}`
	if rec := ts.post(big, testSecret); rec.Code != 413 || ts.rejected("too_large") != 1 {
		t.Fatalf("oversized: %d", rec.Code)
	}
	if n := len(ts.sink.Records()); n != 0 {
		t.Fatalf("%d records stored", n)
	}
}

func TestDedupeAndSpoolFull(t *testing.T) {
	ts := newTestServer(t)
	ts.sink.SetErr(fmt.Errorf("wrapped: %w", spool.ErrSpoolFull))
	rec := ts.post(textUpdate, testSecret)
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" || ts.rejected("spool_full") != 1 {
		t.Fatalf("spool full: %d", rec.Code)
	}
	ts.sink.SetErr(nil)
	if rec := ts.post(textUpdate, testSecret); rec.Code != 200 {
		t.Fatalf("retry: %d", rec.Code)
	}
	if rec := ts.post(textUpdate, testSecret); rec.Code != 200 {
		t.Fatalf("duplicate: %d", rec.Code)
	}
	if n := len(ts.sink.Records()); n != 1 {
		t.Fatalf("%d records", n)
	}
	if testutil.ToFloat64(ts.ch.metrics.Duplicates) != 1 || testutil.ToFloat64(ts.ch.metrics.Accepted) != 1 {
		t.Fatal("duplicates or accepted miscounted")
	}
}

func TestUnusedUpdateIsAcknowledged(t *testing.T) {
	ts := newTestServer(t)
	rec := ts.post(`{"update_id":5,"callback_query":{"id":"1","from":{"id":1,"is_bot":false,"first_name":"a"},"chat_instance":"x"}}`, testSecret)
	if rec.Code != 200 || len(ts.sink.Records()) != 0 {
		t.Fatalf("status %d, %d records", rec.Code, len(ts.sink.Records()))
	}
}

func TestConfig(t *testing.T) {
	for name, p := range map[string]connector.ChannelParams{
		"no secret":   {ExternalID: testBotID},
		"long secret": {ExternalID: testBotID, Credentials: map[string][]byte{cc.KeySecretToken: bytes.Repeat([]byte("a"), 257)}},
		"bad bot id":  {ExternalID: "@mybot", Credentials: map[string][]byte{cc.KeySecretToken: []byte(testSecret)}},
		"bad cache":   {Credentials: map[string][]byte{cc.KeySecretToken: []byte(testSecret)}, Settings: map[string]string{SettingDedupeCacheSize: "0"}},
	} {
		p.Registerer, p.Logger = prometheus.NewRegistry(), logr.Discard()
		if _, err := New(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	req, err := NewUpdateRequest("http://x"+Path, testSecret, []byte(textUpdate))
	if err != nil || req.Header.Get(HeaderSecretToken) != testSecret {
		t.Fatalf("helper: %v", err)
	}
	ts := newTestServer(t)
	rec := httptest.NewRecorder()
	ts.h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("helper request refused: %d", rec.Code)
	}
}

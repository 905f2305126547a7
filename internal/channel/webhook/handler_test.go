package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/connector/spool"
)

// recordingSink stands in for the connector's spool sink: it stamps and
// validates like the real one and keeps what it accepted.
type recordingSink struct {
	mu   sync.Mutex
	recs []*capture.Record
	err  error
}

func (s *recordingSink) Capture(_ context.Context, recs []*capture.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	for _, r := range recs {
		stampForTest(r)
		if err := r.Validate(); err != nil {
			return fmt.Errorf("record invalid: %w", err)
		}
	}
	s.recs = append(s.recs, recs...)
	return nil
}

type testServer struct {
	ch   *Channel
	sink *recordingSink
	reg  *prometheus.Registry
	h    http.Handler
	now  time.Time
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	reg := prometheus.NewRegistry()
	ch, err := New(connector.ChannelParams{
		Account: "team-a/alice", Custodian: "alice", Credentials: map[string][]byte{CredentialHMACSecret: testSecret},
		Settings: map[string]string{}, Logger: logr.Discard(), Registerer: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{ch: ch, sink: &recordingSink{}, reg: reg, now: time.Unix(1767225600, 0)}
	ch.now = func() time.Time { return ts.now }
	ts.h = ch.WebhookHandler(ts.sink)
	return ts
}

func (ts *testServer) post(body []byte, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	ts.h.ServeHTTP(rec, req)
	return rec
}

func signed(body []byte, at time.Time) map[string]string {
	tsH, sigH := Sign(testSecret, at, body)
	return map[string]string{HeaderTimestamp: tsH, HeaderSignature: sigH}
}

func (ts *testServer) rejected(reason string) float64 {
	return testutil.ToFloat64(ts.ch.metrics.Rejected.WithLabelValues(reason))
}

func TestWebhookResponses(t *testing.T) {
	body := []byte(validMessage)
	big := []byte(`{"id":"m","text":"` + strings.Repeat("x", MaxBodyBytes) + `"}`)
	tests := []struct {
		name       string
		body       []byte
		headers    func(now time.Time) map[string]string
		sinkErr    error
		wantStatus int
		wantReason string
	}{
		{"accepted", body, func(now time.Time) map[string]string { return signed(body, now) }, nil, 202, ""},
		{"missing headers", body, func(time.Time) map[string]string { return nil }, nil, 401, "missing_signature"},
		{"wrong secret", body, func(now time.Time) map[string]string {
			tsH, sigH := Sign([]byte(strings.Repeat("k", 32)), now, body)
			return map[string]string{HeaderTimestamp: tsH, HeaderSignature: sigH}
		}, nil, 401, "bad_signature"},
		{"body changed", body, func(now time.Time) map[string]string { return signed([]byte(validMessage+" "), now) }, nil, 401, "bad_signature"},
		{"timestamp moved", body, func(now time.Time) map[string]string {
			h := signed(body, now)
			h[HeaderTimestamp] = fmt.Sprint(now.Unix() + 1)
			return h
		}, nil, 401, "bad_signature"},
		{"stale past", body, func(now time.Time) map[string]string { return signed(body, now.Add(-5*time.Minute-time.Second)) }, nil, 401, "stale_timestamp"},
		{"stale future", body, func(now time.Time) map[string]string { return signed(body, now.Add(5*time.Minute+time.Second)) }, nil, 401, "stale_timestamp"},
		{"edge of window", body, func(now time.Time) map[string]string { return signed(body, now.Add(-5*time.Minute)) }, nil, 202, ""},
		{"too large", big, func(now time.Time) map[string]string { return signed(big, now) }, nil, 413, "too_large"},
		{"malformed", []byte(`{"id":1}`), func(now time.Time) map[string]string { return signed([]byte(`{"id":1}`), now) }, nil, 400, "malformed"},
		{"spool full", body, func(now time.Time) map[string]string { return signed(body, now) }, fmt.Errorf("wrapped: %w", spool.ErrSpoolFull), 503, "spool_full"},
		{"sink failure", body, func(now time.Time) map[string]string { return signed(body, now) }, fmt.Errorf("disk on fire"), 500, "internal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t)
			ts.sink.err = tc.sinkErr
			rec := ts.post(tc.body, tc.headers(ts.now))
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d (%s), want %d", rec.Code, rec.Body, tc.wantStatus)
			}
			var resp map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatalf("response is not JSON: %q", rec.Body)
			}
			if tc.wantReason == "" {
				if resp["accepted"] != float64(1) || len(ts.sink.recs) != 1 {
					t.Fatalf("response %v, %d records captured", resp, len(ts.sink.recs))
				}
				return
			}
			if len(ts.sink.recs) != 0 {
				t.Fatalf("refused request captured %d records", len(ts.sink.recs))
			}
			if resp["error"] == nil {
				t.Fatalf("refusal without error message: %v", resp)
			}
			if got := ts.rejected(tc.wantReason); got != 1 {
				t.Fatalf("rejected{reason=%s} = %v, want 1", tc.wantReason, got)
			}
		})
	}
}

func TestWebhookReplayAndRetry(t *testing.T) {
	ts := newTestServer(t)
	body := []byte(validMessage)
	h := signed(body, ts.now)

	ts.sink.err = spool.ErrSpoolFull
	if rec := ts.post(body, h); rec.Code != 503 || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("spool full: status %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	// A refused request was not captured, so its retry must not be a replay.
	ts.sink.err = nil
	if rec := ts.post(body, h); rec.Code != 202 {
		t.Fatalf("retry after 503: status %d (%s)", rec.Code, rec.Body)
	}
	if rec := ts.post(body, h); rec.Code != 409 {
		t.Fatalf("replay: status %d, want 409", rec.Code)
	}
	if got := ts.rejected("replay"); got != 1 {
		t.Fatalf("replay count %v", got)
	}
	if len(ts.sink.recs) != 1 {
		t.Fatalf("captured %d records, want 1", len(ts.sink.recs))
	}
}

func TestWebhookBatchIsAllOrNothing(t *testing.T) {
	ts := newTestServer(t)
	good := `{"id":"ok","conversation":{"id":"c"},"sender":{"id":"s"},"sentAt":"2026-03-01T01:30:00Z"}`
	// Passes the webhook's own checks but not capture's limits.
	longSender := `{"id":"bad","conversation":{"id":"c"},"sender":{"id":"` + strings.Repeat("s", 600) + `"},"sentAt":"2026-03-01T01:30:00Z"}`
	body := []byte(batchOf(good, longSender))
	rec := ts.post(body, signed(body, ts.now))
	if rec.Code != 400 {
		t.Fatalf("status %d, want 400", rec.Code)
	}
	if len(ts.sink.recs) != 0 {
		t.Fatalf("partial batch captured: %d records", len(ts.sink.recs))
	}
}

func TestWebhookRejectsGet(t *testing.T) {
	ts := newTestServer(t)
	req := httptest.NewRequest(http.MethodGet, Path, nil)
	rec := httptest.NewRecorder()
	ts.h.ServeHTTP(rec, req)
	if rec.Code != 405 || ts.rejected("method") != 1 {
		t.Fatalf("GET: status %d, counted %v", rec.Code, ts.rejected("method"))
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name     string
		creds    map[string][]byte
		settings map[string]string
	}{
		{"no secret", nil, nil},
		{"short secret", map[string][]byte{CredentialHMACSecret: []byte("too-short")}, nil},
		{"bad replay size", map[string][]byte{CredentialHMACSecret: testSecret}, map[string]string{SettingReplayCacheSize: "-3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(connector.ChannelParams{Credentials: tc.creds, Settings: tc.settings, Registerer: prometheus.NewRegistry(), Logger: logr.Discard()})
			if err == nil {
				t.Fatalf("New accepted bad config")
			}
		})
	}
}

package wecom

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-operator/vigil/internal/channel/inbound"
	"github.com/vigil-operator/vigil/internal/connector/connectortest"
	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

// harness is a callback handler over an in-memory sink with a settable
// clock.
type harness struct {
	t       testing.TB
	set     vectorSet
	h       *CallbackHandler
	sink    *connectortest.Sink
	metrics *inbound.Metrics
	now     time.Time
}

func newHarness(t testing.TB, set vectorSet, edit func(*CallbackConfig)) *harness {
	t.Helper()
	m, err := inbound.NewMetrics(prometheus.NewRegistry(), MetricsPrefix, "wecom", Reasons...)
	if err != nil {
		t.Fatal(err)
	}
	hs := &harness{t: t, set: set, sink: &connectortest.Sink{}, metrics: m, now: time.Unix(1409659813, 0)}
	cfg := CallbackConfig{
		Token: set.token, EncodingAESKey: set.aesKey, ReceiveID: set.receiveID,
		Sink: hs.sink, Metrics: m, Log: logr.Discard(),
		Now: func() time.Time { return hs.now },
	}
	if edit != nil {
		edit(&cfg)
	}
	hs.h, err = NewCallbackHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return hs
}

func (hs *harness) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	hs.h.ServeHTTP(rec, req)
	return rec
}

// post sends body with the given query values, as WeCom does.
func (hs *harness) post(signature, timestamp, nonce, body string) *httptest.ResponseRecorder {
	target := Path + "?msg_signature=" + signature + "&timestamp=" + timestamp + "&nonce=" + nonce
	return hs.serve(httptest.NewRequest(http.MethodPost, target, strings.NewReader(body)))
}

// send encrypts and signs msg for the harness's account at the clock.
func (hs *harness) send(msg string, format wxcrypt.Format) *httptest.ResponseRecorder {
	hs.t.Helper()
	req, err := SignedCallback("http://connector"+Path, hs.set.token, hs.set.aesKey, hs.set.receiveID, []byte(msg), format, hs.now)
	if err != nil {
		hs.t.Fatal(err)
	}
	return hs.serve(req)
}

func (hs *harness) rejected(reason string) float64 {
	return testutil.ToFloat64(hs.metrics.Rejected.WithLabelValues(reason))
}

func (hs *harness) expectOK(rec *httptest.ResponseRecorder) {
	hs.t.Helper()
	if rec.Code != http.StatusOK || rec.Body.String() != replyOK {
		hs.t.Fatalf("status %d body %q, want 200 %q", rec.Code, rec.Body.String(), replyOK)
	}
}

func (hs *harness) expectRefused(rec *httptest.ResponseRecorder, status int, reason string) {
	hs.t.Helper()
	if rec.Code != status {
		hs.t.Fatalf("status %d (%s), want %d", rec.Code, bytes.TrimSpace(rec.Body.Bytes()), status)
	}
	if got := hs.rejected(reason); got != 1 {
		hs.t.Fatalf("rejected_total{reason=%q} = %v, want 1", reason, got)
	}
	if n := len(hs.sink.Records()); n != 0 {
		hs.t.Fatalf("%d records stored for a refused request", n)
	}
}

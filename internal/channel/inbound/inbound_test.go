package inbound

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/connector/connectortest"
	"github.com/vigil-operator/vigil/internal/connector/spool"
)

func TestReadBody(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		declared   int64
		wantStatus int
	}{
		{"within the limit", "hello", 5, 0},
		{"declared too large", "hello", 50, http.StatusRequestEntityTooLarge},
		{"streamed too large", strings.Repeat("x", 11), -1, http.StatusRequestEntityTooLarge},
		{"exactly the limit", strings.Repeat("x", 10), -1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			r.ContentLength = tc.declared
			got, rej := ReadBody(httptest.NewRecorder(), r, 10)
			switch {
			case tc.wantStatus == 0 && (rej != nil || string(got) != tc.body):
				t.Fatalf("got %q, %v", got, rej)
			case tc.wantStatus != 0 && (rej == nil || rej.Status != tc.wantStatus || rej.Reason != ReasonTooLarge):
				t.Fatalf("want %d too_large, got %+v", tc.wantStatus, rej)
			}
		})
	}
}

func TestParseUnixSecondsAndFreshness(t *testing.T) {
	for _, bad := range []string{"", "+5", "-5", " 5", "5s", "1234567890123", "0x10"} {
		if _, err := ParseUnixSeconds(bad); err == nil {
			t.Errorf("ParseUnixSeconds(%q) accepted", bad)
		}
	}
	ts, err := ParseUnixSeconds("1409659813")
	if err != nil || ts.Unix() != 1409659813 {
		t.Fatalf("ParseUnixSeconds = %v, %v", ts, err)
	}
	now := time.Unix(1_000_000, 0)
	for skew, fresh := range map[time.Duration]bool{0: true, 5 * time.Minute: true, -5 * time.Minute: true, 5*time.Minute + time.Second: false, -6 * time.Minute: false} {
		rej := CheckFresh(now.Add(skew), now, 5*time.Minute)
		if (rej == nil) != fresh || (rej != nil && rej.Reason != ReasonStaleTimestamp) {
			t.Errorf("skew %s: %+v", skew, rej)
		}
	}
}

func TestCaptureMapsSinkErrors(t *testing.T) {
	rec := func() []*capture.Record {
		return []*capture.Record{{Channel: "test", NativeID: "m1", SentAt: time.Unix(1, 0)}}
	}
	tests := []struct {
		name       string
		sinkErr    error
		wantStatus int
		wantReason string
	}{
		{"stored", nil, 0, ""},
		{"spool full", fmt.Errorf("wrapped: %w", spool.ErrSpoolFull), http.StatusServiceUnavailable, ReasonSpoolFull},
		{"invalid", fmt.Errorf("record 0: %w", capture.ErrInvalid), http.StatusBadRequest, ReasonMalformed},
		{"disk failure", errors.New("input/output error"), http.StatusInternalServerError, ReasonInternal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := &connectortest.Sink{Err: tc.sinkErr}
			w := httptest.NewRecorder()
			rej := Capture(context.Background(), w, logr.Discard(), sink, rec())
			if tc.wantStatus == 0 {
				if rej != nil || len(sink.Records()) != 1 {
					t.Fatalf("want stored, got %+v", rej)
				}
				return
			}
			if rej == nil || rej.Status != tc.wantStatus || rej.Reason != tc.wantReason {
				t.Fatalf("want %d %s, got %+v", tc.wantStatus, tc.wantReason, rej)
			}
			if tc.wantStatus == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
				t.Fatal("a full spool must tell the provider when to retry")
			}
			if tc.wantStatus == http.StatusInternalServerError && strings.Contains(rej.Error(), "input/output") {
				t.Fatal("internal error details must not reach the caller")
			}
		})
	}
}

func TestMetricsRefuseCountsAndAnswers(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg, "vigil_connector_test", "test", "test_extra")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewMetrics(reg, "vigil_connector_test", "test"); err == nil {
		t.Fatal("registering the same channel twice must fail")
	}
	if n, _ := testutil.GatherAndCount(reg, "vigil_connector_test_rejected_total"); n != len(CommonReasons)+1 {
		t.Fatalf("%d reason series pre-created, want %d", n, len(CommonReasons)+1)
	}
	w := httptest.NewRecorder()
	m.Refuse(w, logr.Discard(), Unauthorized(ReasonBadSignature, errors.New("signature does not verify")))
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "signature does not verify") {
		t.Fatalf("answer %d %s", w.Code, w.Body)
	}
	if got := testutil.ToFloat64(m.Rejected.WithLabelValues(ReasonBadSignature)); got != 1 {
		t.Fatalf("bad_signature counted %v times", got)
	}
	if _, err := NewMetrics(nil, "x", "x"); err == nil {
		t.Fatal("a nil registerer must be refused")
	}
}

func TestWriteTextIsExact(t *testing.T) {
	w := httptest.NewRecorder()
	WriteText(w, http.StatusOK, "1616140317555161061")
	if w.Body.String() != "1616140317555161061" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("got %q %q", w.Body, w.Header().Get("Content-Type"))
	}
}

// TestMACMatchesGitHubVector checks MAC with GitHub's published
// X-Hub-Signature-256 example, the scheme WhatsApp also uses.
func TestMACMatchesGitHubVector(t *testing.T) {
	mac := MAC([]byte("It's a Secret to Everybody"), []byte("Hello, "), []byte("World!"))
	if got := fmt.Sprintf("%x", mac); got != "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17" {
		t.Fatalf("MAC = %s", got)
	}
}

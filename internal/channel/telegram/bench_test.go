package telegram

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/connector/connectortest"
)

func runCapture(b *testing.B, sink connector.Sink) {
	// A business text message: the richest common path (direction rule).
	tmpl := `{"update_id":ID,"business_message":` + msg(private, customer, `,"business_connection_id":"BCX","text":"請問今日港股 0700 的報價? what's your best price on 0700 today?","entities":[]`) + `}`
	h := newTestServer(b).ch.WebhookHandler(sink)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body := strings.Replace(tmpl, "ID", strconv.Itoa(i+1), 1)
		req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader([]byte(body)))
		req.Header.Set(HeaderSecretToken, testSecret)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkCaptureTelegram is one update end to end: secret check, parse,
// dedupe, map, and an fsynced append to a real spool.
func BenchmarkCaptureTelegram(b *testing.B) {
	runCapture(b, connectortest.SpoolSink(b))
}

// BenchmarkCaptureTelegramInMemory is the same pipeline into a sink that
// only stamps and validates: the CPU cost without the fsync.
func BenchmarkCaptureTelegramInMemory(b *testing.B) {
	runCapture(b, connectortest.DiscardSink{})
}

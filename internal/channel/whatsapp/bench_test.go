package whatsapp

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-operator/vigil/internal/channel/inbound"
	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/connector/connectortest"
)

// benchMessages is a notification's batch size: Meta batches busy numbers.
const benchMessages = 50

func benchBody() []byte {
	msgs := make([]string, benchMessages)
	for i := range msgs {
		msgs[i] = textMessage("wamid.bench"+strconv.Itoa(i), "Can you confirm the order for 500 shares at 12.40? 請確認")
	}
	return []byte(notification(msgs...))
}

// benchCapture posts the same signed notification b.N times through the
// whole handler. The dedupe cache is renewed each time so every message is
// new, as in steady traffic.
func benchCapture(b *testing.B, sink connector.Sink) {
	ch, err := New(testParams(prometheus.NewRegistry()))
	if err != nil {
		b.Fatal(err)
	}
	h := ch.WebhookHandler(sink)
	body := benchBody()
	sig := Sign([]byte(testAppSecret), body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ch.dedupe = inbound.NewDedupe(dedupeTTL, dedupeCapacity)
		req := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(string(body)))
		req.Header.Set(HeaderSignature, sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(b.N*benchMessages)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkCaptureWhatsApp: verify → parse → map → fsynced spool.
func BenchmarkCaptureWhatsApp(b *testing.B) {
	benchCapture(b, connectortest.SpoolSink(b))
}

// BenchmarkCaptureWhatsAppMemory is the baseline: the same path into a sink
// that keeps nothing, so the difference is the spool's cost.
func BenchmarkCaptureWhatsAppMemory(b *testing.B) {
	benchCapture(b, connectortest.DiscardSink{})
}

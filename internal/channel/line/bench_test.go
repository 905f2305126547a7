package line

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

// benchMessages is a webhook's batch size; LINE batches busy accounts.
const benchMessages = 50

func benchBody() []byte {
	events := make([]string, benchMessages)
	for i := range events {
		events[i] = strings.NewReplacer("468789577898262530", "4687895778982625"+strconv.Itoa(10+i),
			"01H810YECXQQZ37VAXPF6H9E6T", "01H810YECXQQZ37VAXPF6H9E"+strconv.Itoa(10+i)).Replace(textEvent)
	}
	return []byte(webhook(events...))
}

// benchCapture posts the same signed webhook b.N times through the
// whole handler. The dedupe cache is renewed each time so every message is
// new, as in steady traffic.
func benchCapture(b *testing.B, sink connector.Sink) {
	ch, err := New(testParams(prometheus.NewRegistry()))
	if err != nil {
		b.Fatal(err)
	}
	h := ch.WebhookHandler(sink)
	body := benchBody()
	sig := Sign([]byte(testSecret), body)
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

// BenchmarkCaptureLINE: verify → parse → map → fsynced spool.
func BenchmarkCaptureLINE(b *testing.B) {
	benchCapture(b, connectortest.SpoolSink(b))
}

// BenchmarkCaptureLINEMemory is the baseline: the same path into a sink
// that keeps nothing, so the difference is the spool's cost.
func BenchmarkCaptureLINEMemory(b *testing.B) {
	benchCapture(b, connectortest.DiscardSink{})
}

package slack

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-operator/vigil/internal/channel/inbound"
	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/connector/connectortest"
)

// benchEvents is how many events one benchmark iteration delivers; Slack
// sends one event per request.
const benchEvents = 50

func benchBodies() [][]byte {
	bodies := make([][]byte, benchEvents)
	for i := range bodies {
		ts := fmt.Sprintf("1706781600.%06d", i)
		bodies[i] = []byte(callback("Ev"+strconv.Itoa(i), messageEvent(ts, "Can you confirm the order for 500 shares at 12.40? <@U0G9QF9C6>")))
	}
	return bodies
}

// benchCapture delivers benchEvents signed events per iteration through the
// whole handler. The replay and dedupe caches are renewed each iteration so
// every request is new, as in steady traffic.
func benchCapture(b *testing.B, sink connector.Sink) {
	ch, err := New(testParams(prometheus.NewRegistry()))
	if err != nil {
		b.Fatal(err)
	}
	ch.now = func() time.Time { return testNow }
	h := ch.WebhookHandler(sink)
	bodies := benchBodies()
	type signed struct{ ts, sig string }
	sigs := make([]signed, len(bodies))
	for i, body := range bodies {
		sigs[i].ts, sigs[i].sig = Sign([]byte(testSecret), testNow, body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ch.replay = inbound.NewReplayCache(replayTTL, cacheCapacity)
		ch.dedupe = inbound.NewDedupe(dedupeTTL, cacheCapacity)
		for j, body := range bodies {
			req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
			req.Header.Set(HeaderTimestamp, sigs[j].ts)
			req.Header.Set(HeaderSignature, sigs[j].sig)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	}
	b.ReportMetric(float64(b.N*benchEvents)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkCaptureSlack: verify → parse → map → fsynced spool, one event
// (and so one fsync) per request as Slack delivers them.
func BenchmarkCaptureSlack(b *testing.B) {
	benchCapture(b, connectortest.SpoolSink(b))
}

// BenchmarkCaptureSlackMemory is the baseline: the same path into a sink
// that keeps nothing, so the difference is the spool's cost.
func BenchmarkCaptureSlackMemory(b *testing.B) {
	benchCapture(b, connectortest.DiscardSink{})
}

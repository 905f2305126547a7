package wechatoa

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/connector/connectortest"
)

// benchPool is how many distinct signed pushes a benchmark cycles through;
// the channel's replay and dedupe caches are rebuilt (untimed) each cycle.
const benchPool = 512

type benchPush struct {
	query string
	body  []byte
}

func benchPushes(b *testing.B) []benchPush {
	c := crypter(b, vecAppID)
	out := make([]benchPush, benchPool)
	for i := range out {
		msg := []byte(`<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName><FromUserName><![CDATA[o9AgO5Kd5ggOC-bXrbNODIiE3bGY]]></FromUserName><CreateTime>1714112445</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[请把昨天的成交单发给我 please send yesterday's trade tickets]]></Content><MsgId>` +
			strconv.Itoa(1_000_000+i) + `</MsgId></xml>`)
		q, body, err := BuildPush(ModeSecure, vecToken, c, "1714112445", strconv.Itoa(i), msg)
		if err != nil {
			b.Fatal(err)
		}
		out[i] = benchPush{q.Encode(), body}
	}
	return out
}

func runCapture(b *testing.B, sink func(testing.TB) connector.Sink) {
	pushes := benchPushes(b)
	s := sink(b)
	var h http.Handler
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%benchPool == 0 {
			b.StopTimer()
			h = newTestServer(b, ModeSecure, vecAppID, 1714112445).ch.WebhookHandler(s)
			b.StartTimer()
		}
		p := pushes[i%benchPool]
		req := httptest.NewRequest(http.MethodPost, Path+"?"+p.query, bytes.NewReader(p.body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.String() != Reply {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkCaptureWeChatOA is a secure-mode push end to end: signature,
// msg_signature, decrypt, parse, map, and an fsynced append to a real spool.
func BenchmarkCaptureWeChatOA(b *testing.B) {
	runCapture(b, connectortest.SpoolSink)
}

// BenchmarkCaptureWeChatOAInMemory is the same pipeline into a sink that
// only stamps and validates: the CPU cost without the fsync.
func BenchmarkCaptureWeChatOAInMemory(b *testing.B) {
	runCapture(b, func(testing.TB) connector.Sink { return connectortest.DiscardSink{} })
}

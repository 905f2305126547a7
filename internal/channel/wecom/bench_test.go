package wecom

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/connector/connectortest"
	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

type signedPost struct {
	target string
	body   []byte
	sig    string
	ts     string
	nonce  string
	enc    string
}

// benchPosts encrypts and signs n distinct text messages (distinct MsgId
// and nonce) the way WeCom sends them, before the timer starts.
func benchPosts(b *testing.B, n int, now time.Time) []signedPost {
	b.Helper()
	c, err := wxcrypt.New(setA.token, setA.aesKey, setA.receiveID)
	if err != nil {
		b.Fatal(err)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	posts := make([]signedPost, n)
	for i := range posts {
		msg := `<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><FromUserName><![CDATA[wmAJ2GCAAAme1XQRC]]></FromUserName><CreateTime>` + ts +
			`</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[您好，我想确认一下昨天下单的理财产品的赎回时间和手续费，谢谢。]]></Content><MsgId>` +
			strconv.Itoa(1_000_000_000+i) + `</MsgId><AgentID>1000002</AgentID></xml>`
		nonce := strconv.Itoa(100_000 + i)
		enc, sig, err := c.EncryptMessage([]byte(msg), ts, nonce)
		if err != nil {
			b.Fatal(err)
		}
		posts[i] = signedPost{
			target: Path + "?msg_signature=" + sig + "&timestamp=" + ts + "&nonce=" + nonce,
			body:   []byte("<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[" + enc + "]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>"),
			sig:    sig, ts: ts, nonce: nonce, enc: enc,
		}
	}
	return posts
}

// benchCapture measures verify → decrypt → parse → map → sink, through the
// HTTP handler, one callback per message as WeCom sends them.
func benchCapture(b *testing.B, sink connector.Sink) {
	now := time.Unix(1767225600, 0)
	posts := benchPosts(b, b.N, now)
	hs := newHarness(b, setA, func(c *CallbackConfig) {
		c.Sink = sink
		c.ReplayCacheSize = b.N + 1
		c.DedupeCacheSize = b.N + 1
	})
	hs.now = now
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodPost, posts[i].target, bytes.NewReader(posts[i].body))
		rec := httptest.NewRecorder()
		hs.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkCaptureWeComCallback is the whole path into the connector's real
// fsynced spool: every callback is durable before WeCom gets "success".
func BenchmarkCaptureWeComCallback(b *testing.B) {
	benchCapture(b, connectortest.SpoolSink(b))
}

// BenchmarkCaptureWeComCallbackMemorySink is the same path into an
// in-memory sink: the handler's own cost, without the fsync.
func BenchmarkCaptureWeComCallbackMemorySink(b *testing.B) {
	benchCapture(b, connectortest.DiscardSink{})
}

// BenchmarkWeComVerifyDecrypt is the floor: signature check and AES
// decryption alone, no HTTP, parsing or storage.
func BenchmarkWeComVerifyDecrypt(b *testing.B) {
	now := time.Unix(1767225600, 0)
	posts := benchPosts(b, 1024, now)
	c, err := wxcrypt.New(setA.token, setA.aesKey, setA.receiveID)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		p := &posts[i%len(posts)]
		if _, err := c.DecryptMessage(p.sig, p.ts, p.nonce, p.enc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

package wecom

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/channel/inbound"
	"github.com/vigil-operator/vigil/internal/connector/spool"
	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

func TestVerifyURLOfficialVectors(t *testing.T) {
	for _, v := range verifyVectors {
		t.Run(v.set.name, func(t *testing.T) {
			hs := newHarness(t, v.set, nil)
			ts, _ := strconv.ParseInt(v.timestamp, 10, 64)
			hs.now = time.Unix(ts, 0).Add(30 * time.Second)
			target := Path + "?msg_signature=" + v.signature + "&timestamp=" + v.timestamp + "&nonce=" + v.nonce + "&echostr=" + v.wireEchostr
			rec := hs.serve(httptest.NewRequest(http.MethodGet, target, nil))
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
			}
			if got := rec.Body.String(); got != v.plaintext {
				t.Fatalf("body %q, want exactly %q", got, v.plaintext)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Fatalf("content type %q", ct)
			}
		})
	}
}

func TestVerifyURLRefusals(t *testing.T) {
	v := verifyVectors[0]
	base := Path + "?timestamp=" + v.timestamp + "&nonce=" + v.nonce + "&echostr=" + v.wireEchostr
	cases := []struct {
		name, target string
		now          time.Time
		status       int
		reason       string
	}{
		{"bad signature", base + "&msg_signature=" + strings.Replace(v.signature, "5c", "5d", 1), time.Unix(1409659589, 0), 401, inbound.ReasonBadSignature},
		{"missing signature", base, time.Unix(1409659589, 0), 401, inbound.ReasonMissingSignature},
		{"stale timestamp", base + "&msg_signature=" + v.signature, time.Unix(1409659589, 0).Add(11 * time.Minute), 401, inbound.ReasonStaleTimestamp},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hs := newHarness(t, v.set, nil)
			hs.now = c.now
			rec := hs.serve(httptest.NewRequest(http.MethodGet, c.target, nil))
			hs.expectRefused(rec, c.status, c.reason)
			if strings.Contains(rec.Body.String(), v.plaintext) {
				t.Fatal("refusal leaks the plaintext")
			}
		})
	}
	t.Run("wrong receive id", func(t *testing.T) {
		set := v.set
		set.receiveID = "wwsomeoneelse"
		hs := newHarness(t, set, nil)
		hs.now = time.Unix(1409659589, 0)
		rec := hs.serve(httptest.NewRequest(http.MethodGet, base+"&msg_signature="+v.signature, nil))
		hs.expectRefused(rec, http.StatusUnauthorized, inbound.ReasonWrongReceiver)
	})
}

func TestPostOfficialVectors(t *testing.T) {
	for _, v := range postVectors {
		t.Run(v.name, func(t *testing.T) {
			hs := newHarness(t, v.set, nil)
			ts, _ := strconv.ParseInt(v.timestamp, 10, 64)
			hs.now = time.Unix(ts, 0).Add(2 * time.Second)
			hs.expectOK(hs.post(v.signature, v.timestamp, v.nonce, v.body))
			recs := hs.sink.Records()
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			r := recs[0]
			sum := sha256.Sum256([]byte(v.plaintext))
			if r.Raw.SHA256 != hex.EncodeToString(sum[:]) || r.Raw.Size != int64(len(v.plaintext)) || r.Raw.Envelope != EnvelopeAES {
				t.Fatalf("raw = %+v, want the sha256 of the decrypted message", r.Raw)
			}
			if !r.Provenance.SigVerified || r.Provenance.SigScheme != SigScheme {
				t.Fatalf("provenance = %+v", r.Provenance)
			}
			if r.Channel != ChannelName || r.Tenant != v.set.receiveID {
				t.Fatalf("channel %q tenant %q", r.Channel, r.Tenant)
			}
			if err := r.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := testutil.ToFloat64(hs.metrics.Accepted); got != 1 {
				t.Fatalf("accepted = %v", got)
			}
		})
	}
}

func TestPostOfficialVectorContents(t *testing.T) {
	hs := newHarness(t, setA, nil)
	v := postVectors[0]
	hs.expectOK(hs.post(v.signature, v.timestamp, v.nonce, v.body))
	r := hs.sink.Records()[0]
	want := capture.Record{
		NativeID: "4561255354251345929", Kind: capture.KindMessage, MsgType: "text", NativeType: "text", Text: "hello",
		Account: "218", Direction: capture.DirectionInternal,
		Sender: capture.Participant{ID: "mycreate", IDType: idTypeUserID, Affiliation: capture.AffiliationInternal},
	}
	if r.NativeID != want.NativeID || r.Kind != want.Kind || r.MsgType != want.MsgType || r.NativeType != want.NativeType ||
		r.Text != want.Text || r.Account != want.Account || r.Direction != want.Direction || r.Sender != want.Sender {
		t.Fatalf("record = %+v", r)
	}
	if !r.SentAt.Equal(time.Unix(1409659813, 0)) {
		t.Fatalf("sentAt %v", r.SentAt)
	}

	hsB := newHarness(t, setB, nil)
	vb := postVectors[1]
	hsB.now = time.Unix(1476422779, 0)
	hsB.expectOK(hsB.post(vb.signature, vb.timestamp, vb.nonce, vb.body))
	if rb := hsB.sink.Records()[0]; rb.Text != "你好" || rb.NativeID != "1456453720" || rb.Account != "1000002" || rb.Sender.ID != "ChenJiaShun" {
		t.Fatalf("set B record = %+v", rb)
	}

	// The official JSON sample's plaintext is not valid JSON: it is kept,
	// whole, as an unparsed record rather than dropped.
	hsJ := newHarness(t, setB, nil)
	vj := postVectors[2]
	hsJ.expectOK(hsJ.post(vj.signature, vj.timestamp, vj.nonce, vj.body))
	if rj := hsJ.sink.Records()[0]; rj.NativeType != nativeTypeUnparsed || rj.MsgType != "unknown" || rj.Text != vj.plaintext || rj.Raw.ContentType != "application/json" {
		t.Fatalf("unparsed record = %+v", rj)
	}
}

func TestPostRefusals(t *testing.T) {
	v := postVectors[0]
	reSign := func(encrypted string) (sig, body string) {
		return wxcrypt.Signature(setA.token, v.timestamp, v.nonce, encrypted),
			"<xml><ToUserName><![CDATA[x]]></ToUserName><Encrypt><![CDATA[" + encrypted + "]]></Encrypt></xml>"
	}
	encrypted := v.body[strings.Index(v.body, "<Encrypt><![CDATA[")+len("<Encrypt><![CDATA[") : strings.Index(v.body, "]]></Encrypt>")]

	t.Run("bad signature", func(t *testing.T) {
		hs := newHarness(t, setA, nil)
		hs.expectRefused(hs.post(strings.Repeat("0", 40), v.timestamp, v.nonce, v.body), 401, inbound.ReasonBadSignature)
	})
	t.Run("signature over another ciphertext", func(t *testing.T) {
		hs := newHarness(t, setA, nil)
		body := strings.Replace(v.body, "RypEvHKD8", "RypEvHKD9", 1)
		hs.expectRefused(hs.post(v.signature, v.timestamp, v.nonce, body), 401, inbound.ReasonBadSignature)
	})
	t.Run("missing nonce", func(t *testing.T) {
		hs := newHarness(t, setA, nil)
		hs.expectRefused(hs.post(v.signature, v.timestamp, "", v.body), 401, inbound.ReasonMissingSignature)
	})
	t.Run("stale", func(t *testing.T) {
		hs := newHarness(t, setA, nil)
		hs.now = time.Unix(1409659813, 0).Add(-DefaultWindow - time.Second)
		hs.expectRefused(hs.post(v.signature, v.timestamp, v.nonce, v.body), 401, inbound.ReasonStaleTimestamp)
	})
	t.Run("wrong receive id", func(t *testing.T) {
		set := setA
		set.receiveID = "wwanothercorp"
		hs := newHarness(t, set, nil)
		hs.expectRefused(hs.post(v.signature, v.timestamp, v.nonce, v.body), http.StatusUnauthorized, inbound.ReasonWrongReceiver)
	})
	t.Run("truncated ciphertext", func(t *testing.T) {
		hs := newHarness(t, setA, nil)
		// Drop 12 base64 characters (9 bytes): still base64, no longer whole
		// AES blocks. Signed correctly, so only decryption can refuse it.
		sig, body := reSign(encrypted[:len(encrypted)-24] + encrypted[len(encrypted)-12:])
		hs.expectRefused(hs.post(sig, v.timestamp, v.nonce, body), http.StatusBadRequest, inbound.ReasonDecrypt)
	})
	t.Run("not base64", func(t *testing.T) {
		hs := newHarness(t, setA, nil)
		sig, body := reSign("not*base64")
		hs.expectRefused(hs.post(sig, v.timestamp, v.nonce, body), http.StatusBadRequest, inbound.ReasonDecrypt)
	})
	t.Run("oversized body", func(t *testing.T) {
		hs := newHarness(t, setA, func(c *CallbackConfig) { c.MaxBodyBytes = 512 })
		hs.expectRefused(hs.post(v.signature, v.timestamp, v.nonce, v.body+strings.Repeat(" ", 512)), http.StatusRequestEntityTooLarge, inbound.ReasonTooLarge)
	})
	t.Run("not an envelope", func(t *testing.T) {
		hs := newHarness(t, setA, nil)
		hs.expectRefused(hs.post(v.signature, v.timestamp, v.nonce, "hello"), http.StatusBadRequest, inbound.ReasonMalformed)
	})
	t.Run("method", func(t *testing.T) {
		hs := newHarness(t, setA, nil)
		rec := hs.serve(httptest.NewRequest(http.MethodPut, Path, nil))
		hs.expectRefused(rec, http.StatusMethodNotAllowed, inbound.ReasonMethod)
	})
}

func TestReplayIsRefused(t *testing.T) {
	hs := newHarness(t, setA, nil)
	v := postVectors[0]
	hs.expectOK(hs.post(v.signature, v.timestamp, v.nonce, v.body))
	rec := hs.post(v.signature, v.timestamp, v.nonce, v.body)
	if rec.Code != http.StatusConflict || hs.rejected(inbound.ReasonReplay) != 1 {
		t.Fatalf("replay: status %d, replay count %v", rec.Code, hs.rejected(inbound.ReasonReplay))
	}
	if n := len(hs.sink.Records()); n != 1 {
		t.Fatalf("%d records after a replay, want 1", n)
	}
}

func TestDuplicateMsgIDIsAnsweredAndCounted(t *testing.T) {
	hs := newHarness(t, setA, nil)
	v := postVectors[0]
	hs.expectOK(hs.post(v.signature, v.timestamp, v.nonce, v.body))
	// WeCom's retry: the same message, encrypted again with a new nonce.
	hs.expectOK(hs.send(v.plaintext, wxcrypt.FormatXML))
	if n := len(hs.sink.Records()); n != 1 {
		t.Fatalf("%d records, want the duplicate dropped", n)
	}
	if d := testutil.ToFloat64(hs.metrics.Duplicates); d != 1 {
		t.Fatalf("duplicates = %v, want 1", d)
	}
}

func TestSpoolFullThenRetrySucceeds(t *testing.T) {
	hs := newHarness(t, setA, nil)
	v := postVectors[0]
	hs.sink.SetErr(spool.ErrSpoolFull)
	rec := hs.post(v.signature, v.timestamp, v.nonce, v.body)
	hs.expectRefused(rec, http.StatusServiceUnavailable, inbound.ReasonSpoolFull)
	if rec.Header().Get("Retry-After") == "" {
		t.Fatal("no Retry-After on 503")
	}
	hs.sink.SetErr(nil)
	// The vendor retries the very same signed request: neither the replay
	// cache nor the MsgId dedupe may hold it against the retry.
	hs.expectOK(hs.post(v.signature, v.timestamp, v.nonce, v.body))
	if n := len(hs.sink.Records()); n != 1 {
		t.Fatalf("%d records after the retry, want 1", n)
	}
	if d := testutil.ToFloat64(hs.metrics.Duplicates); d != 0 {
		t.Fatalf("the retry was counted as a duplicate")
	}
}

func TestInternalSinkErrorIs500(t *testing.T) {
	hs := newHarness(t, setA, nil)
	hs.sink.SetErr(errors.New("disk on fire"))
	v := postVectors[0]
	rec := hs.post(v.signature, v.timestamp, v.nonce, v.body)
	hs.expectRefused(rec, http.StatusInternalServerError, inbound.ReasonInternal)
	if strings.Contains(rec.Body.String(), "fire") {
		t.Fatal("internal error text leaked to the caller")
	}
}

func TestArchiveNotifyCallsHook(t *testing.T) {
	notify := `<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1409659813</CreateTime><MsgType><![CDATA[event]]></MsgType><AgentID>2000003</AgentID><Event><![CDATA[msgaudit_notify]]></Event></xml>`
	calls := 0
	hs := newHarness(t, setA, func(c *CallbackConfig) { c.OnArchiveNotify = func() { calls++ } })
	hs.expectOK(hs.send(notify, wxcrypt.FormatXML))
	if calls != 1 || len(hs.sink.Records()) != 0 {
		t.Fatalf("hook called %d times, %d records; want 1 call and no record", calls, len(hs.sink.Records()))
	}
	// A retry of the same notification is a duplicate, not a second pull.
	hs.expectOK(hs.send(notify, wxcrypt.FormatXML))
	if calls != 1 || testutil.ToFloat64(hs.metrics.Duplicates) != 1 {
		t.Fatalf("retry: %d calls", calls)
	}

	// Without a hook the notification is kept as a system record.
	plain := newHarness(t, setA, nil)
	plain.expectOK(plain.send(notify, wxcrypt.FormatXML))
	if r := plain.sink.Records(); len(r) != 1 || r[0].Kind != capture.KindSystem || r[0].NativeType != "event.msgaudit_notify" {
		t.Fatalf("records = %+v", r)
	}
}

func TestKfEventWithoutSecretRecordsAGap(t *testing.T) {
	hs := newHarness(t, setA, nil)
	kf := `<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><CreateTime>1409659813</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event><Token><![CDATA[ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR]]></Token><OpenKfId><![CDATA[wkxxxxxxx]]></OpenKfId></xml>`
	hs.expectOK(hs.send(kf, wxcrypt.FormatXML))
	recs := hs.sink.Records()
	if len(recs) != 1 || recs[0].Kind != capture.KindSystem || recs[0].MsgType != MsgTypeCaptureGap || !strings.Contains(recs[0].Text, "wkxxxxxxx") {
		t.Fatalf("records = %+v", recs)
	}
	if got := testutil.ToFloat64(hs.metrics.Rejected.WithLabelValues(ReasonKfNotConfigured)); got != 1 {
		t.Fatalf("kf_not_configured counted %v times", got)
	}
	// WeCom's retry of the same event is a duplicate, not a second gap.
	hs.expectOK(hs.send(kf, wxcrypt.FormatXML))
	if len(hs.sink.Records()) != 1 {
		t.Fatal("a retried kf event recorded a second gap")
	}
}

func TestKfEventHookGetsTokenAndAccount(t *testing.T) {
	var gotKf, gotToken string
	hs := newHarness(t, setA, func(c *CallbackConfig) {
		c.OnKfEvent = func(openKfID, token string) error { gotKf, gotToken = openKfID, token; return nil }
	})
	kf := `{"ToUserName":"wx5823bf96d3bd56c7","CreateTime":1409659813,"MsgType":"event","Event":"kf_msg_or_event","Token":"ENCtok","OpenKfId":"wkAJ2GCAAA"}`
	hs.expectOK(hs.send(kf, wxcrypt.FormatJSON))
	if gotKf != "wkAJ2GCAAA" || gotToken != "ENCtok" {
		t.Fatalf("hook got %q %q", gotKf, gotToken)
	}
	// A hook that cannot schedule makes WeCom retry.
	busy := newHarness(t, setA, func(c *CallbackConfig) {
		c.OnKfEvent = func(string, string) error { return errors.New("queue full") }
	})
	busy.expectRefused(busy.send(kf, wxcrypt.FormatJSON), http.StatusServiceUnavailable, inbound.ReasonInternal)
}

func TestSignedVerifyURLRoundTrip(t *testing.T) {
	hs := newHarness(t, setB, nil)
	hs.now = time.Unix(1767225600, 0)
	req, err := SignedVerifyURL("https://connector.example"+Path, setB.token, setB.aesKey, setB.receiveID, "8237419874321", hs.now)
	if err != nil {
		t.Fatal(err)
	}
	rec := hs.serve(req)
	if rec.Code != 200 || rec.Body.String() != "8237419874321" {
		t.Fatalf("status %d body %q", rec.Code, rec.Body.String())
	}
}

func TestNewCallbackHandlerChecksConfig(t *testing.T) {
	good := func() CallbackConfig {
		hs := newHarness(t, setA, nil)
		return hs.h.cfg
	}
	for name, edit := range map[string]func(*CallbackConfig){
		"no token":    func(c *CallbackConfig) { c.Token = "" },
		"short key":   func(c *CallbackConfig) { c.EncodingAESKey = c.EncodingAESKey[:42] },
		"no receiver": func(c *CallbackConfig) { c.ReceiveID = "" },
		"no sink":     func(c *CallbackConfig) { c.Sink = nil },
	} {
		cfg := good()
		edit(&cfg)
		if _, err := NewCallbackHandler(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

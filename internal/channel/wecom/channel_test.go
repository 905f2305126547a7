package wecom

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-operator/vigil/internal/channel/inbound"
	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/connector/connectortest"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

func TestChannelServesTheOfficialVector(t *testing.T) {
	reg := prometheus.NewRegistry()
	got, err := Factory(connector.ChannelParams{
		Account: "bank/app", ExternalID: setA.receiveID, StateDir: t.TempDir(), Logger: logr.Discard(), Registerer: reg,
		Credentials: map[string][]byte{cc.KeyCallbackToken: []byte(setA.token), cc.KeyEncodingAESKey: []byte(setA.aesKey)},
	})
	if err != nil {
		t.Fatal(err)
	}
	ch := got.(*Channel)
	ch.now = func() time.Time { return time.Unix(1409659813, 0) }
	if ch.WebhookPath() != Path || ch.Name() != ChannelName {
		t.Fatalf("path %q name %q", ch.WebhookPath(), ch.Name())
	}
	sink := &connectortest.Sink{}
	h := ch.WebhookHandler(sink)
	v := postVectors[0]
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, Path+"?msg_signature="+v.signature+"&timestamp="+v.timestamp+"&nonce="+v.nonce, strings.NewReader(v.body)))
	if rec.Code != 200 || len(sink.Records()) != 1 || sink.Records()[0].Channel != ChannelName {
		t.Fatalf("status %d, %d records", rec.Code, len(sink.Records()))
	}
	if n, _ := testutil.GatherAndCount(reg, MetricsPrefix+"_rejected_total"); n != len(inbound.CommonReasons)+len(Reasons) {
		t.Fatalf("%d rejected_total series, want every reason (%d) from the start", n, len(inbound.CommonReasons)+len(Reasons))
	}

	// Without corpSecret a kf event becomes a gap record and is counted,
	// and Run just waits for its context.
	kfReq, err := SignedCallback("http://c"+Path, setA.token, setA.aesKey, setA.receiveID, []byte(kfCallback("tok")), wxcrypt.FormatXML, ch.now())
	if err != nil {
		t.Fatal(err)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, kfReq)
	if rec.Code != http.StatusOK || testutil.ToFloat64(ch.metrics.Rejected.WithLabelValues(ReasonKfNotConfigured)) != 1 {
		t.Fatalf("kf without secret: %d", rec.Code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ch.Run(ctx, sink); err != nil {
		t.Fatal(err)
	}
}

package wecomarchive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigil-operator/vigil/internal/channel/wecomarchive"
	"github.com/vigil-operator/vigil/internal/channel/wecomarchive/fakesdk"
)

func TestBridgeRoundTrip(t *testing.T) {
	fake := newFake(t)
	addTexts(t, fake, "a", 3)
	data := media(wecomarchive.MediaChunkBytes+10, 4)
	fake.AddMedia("f1", data)
	srv := httptest.NewServer(wecomarchive.NewBridgeHandler(fake))
	defer srv.Close()
	b, err := wecomarchive.NewBridgeClient(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	direct, _ := fake.GetChatData(ctx, 1, 10)
	viaBridge, err := b.GetChatData(ctx, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(direct, viaBridge) {
		t.Fatal("GetChatData answer not passed verbatim")
	}
	cds, err := wecomarchive.ParseChatData(viaBridge)
	if err != nil || len(cds) != 2 || cds[0].Seq != 2 {
		t.Fatalf("cds %+v %v", cds, err)
	}

	c1, err := b.GetMediaData(ctx, "", "f1")
	if err != nil || c1.Finished || len(c1.Data) != wecomarchive.MediaChunkBytes || c1.OutIndexBuf == "" {
		t.Fatalf("chunk 1: %d bytes finished=%v %v", len(c1.Data), c1.Finished, err)
	}
	c2, err := b.GetMediaData(ctx, c1.OutIndexBuf, "f1")
	if err != nil || !c2.Finished || !bytes.Equal(append(c1.Data, c2.Data...), data) {
		t.Fatalf("chunk 2: %v", err)
	}

	// SDK codes survive the trip.
	fake.FailChatData(wecomarchive.SDKErrDataExpired, 1)
	if _, err := b.GetChatData(ctx, 0, 10); wecomarchive.SDKErrorCode(err) != wecomarchive.SDKErrDataExpired {
		t.Fatalf("10010 over the bridge: %v", err)
	}
	if _, err := b.GetMediaData(ctx, "", "nope"); wecomarchive.SDKErrorCode(err) != wecomarchive.SDKErrFileID {
		t.Fatalf("10005 over the bridge: %v", err)
	}
	if _, err := b.DecryptData([]byte("wrong-key"), "bm90IGEgcmVhbCBtZXNzYWdl"); wecomarchive.SDKErrorCode(err) != wecomarchive.SDKErrDecrypt {
		t.Fatalf("10006 over the bridge: %v", err)
	}
	if _, err := b.GetChatData(ctx, 0, 1001); wecomarchive.SDKErrorCode(err) != wecomarchive.SDKErrParams {
		t.Fatalf("limit over 1000: %v", err)
	}
}

func TestBridgeHandlerRefusesMalformed(t *testing.T) {
	h := wecomarchive.NewBridgeHandler(newFake(t))
	for path, body := range map[string]string{
		wecomarchive.BridgePathGetChatData:  `{"seq":0,"limit":0}`,
		wecomarchive.BridgePathDecryptData:  `{"encrypt_key":"!!notbase64","encrypt_msg":"x"}`,
		wecomarchive.BridgePathGetMediaData: `{"indexbuf":""}`,
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
		var e struct {
			SDKError int `json:"sdk_error"`
		}
		if rec.Code != http.StatusBadRequest || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.SDKError != wecomarchive.SDKErrParams {
			t.Errorf("%s: %d %s", path, rec.Code, rec.Body.String())
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, wecomarchive.BridgePathGetChatData, nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", rec.Code)
	}
}

func TestBridgeTransportErrorsAreRetryable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}))
	b, _ := wecomarchive.NewBridgeClient(srv.URL, nil)
	if _, err := b.GetChatData(context.Background(), 0, 10); !wecomarchive.IsRetryable(err) {
		t.Fatalf("502: %v", err)
	}
	srv.Close()
	if _, err := b.GetChatData(context.Background(), 0, 10); !wecomarchive.IsRetryable(err) {
		t.Fatalf("connection refused: %v", err)
	}
	if _, err := wecomarchive.NewBridgeClient("unix:///x", nil); err == nil {
		t.Fatal("non-http URL accepted")
	}
}

func TestFakeServerControl(t *testing.T) {
	fake := newFake(t)
	srv := httptest.NewServer(fakesdk.NewServer(fake))
	defer srv.Close()
	post(t, srv.URL+fakesdk.PathMessages, string(textMsg("x1", "a", "b", 1, "hi"))+"\n\n"+string(textMsg("x2", "a", "b", 2, "hi")))
	if fake.LastSeq() != 2 {
		t.Fatalf("lastSeq %d", fake.LastSeq())
	}
	res, err := http.Post(srv.URL+fakesdk.PathMessages, "", strings.NewReader(`{"no":"msgid"}`))
	if err != nil || res.StatusCode != http.StatusBadRequest {
		t.Fatalf("message without msgid: %v %v", res.Status, err)
	}
	_ = res.Body.Close()
	post(t, srv.URL+fakesdk.PathInject+"?op=chat&code=10001&times=1", "")
	if _, err := fake.GetChatData(context.Background(), 0, 10); wecomarchive.SDKErrorCode(err) != wecomarchive.SDKErrNetwork {
		t.Fatalf("injected: %v", err)
	}
	res, err = http.Post(srv.URL+fakesdk.PathInject+"?op=bogus", "", nil)
	if err != nil || res.StatusCode != http.StatusBadRequest {
		t.Fatalf("bogus op: %v", err)
	}
	_ = res.Body.Close()
}

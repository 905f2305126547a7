package qyapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/channel/wecom/qyapi"
	"github.com/vigil-operator/vigil/internal/channel/wecom/qyapi/qyapitest"
)

const (
	corpID = "wwcorp0001"
	secret = "archive-secret-DO-NOT-LEAK"
)

type permitResp struct {
	IDs []string `json:"ids"`
}

func TestTokenCachedAndSingleFlight(t *testing.T) {
	f := qyapitest.Start(t, corpID, secret)
	f.SetPermitUsers(1, "alice", "bob")
	c := qyapi.New(f.URL, corpID, secret, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r permitResp
			if err := c.Post(context.Background(), "/cgi-bin/msgaudit/get_permit_user_list", map[string]int{"type": 1}, &r); err != nil {
				errs <- err
				return
			}
			if len(r.IDs) != 2 {
				errs <- errors.New("wrong ids")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := f.TokensIssued(); n != 1 {
		t.Fatalf("tokens issued = %d, want 1", n)
	}
}

func TestRefreshOnExpiredToken(t *testing.T) {
	f := qyapitest.Start(t, corpID, secret)
	c := qyapi.New(f.URL, corpID, secret, nil)
	ctx := context.Background()
	var r permitResp
	if err := c.Post(ctx, "/cgi-bin/msgaudit/get_permit_user_list", map[string]int{"type": 1}, &r); err != nil {
		t.Fatal(err)
	}
	f.ExpireTokens()
	if err := c.Post(ctx, "/cgi-bin/msgaudit/get_permit_user_list", map[string]int{"type": 1}, &r); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if n := f.TokensIssued(); n != 2 {
		t.Fatalf("tokens issued = %d, want 2", n)
	}
}

func TestTokenErrorRetriedOnlyOnce(t *testing.T) {
	f := qyapitest.Start(t, corpID, secret)
	c := qyapi.New(f.URL, corpID, secret, nil)
	path := "/cgi-bin/msgaudit/get_permit_user_list"
	f.FailNext(path, qyapitest.CodeInvalidAccessToken, "invalid access_token")
	f.FailNext(path, qyapitest.CodeInvalidAccessToken, "invalid access_token")
	err := c.Post(context.Background(), path, map[string]int{"type": 1}, nil)
	var ae *qyapi.APIError
	if !errors.As(err, &ae) || ae.Code != qyapitest.CodeInvalidAccessToken {
		t.Fatalf("err = %v, want APIError 40014", err)
	}
	if n := f.Calls(path); n != 2 {
		t.Fatalf("calls = %d, want 2 (one retry)", n)
	}
	if !qyapi.IsTokenError(err) {
		t.Fatal("IsTokenError false")
	}
}

func TestAPIErrorIsReturned(t *testing.T) {
	f := qyapitest.Start(t, corpID, secret)
	c := qyapi.New(f.URL, corpID, secret, nil)
	err := c.Post(context.Background(), "/cgi-bin/msgaudit/groupchat/get", map[string]string{"roomid": "wrnope"}, nil)
	var ae *qyapi.APIError
	if !errors.As(err, &ae) || ae.Code != qyapitest.CodeInvalidParameter {
		t.Fatalf("err = %v", err)
	}
	if qyapi.IsTokenError(err) {
		t.Fatal("not a token error")
	}
}

func TestWrongSecretNeverLeaks(t *testing.T) {
	f := qyapitest.Start(t, corpID, secret)
	c := qyapi.New(f.URL, corpID, "wrong-"+secret, nil)
	err := c.Get(context.Background(), "/cgi-bin/whatever", nil, nil)
	var ae *qyapi.APIError
	if !errors.As(err, &ae) || ae.Code != qyapitest.CodeInvalidCredential {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("error leaks the secret: %v", err)
	}
}

func TestTransportErrorsHideTokenAndSecret(t *testing.T) {
	// A server that issues a token and then drops connections.
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cgi-bin/gettoken" {
			_, _ = w.Write([]byte(`{"errcode":0,"errmsg":"ok","access_token":"TOKEN-SENTINEL","expires_in":7200}`))
			return
		}
		n.Add(1)
		if r.URL.Path == "/status" {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		_ = conn.Close()
	}))
	defer srv.Close()
	c := qyapi.New(srv.URL, corpID, secret, nil)
	for _, p := range []string{"/drop", "/status"} {
		err := c.Get(context.Background(), p, url.Values{"x": {"1"}}, nil)
		if err == nil {
			t.Fatalf("%s: no error", p)
		}
		if s := err.Error(); strings.Contains(s, "TOKEN-SENTINEL") || strings.Contains(s, secret) {
			t.Fatalf("%s: error leaks credentials: %v", p, err)
		}
	}
	if n.Load() == 0 {
		t.Fatal("server not reached")
	}
}

func TestResponseSizeBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cgi-bin/gettoken" {
			_, _ = w.Write([]byte(`{"errcode":0,"access_token":"t","expires_in":7200}`))
			return
		}
		_, _ = w.Write([]byte(`{"errcode":0,"pad":"`))
		chunk := []byte(strings.Repeat("a", 1<<20))
		for range 17 {
			_, _ = w.Write(chunk)
		}
		_, _ = w.Write([]byte(`"}`))
	}))
	defer srv.Close()
	c := qyapi.New(srv.URL, corpID, secret, nil)
	err := c.Get(context.Background(), "/big", nil, &struct{}{})
	if err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("err = %v, want size error", err)
	}
}

func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	f := qyapitest.Start(t, corpID, secret)
	f.SetTokenTTL(2 * time.Second) // short lives are halved: refreshed after 1 s
	c := qyapi.New(f.URL, corpID, secret, nil)
	ctx := context.Background()
	if err := c.Get(ctx, "/cgi-bin/msgaudit/get_permit_user_list", nil, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if err := c.Post(ctx, "/cgi-bin/msgaudit/get_permit_user_list", map[string]int{}, nil); err != nil {
		t.Fatal(err)
	}
	if n := f.TokensIssued(); n != 2 {
		t.Fatalf("tokens issued = %d, want 2", n)
	}
}

func TestContextCancelled(t *testing.T) {
	f := qyapitest.Start(t, corpID, secret)
	c := qyapi.New(f.URL, corpID, secret, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Post(ctx, "/cgi-bin/msgaudit/get_permit_user_list", map[string]int{"type": 1}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

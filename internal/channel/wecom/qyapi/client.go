// Package qyapi is a small client for the WeCom server API
// (qyapi.weixin.qq.com): it fetches and caches the access_token for a corp id
// and secret, adds it to every call, and turns a non-zero errcode into an
// *APIError. Neither the secret nor the token ever appears in an error.
package qyapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultBaseURL is WeCom's public API endpoint.
const DefaultBaseURL = "https://qyapi.weixin.qq.com"

// MaxResponseBytes bounds every response body read.
const MaxResponseBytes = 16 << 20

// DefaultTimeout is the timeout of the HTTP client New builds when given nil.
const DefaultTimeout = 10 * time.Second

// tokenEarly is how long before its stated expiry a token is refreshed.
const tokenEarly = 5 * time.Minute

// Token error codes after which the token is refreshed and the call retried
// once: 40001 invalid credential, 40014 invalid access_token, 42001 expired.
const (
	CodeInvalidCredential  = 40001
	CodeInvalidAccessToken = 40014
	CodeTokenExpired       = 42001
)

// Client calls the WeCom server API for one corp id and secret. It is safe
// for concurrent use.
type Client struct {
	base   string
	corpID string
	secret string
	hc     *http.Client
	now    func() time.Time

	mu       sync.Mutex
	token    string
	expires  time.Time
	inflight *tokenCall
}

type tokenCall struct {
	done  chan struct{}
	token string
	err   error
}

// New builds a client. baseURL "" means DefaultBaseURL; hc nil means a
// client with DefaultTimeout.
func New(baseURL, corpID, secret string, hc *http.Client) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), corpID: corpID, secret: secret, hc: hc, now: time.Now}
}

// APIError is a response whose errcode is not 0.
type APIError struct {
	Code int
	Msg  string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wecom api errcode %d: %s", e.Code, sanitizeMsg(e.Msg))
}

// sanitizeMsg keeps vendor messages short and free of anything that looks
// like a query string (WeCom echoes hints, never the token, but be sure).
func sanitizeMsg(m string) string {
	if i := strings.Index(m, "access_token"); i >= 0 {
		m = m[:i] + "[redacted]"
	}
	if len(m) > 200 {
		m = m[:200] + "…"
	}
	return m
}

// IsTokenError reports whether err is an APIError saying the token is bad.
func IsTokenError(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.Code {
	case CodeInvalidCredential, CodeInvalidAccessToken, CodeTokenExpired:
		return true
	}
	return false
}

// Post sends req as JSON to path with the access token and decodes the
// answer into resp (which may be nil).
func (c *Client) Post(ctx context.Context, path string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("wecom %s: encode request: %w", path, err)
	}
	return c.call(ctx, http.MethodPost, path, nil, body, resp)
}

// Get calls path with query plus the access token and decodes the answer
// into resp (which may be nil).
func (c *Client) Get(ctx context.Context, path string, query url.Values, resp any) error {
	return c.call(ctx, http.MethodGet, path, query, nil, resp)
}

func (c *Client) call(ctx context.Context, method, path string, query url.Values, body []byte, resp any) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("wecom %s: %w", path, err)
	}
	for attempt := 0; ; attempt++ {
		tok, err := c.accessToken(ctx)
		if err != nil {
			return err
		}
		err = c.do(ctx, method, path, query, tok, body, resp)
		if attempt == 0 && IsTokenError(err) {
			c.invalidate(tok)
			continue
		}
		return err
	}
}

// envelope is the part every qyapi answer has.
type envelope struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

func (c *Client) do(ctx context.Context, method, path string, query url.Values, token string, body []byte, resp any) error {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("access_token", token)
	raw, err := c.roundTrip(ctx, method, path, q, body)
	if err != nil {
		return err
	}
	return decode(path, raw, resp)
}

// roundTrip performs one request and returns the bounded body. Errors name
// the path, never the query (which holds the token or secret).
func (c *Client) roundTrip(ctx context.Context, method, path string, q url.Values, body []byte) ([]byte, error) {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u := c.base + path + "?" + q.Encode()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("wecom %s: build request: %w", path, redact(err))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("wecom %s: %w", path, redact(err))
	}
	defer func() { _ = res.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(res.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("wecom %s: read response: %w", path, redact(err))
	}
	if len(raw) > MaxResponseBytes {
		return nil, fmt.Errorf("wecom %s: response exceeds %d bytes", path, MaxResponseBytes)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("wecom %s: HTTP %d", path, res.StatusCode)
	}
	return raw, nil
}

func decode(path string, raw []byte, resp any) error {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("wecom %s: response is not JSON: %w", path, err)
	}
	if env.ErrCode != 0 {
		return fmt.Errorf("wecom %s: %w", path, &APIError{Code: env.ErrCode, Msg: env.ErrMsg})
	}
	if resp != nil {
		if err := json.Unmarshal(raw, resp); err != nil {
			return fmt.Errorf("wecom %s: decode response: %w", path, err)
		}
	}
	return nil
}

// redact strips the URL (with its query) from transport errors.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

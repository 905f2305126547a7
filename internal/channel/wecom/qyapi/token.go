package qyapi

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"
)

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// accessToken returns the cached token or fetches a new one; concurrent
// callers share one fetch.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	if c.token != "" && c.now().Before(c.expires) {
		t := c.token
		c.mu.Unlock()
		return t, nil
	}
	call := c.inflight
	if call == nil {
		call = &tokenCall{done: make(chan struct{})}
		c.inflight = call
		go c.fetchToken(call)
	}
	c.mu.Unlock()
	select {
	case <-call.done:
		return call.token, call.err
	case <-ctx.Done():
		return "", fmt.Errorf("wecom gettoken: %w", ctx.Err())
	}
}

// fetchToken runs detached from any one caller's context so that a caller
// giving up does not fail the others; the HTTP client's timeout bounds it.
func (c *Client) fetchToken(call *tokenCall) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	tok, exp, err := c.getToken(ctx)
	c.mu.Lock()
	if err == nil {
		c.token, c.expires = tok, exp
	}
	c.inflight = nil
	c.mu.Unlock()
	call.token, call.err = tok, err
	close(call.done)
}

func (c *Client) getToken(ctx context.Context) (string, time.Time, error) {
	q := url.Values{"corpid": {c.corpID}, "corpsecret": {c.secret}}
	raw, err := c.roundTrip(ctx, "GET", "/cgi-bin/gettoken", q, nil)
	if err != nil {
		return "", time.Time{}, err
	}
	var tr tokenResponse
	if err := decode("/cgi-bin/gettoken", raw, &tr); err != nil {
		return "", time.Time{}, err
	}
	if tr.AccessToken == "" {
		return "", time.Time{}, errors.New("wecom /cgi-bin/gettoken: no access_token in response")
	}
	life := time.Duration(tr.ExpiresIn) * time.Second
	switch {
	case life <= 0:
		life = time.Minute
	case life > 2*tokenEarly:
		life -= tokenEarly
	default:
		life /= 2
	}
	return tr.AccessToken, c.now().Add(life), nil
}

// invalidate drops the cached token if it is still the one that failed.
func (c *Client) invalidate(bad string) {
	c.mu.Lock()
	if c.token == bad {
		c.token = ""
	}
	c.mu.Unlock()
}

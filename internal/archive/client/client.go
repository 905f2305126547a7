// Package client is the Go client of the archive API, used by the operator.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/api"
	"github.com/vigil-operator/vigil/internal/archive/store"
)

// maxAnswer bounds how much of an answer is read.
const maxAnswer = 64 << 20

// Client talks to one archive.
type Client struct {
	base      *url.URL
	tokenFile string
	token     string
	http      *http.Client
}

// Option configures a Client.
type Option func(*Client)

// WithToken sets a fixed bearer token instead of a token file.
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithHTTPClient replaces the default HTTP client.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// New builds a client. tokenFile, when set, is read on every request because
// the kubelet rotates projected tokens in place.
func New(baseURL, tokenFile string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("while parsing the archive URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("archive URL %q must be an absolute http or https URL", baseURL)
	}
	c := &Client{base: u, tokenFile: tokenFile, http: &http.Client{Timeout: 2 * time.Minute}}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Error is an error answer of the archive. It wraps store.ErrNotFound and
// store.ErrInvalid for 404 and 400, so callers test with errors.Is.
type Error struct {
	Status  int
	Reason  string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("archive answered %d %s: %s", e.Status, e.Reason, e.Message)
}

// Unwrap maps statuses to the store's errors.
func (e *Error) Unwrap() error {
	switch e.Status {
	case http.StatusNotFound:
		return store.ErrNotFound
	case http.StatusBadRequest:
		return store.ErrInvalid
	}
	return nil
}

func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	resp, err := c.send(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("while reading the archive's answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var eb api.ErrorBody
		if json.Unmarshal(data, &eb) != nil || eb.Reason == "" {
			eb = api.ErrorBody{Reason: "unknown", Error: strings.TrimSpace(string(data[:min(len(data), 512)]))}
		}
		return &Error{Status: resp.StatusCode, Reason: eb.Reason, Message: eb.Error}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("while decoding the archive's answer: %w", err)
		}
	}
	return nil
}

// send makes a request and returns the answer unread.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, body any) (*http.Response, error) {
	u := c.base.JoinPath(path)
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("while encoding the request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("while building the request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	token := c.token
	if c.tokenFile != "" {
		b, err := os.ReadFile(c.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("while reading the archive token: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("while calling the archive (%s %s): %w", method, path, err)
	}
	return resp, nil
}

// Export streams an eDiscovery export (a zip) into w and returns the SHA-256
// of its manifest, which the archive logged. An export cut short fails: what
// reached w then has no manifest and must be discarded.
func (c *Client) Export(ctx context.Context, req api.ExportRequest, w io.Writer) (string, error) {
	resp, err := c.send(ctx, http.MethodPost, "v1/exports", nil, req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var eb api.ErrorBody
		_ = json.Unmarshal(data, &eb)
		return "", &Error{Status: resp.StatusCode, Reason: eb.Reason, Message: eb.Error}
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return "", fmt.Errorf("while receiving the export: %w", err)
	}
	status := resp.Trailer.Get(api.ExportStatusTrailer)
	sha, ok := strings.CutPrefix(status, "ok ")
	if !ok {
		if status == "" {
			status = "the archive sent no status: the export was cut short"
		}
		return "", fmt.Errorf("the export failed: %s", status)
	}
	return sha, nil
}

func accountPath(prefix string, k store.AccountKey, suffix ...string) string {
	return strings.Join(append([]string{prefix, url.PathEscape(k.Namespace()), url.PathEscape(k.Name())}, suffix...), "/")
}

// Stats reads an account's statistics.
func (c *Client) Stats(ctx context.Context, account store.AccountKey) (store.AccountStats, error) {
	var st store.AccountStats
	err := c.do(ctx, http.MethodGet, accountPath("v1/accounts", account, "stats"), nil, nil, &st)
	return st, err
}

// Purge runs a purge.
func (c *Client) Purge(ctx context.Context, req store.PurgeRequest) (store.PurgeReport, error) {
	var rep store.PurgeReport
	err := c.do(ctx, http.MethodPost, "v1/purge", nil, req, &rep)
	return rep, err
}

// PutHold registers or updates a hold; its id is "namespace/name".
func (c *Client) PutHold(ctx context.Context, h store.Hold) (store.HoldStatus, error) {
	k, err := store.ParseAccountKey(h.ID)
	if err != nil {
		return store.HoldStatus{}, fmt.Errorf("hold id: %w", err)
	}
	var st store.HoldStatus
	err = c.do(ctx, http.MethodPut, accountPath("v1/holds", k), nil, h, &st)
	return st, err
}

// GetHold reads a hold.
func (c *Client) GetHold(ctx context.Context, id string) (store.HoldStatus, error) {
	k, err := store.ParseAccountKey(id)
	if err != nil {
		return store.HoldStatus{}, fmt.Errorf("hold id: %w", err)
	}
	var st store.HoldStatus
	err = c.do(ctx, http.MethodGet, accountPath("v1/holds", k), nil, nil, &st)
	return st, err
}

// ReleaseHold releases a hold. The archive records the caller as the actor;
// actor is accepted for the interface's sake and not sent.
func (c *Client) ReleaseHold(ctx context.Context, id, reason, _ string) (store.HoldStatus, error) {
	k, err := store.ParseAccountKey(id)
	if err != nil {
		return store.HoldStatus{}, fmt.Errorf("hold id: %w", err)
	}
	var st store.HoldStatus
	err = c.do(ctx, http.MethodDelete, accountPath("v1/holds", k), nil, api.ReleaseRequest{Reason: reason}, &st)
	return st, err
}

// List searches an account's records.
func (c *Client) List(ctx context.Context, q store.Query) (api.ListResponse, error) {
	v := url.Values{"account": {string(q.Account)}}
	if q.Text != "" {
		v.Set("q", q.Text)
	}
	if q.After != "" {
		v.Set("after", q.After)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.From != nil {
		v.Set("from", q.From.UTC().Format(time.RFC3339Nano))
	}
	if q.To != nil {
		v.Set("to", q.To.UTC().Format(time.RFC3339Nano))
	}
	for name, value := range map[string]string{"custodian": q.Custodian, "conversation": q.Conversation, "category": q.Category, "severity": q.MinSeverity} {
		if value != "" {
			v.Set(name, value)
		}
	}
	var out api.ListResponse
	err := c.do(ctx, http.MethodGet, "v1/records", v, nil, &out)
	return out, err
}

// Audit reads the audit trail after a sequence number.
func (c *Client) Audit(ctx context.Context, after int64, limit int) (api.AuditResponse, error) {
	var out api.AuditResponse
	err := c.do(ctx, http.MethodGet, "v1/audit", url.Values{"after": {strconv.FormatInt(after, 10)}, "limit": {strconv.Itoa(limit)}}, nil, &out)
	return out, err
}

// IsUnavailable reports whether err means the archive could not be reached or
// asked to retry, as opposed to refusing the request.
func IsUnavailable(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Status >= 500 || e.Status == http.StatusTooManyRequests
	}
	return err != nil
}

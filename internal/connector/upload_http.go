package connector

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
	"unicode"

	"github.com/vigil-operator/vigil/internal/capture"
)

const (
	// maxUploadResponse bounds how much of an archive answer is read.
	maxUploadResponse = 64 << 10
	// maxRejectMessage bounds the archive's explanation kept for logs.
	maxRejectMessage = 512
	maxRetryAfter    = 5 * time.Minute
)

// HTTPUploader implements Uploader over the archive's ingest API:
//
//	POST {ArchiveURL}/v1/records?account=<namespace>/<name>&custodian=<name>
//	Content-Type: application/x-ndjson; one capture.Envelope a line
//	Authorization: Bearer <projected ServiceAccount token>
//
// answered 200 {"inserted":n,"duplicates":m} once the batch is durable.
type HTTPUploader struct {
	endpoint  *url.URL
	tokenFile string
	client    *http.Client
	// Custodian is sent with every batch so the archive can apply holds by
	// custodian. It comes from the account's spec, through the ConfigMap the
	// operator renders, so the connector cannot choose it.
	Custodian string
}

// NewHTTPUploader builds an uploader. tokenFile may be empty (no
// Authorization header, for local development); otherwise it is read on every
// request, because the kubelet rotates projected tokens in place.
func NewHTTPUploader(archiveURL, tokenFile string, client *http.Client) (*HTTPUploader, error) {
	u, err := url.Parse(archiveURL)
	if err != nil {
		return nil, fmt.Errorf("while parsing archive URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("archive URL %q must be an absolute http or https URL", archiveURL)
	}
	u = u.JoinPath("v1", "records")
	if client == nil {
		client = &http.Client{Timeout: 60 * time.Second}
	}
	return &HTTPUploader{endpoint: u, tokenFile: tokenFile, client: client}, nil
}

// Upload implements Uploader.
func (u *HTTPUploader) Upload(ctx context.Context, account string, envs []capture.Envelope) (int, int, error) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	for i := range envs {
		if err := enc.Encode(&envs[i]); err != nil {
			return 0, 0, &RejectedError{Message: fmt.Sprintf("envelope %d cannot be encoded: %v", i, err)}
		}
	}
	target := *u.endpoint
	query := url.Values{"account": {account}}
	if u.Custodian != "" {
		query.Set("custodian", u.Custodian)
	}
	target.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), &body)
	if err != nil {
		return 0, 0, fmt.Errorf("while building upload request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	if u.tokenFile != "" {
		token, err := readToken(u.tokenFile)
		if err != nil {
			// The kubelet may be mid-rotation; this passes.
			return 0, 0, &RetryableError{Err: err}
		}
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return 0, 0, &RetryableError{Err: fmt.Errorf("while posting %d envelopes: %w", len(envs), err)}
	}
	defer resp.Body.Close()
	limited := io.LimitReader(resp.Body, maxUploadResponse)
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		inserted, duplicates, err := parseUploadResponse(limited)
		if err != nil {
			// The archive said yes but we cannot read how; sending again is
			// safe because it deduplicates.
			return 0, 0, &RetryableError{StatusCode: resp.StatusCode, Err: err}
		}
		return inserted, duplicates, nil
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		msg, _ := io.ReadAll(limited)
		return 0, 0, &RetryableError{
			StatusCode: resp.StatusCode,
			RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
			Err:        errors.New(cleanMessage(msg)),
		}
	case resp.StatusCode >= 400:
		msg, _ := io.ReadAll(limited)
		return 0, 0, &RejectedError{StatusCode: resp.StatusCode, Message: cleanMessage(msg)}
	default:
		return 0, 0, &RetryableError{StatusCode: resp.StatusCode, Err: fmt.Errorf("unexpected status %s", resp.Status)}
	}
}

func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("while reading the archive token file: %w", err)
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return "", errors.New("the archive token file is empty")
	}
	return token, nil
}

// uploadResponse is the archive's success answer.
type uploadResponse struct {
	Inserted   *int `json:"inserted"`
	Duplicates *int `json:"duplicates"`
}

// parseUploadResponse reads {"inserted":n,"duplicates":m}; both counts are
// required and must be non-negative.
func parseUploadResponse(r io.Reader) (inserted, duplicates int, err error) {
	var resp uploadResponse
	dec := json.NewDecoder(r)
	if err := dec.Decode(&resp); err != nil {
		return 0, 0, fmt.Errorf("while decoding the archive's answer: %w", err)
	}
	if resp.Inserted == nil || resp.Duplicates == nil {
		return 0, 0, errors.New("the archive's answer lacks inserted or duplicates")
	}
	if *resp.Inserted < 0 || *resp.Duplicates < 0 {
		return 0, 0, fmt.Errorf("the archive's answer has negative counts (%d, %d)", *resp.Inserted, *resp.Duplicates)
	}
	return *resp.Inserted, *resp.Duplicates, nil
}

// parseRetryAfter understands both forms of Retry-After (seconds or an HTTP
// date) and caps the result so a confused server cannot stall shipping.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		d = time.Duration(min(secs, int(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// cleanMessage keeps the start of an archive's error text, printable only, so
// it is safe to log.
func cleanMessage(b []byte) string {
	s := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, string(b))
	s = strings.TrimSpace(s)
	if len(s) > maxRejectMessage {
		s = s[:maxRejectMessage] + "..."
	}
	return s
}

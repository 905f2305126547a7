package connector

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
)

func envelopes(t *testing.T, n int) []capture.Envelope {
	t.Helper()
	sink, _, _ := newTestSink(t, 1<<20)
	recs := testRecords(0, n)
	for _, r := range recs {
		sink.stamp(r, time.Now())
	}
	out := make([]capture.Envelope, n)
	for i, r := range recs {
		out[i] = capture.Envelope{Record: r}
	}
	return out
}

func TestHTTPUploaderSendsTheWireContract(t *testing.T) {
	var gotAuth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/base/v1/records" || r.URL.Query().Get("account") != "team-a/alice" {
			t.Errorf("request %s %s", r.Method, r.URL)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
			t.Errorf("content type %q", ct)
		}
		gotAuth = append(gotAuth, r.Header.Get("Authorization"))
		n := 0
		err := capture.DecodeNDJSON(strings.NewReader(envelopeRecords(t, r.Body)), func(*capture.Record) error { n++; return nil })
		if err != nil || n != 2 {
			t.Errorf("body decoded %d records: %v", n, err)
		}
		w.Write([]byte(`{"inserted":1,"duplicates":1}`))
	}))
	defer srv.Close()
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte("first-token\n"), 0o600)
	up, err := NewHTTPUploader(srv.URL+"/base", tokenFile, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	envs := envelopes(t, 2)
	ins, dup, err := up.Upload(context.Background(), "team-a/alice", envs)
	if err != nil || ins != 1 || dup != 1 {
		t.Fatalf("Upload = %d, %d, %v", ins, dup, err)
	}
	// The kubelet rotates the token in place; the next request must use it.
	os.WriteFile(tokenFile, []byte("second-token"), 0o600)
	if _, _, err := up.Upload(context.Background(), "team-a/alice", envs); err != nil {
		t.Fatal(err)
	}
	if len(gotAuth) != 2 || gotAuth[0] != "Bearer first-token" || gotAuth[1] != "Bearer second-token" {
		t.Fatalf("Authorization headers %q", gotAuth)
	}
}

// envelopeRecords turns NDJSON envelopes into NDJSON records so the test can
// reuse capture's strict decoder on what was sent.
func envelopeRecords(t *testing.T, r io.Reader) string {
	b, _ := io.ReadAll(r)
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		rec, ok := strings.CutPrefix(line, `{"record":`)
		if !ok {
			t.Errorf("line is not an envelope: %.40q", line)
			continue
		}
		out = append(out, strings.TrimSuffix(rec, "}"))
	}
	return strings.Join(out, "\n")
}

func TestHTTPUploaderClassifiesFailures(t *testing.T) {
	tests := []struct {
		name           string
		status         int
		body           string
		retryAfter     string
		wantRejected   bool
		wantRetryAfter time.Duration
	}{
		{"bad request", 400, `{"error":"record 3 invalid"}`, "", true, 0},
		{"forbidden", 403, `wrong account`, "", true, 0},
		{"too large", 413, ``, "", true, 0},
		{"timeout", 408, ``, "", false, 0},
		{"throttled", 429, ``, "7", false, 7 * time.Second},
		{"server error", 500, `boom`, "", false, 0},
		{"unavailable", 503, ``, "120", false, 2 * time.Minute},
		{"ok without counts", 200, `{}`, "", false, 0},
		{"ok not json", 200, `yes`, "", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			up, _ := NewHTTPUploader(srv.URL, "", srv.Client())
			_, _, err := up.Upload(context.Background(), "a/b", envelopes(t, 1))
			if err == nil {
				t.Fatal("Upload succeeded")
			}
			if IsRejected(err) != tc.wantRejected {
				t.Fatalf("IsRejected(%v) = %v", err, !tc.wantRejected)
			}
			if got := retryAfter(err); got != tc.wantRetryAfter {
				t.Fatalf("retryAfter = %v, want %v", got, tc.wantRetryAfter)
			}
		})
	}
}

func TestHTTPUploaderNetworkAndTokenErrorsAreRetryable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	url := srv.URL
	srv.Close()
	up, _ := NewHTTPUploader(url, "", nil)
	if _, _, err := up.Upload(context.Background(), "a/b", envelopes(t, 1)); err == nil || IsRejected(err) {
		t.Fatalf("closed server: %v", err)
	}
	up, _ = NewHTTPUploader(url, filepath.Join(t.TempDir(), "missing"), nil)
	_, _, err := up.Upload(context.Background(), "a/b", envelopes(t, 1))
	var re *RetryableError
	if !errors.As(err, &re) {
		t.Fatalf("missing token: %v", err)
	}
}

func TestNewHTTPUploaderRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "archive:8080", "ftp://x", "http://"} {
		if _, err := NewHTTPUploader(u, "", nil); err == nil {
			t.Errorf("NewHTTPUploader(%q) accepted", u)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		"-3":                            0,
		"999999":                        maxRetryAfter,
		"soon":                          0,
		"Sun, 01 Mar 2026 00:00:30 GMT": 30 * time.Second,
		"Sat, 28 Feb 2026 00:00:30 GMT": 0,
	}
	for in, want := range tests {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

// FuzzParseUploadResponse: the archive's answer never panics the parser, and
// accepted answers have non-negative counts.
func FuzzParseUploadResponse(f *testing.F) {
	f.Add(`{"inserted":3,"duplicates":0}`)
	f.Add(`{"inserted":-1,"duplicates":0}`)
	f.Add(`{"inserted":1}`)
	f.Add(`{"inserted":1e400,"duplicates":0}`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, s string) {
		ins, dup, err := parseUploadResponse(strings.NewReader(s))
		if err == nil && (ins < 0 || dup < 0) {
			t.Fatalf("accepted negative counts %d %d from %q", ins, dup, s)
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	f.Add("5")
	f.Add("Sun, 01 Mar 2026 00:00:30 GMT")
	f.Add("99999999999999999999")
	f.Fuzz(func(t *testing.T, s string) {
		d := parseRetryAfter(s, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
		if d < 0 || d > maxRetryAfter {
			t.Fatalf("parseRetryAfter(%q) = %v out of [0, %v]", s, d, maxRetryAfter)
		}
	})
}

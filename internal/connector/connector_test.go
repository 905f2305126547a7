package connector_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-operator/vigil/internal/channel/webhook"
	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/connector/spool"
)

var secret = []byte("an-hmac-secret-of-at-least-32-bytes!")

// archiveStub speaks the archive's ingest contract and deduplicates.
type archiveStub struct {
	mu     sync.Mutex
	keys   map[string]bool
	status int // when non-zero, every request fails with it
}

func (a *archiveStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.status != 0 {
		w.WriteHeader(a.status)
		return
	}
	if r.URL.Path != "/v1/records" || r.URL.Query().Get("account") != "team-a/alice" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	ins, dup := 0, 0
	body, _ := io.ReadAll(r.Body)
	for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		key := line[strings.Index(line, `"dedupKey":"`)+12:][:64]
		if a.keys[key] {
			dup++
			continue
		}
		a.keys[key] = true
		ins++
	}
	fmt.Fprintf(w, `{"inserted":%d,"duplicates":%d}`, ins, dup)
}

func (a *archiveStub) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.keys)
}

func startConnector(t *testing.T, spoolDir, archiveURL string) (*connector.Connector, context.CancelFunc, chan error) {
	t.Helper()
	c, err := connector.New(connector.Config{
		Account: "team-a/alice", Channel: "webhook", ListenAddr: "127.0.0.1:0", SpoolDir: spoolDir,
		SpoolMaxBytes: 8 << 20, ArchiveURL: archiveURL, Custodian: "alice",
		Credentials: map[string][]byte{webhook.CredentialHMACSecret: secret}, Version: "test",
		ShutdownTimeout: 300 * time.Millisecond,
		Shipper:         connector.ShipperOptions{InitialBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond},
	}, connector.Deps{
		Factories: map[string]connector.ChannelFactory{"webhook": webhook.Factory},
		Registry:  prometheus.NewRegistry(),
		Logger:    logr.Discard(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	select {
	case <-c.Started():
	case err := <-done:
		t.Fatalf("connector stopped at start: %v", err)
	}
	return c, cancel, done
}

func postMessage(t *testing.T, addr, id string) int {
	t.Helper()
	body := []byte(`{"id":"` + id + `","conversation":{"id":"c1"},"sender":{"id":"u1","affiliation":"external"},"text":"佢哋唔係講笑","sentAt":"2026-03-01T09:00:00Z"}`)
	tsH, sigH := webhook.Sign(secret, time.Now(), body)
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+webhook.Path, bytes.NewReader(body))
	req.Header.Set(webhook.HeaderTimestamp, tsH)
	req.Header.Set(webhook.HeaderSignature, sigH)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestConnectorWebhookToArchive(t *testing.T) {
	archive := &archiveStub{keys: map[string]bool{}}
	srv := httptest.NewServer(archive)
	defer srv.Close()
	c, cancel, done := startConnector(t, t.TempDir(), srv.URL)
	addr := c.Addr().String()

	for i := 0; i < 5; i++ {
		if code := postMessage(t, addr, fmt.Sprintf("m%d", i)); code != http.StatusAccepted {
			t.Fatalf("webhook answered %d", code)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for archive.count() < 5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if archive.count() != 5 {
		t.Fatalf("archive holds %d records, want 5", archive.count())
	}
	if code, _ := get(t, "http://"+addr+"/healthz"); code != 200 {
		t.Fatalf("/healthz %d", code)
	}
	if code, _ := get(t, "http://"+addr+"/readyz"); code != 200 {
		t.Fatalf("/readyz %d", code)
	}
	// The archive answers before the shipper acknowledges the spool and
	// updates its gauges, so wait for the metrics to catch up.
	var metrics string
	deadline = time.Now().Add(5 * time.Second)
	for {
		_, metrics = get(t, "http://"+addr+"/metrics")
		if strings.Contains(metrics, "vigil_connector_spool_pending 0") || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, want := range []string{
		"vigil_connector_shipped_total 5", "vigil_connector_spool_pending 0",
		"vigil_connector_last_capture_timestamp_seconds", `vigil_connector_webhook_rejected_total{reason="replay"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestConnectorShutdownKeepsUnshippedRecords(t *testing.T) {
	archive := &archiveStub{keys: map[string]bool{}, status: http.StatusServiceUnavailable}
	srv := httptest.NewServer(archive)
	defer srv.Close()
	dir := t.TempDir()
	c, cancel, done := startConnector(t, dir, srv.URL)
	for i := 0; i < 3; i++ {
		if code := postMessage(t, c.Addr().String(), fmt.Sprintf("k%d", i)); code != http.StatusAccepted {
			t.Fatalf("webhook answered %d", code)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("shutdown did not finish")
	}
	sp, err := spool.Open(dir, spool.Options{MaxBytes: 8 << 20, Logger: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	b, _ := sp.Peek(100)
	if len(b.Envelopes) != 3 {
		t.Fatalf("%d records kept in the spool, want 3", len(b.Envelopes))
	}
	for _, e := range b.Envelopes {
		if err := e.Record.Validate(); err != nil || e.Record.Provenance.SigScheme != webhook.SigScheme {
			t.Fatalf("kept record invalid: %v", err)
		}
	}

	// The next start ships them once the archive is back.
	archive.mu.Lock()
	archive.status = 0
	archive.mu.Unlock()
	sp.Close()
	_, cancel2, done2 := startConnector(t, dir, srv.URL)
	deadline := time.Now().Add(5 * time.Second)
	for archive.count() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel2()
	<-done2
	if archive.count() != 3 {
		t.Fatalf("archive holds %d after restart, want 3", archive.count())
	}
}

func TestNewRejectsUnknownChannel(t *testing.T) {
	_, err := connector.New(connector.Config{
		Account: "a/b", Channel: "carrier-pigeon", ListenAddr: ":0", SpoolDir: t.TempDir(), SpoolMaxBytes: 8 << 20, ArchiveURL: "http://x",
	}, connector.Deps{Registry: prometheus.NewRegistry(), Logger: logr.Discard()})
	if err == nil || !strings.Contains(err.Error(), "carrier-pigeon") {
		t.Fatalf("New = %v", err)
	}
}

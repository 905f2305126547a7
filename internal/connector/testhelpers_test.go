package connector

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/connector/spool"
)

func testRecord(seq int) *capture.Record {
	return &capture.Record{
		Channel:      "test",
		NativeID:     strconv.Itoa(seq),
		Conversation: capture.Conversation{ID: "c"},
		Sender:       capture.Participant{ID: "s"},
		Text:         "你好 hello",
		SentAt:       time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
	}
}

func testRecords(from, n int) []*capture.Record {
	out := make([]*capture.Record, n)
	for i := range out {
		out[i] = testRecord(from + i)
	}
	return out
}

func openTestSpool(t *testing.T, maxBytes int64) *spool.Spool {
	t.Helper()
	sp, err := spool.Open(t.TempDir(), spool.Options{MaxBytes: maxBytes, Logger: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	return sp
}

func testMetrics(t *testing.T) *Metrics {
	t.Helper()
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// fakeUploader is an archive that deduplicates on dedupKey and can be told to
// fail: results are consumed one per call; when they run out it succeeds.
type fakeUploader struct {
	mu      sync.Mutex
	results []error
	stored  map[string]bool
	calls   int
	sizes   []int
	// rejectNative makes any batch containing this nativeID a 400.
	rejectNative string
}

func (f *fakeUploader) Upload(_ context.Context, _ string, envs []capture.Envelope) (int, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.sizes = append(f.sizes, len(envs))
	if len(f.results) > 0 {
		err := f.results[0]
		f.results = f.results[1:]
		if err != nil {
			return 0, 0, err
		}
	}
	for _, e := range envs {
		if f.rejectNative != "" && e.Record.NativeID == f.rejectNative {
			return 0, 0, &RejectedError{StatusCode: 400, Message: "bad record"}
		}
	}
	if f.stored == nil {
		f.stored = map[string]bool{}
	}
	ins, dup := 0, 0
	for _, e := range envs {
		if f.stored[e.Record.DedupKey] {
			dup++
			continue
		}
		f.stored[e.Record.DedupKey] = true
		ins++
	}
	return ins, dup, nil
}

func (f *fakeUploader) storedCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.stored)
}

package connector

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/connector/spool"
)

func newTestSink(t *testing.T, maxBytes int64) (*spoolSink, *spool.Spool, *int) {
	sp := openTestSpool(t, maxBytes)
	wakes := 0
	return &spoolSink{
		spool: sp, account: "team-a/alice", version: "v0.1.0", metrics: testMetrics(t), log: logr.Discard(),
		now: func() time.Time { return time.Date(2026, 3, 1, 0, 0, 1, 0, time.UTC) }, wake: func() { wakes++ },
	}, sp, &wakes
}

func TestSinkStampsValidatesAndSpools(t *testing.T) {
	sink, sp, wakes := newTestSink(t, 1<<20)
	recs := testRecords(0, 3)
	if err := sink.Capture(context.Background(), recs); err != nil {
		t.Fatalf("Capture: %v", err)
	}
	r := recs[0]
	if !capture.IsULID(r.ID) || r.CapturedAt.IsZero() || r.SchemaVersion != capture.SchemaVersion ||
		r.Kind != capture.KindMessage || r.Provenance.Connector != "team-a/alice" || r.Provenance.Version != "v0.1.0" {
		t.Fatalf("record not stamped: %+v", r)
	}
	if r.DedupKey != capture.DedupKey("test", "", "0", capture.KindMessage, "") {
		t.Fatalf("dedupKey not set")
	}
	b, _ := sp.Peek(10)
	if len(b.Envelopes) != 3 || b.Envelopes[2].Record.ID != recs[2].ID {
		t.Fatalf("spool holds %d envelopes", len(b.Envelopes))
	}
	if *wakes != 1 {
		t.Fatalf("shipper woken %d times", *wakes)
	}
	if got := testutil.ToFloat64(sink.metrics.LastCapture); got != float64(time.Date(2026, 3, 1, 0, 0, 1, 0, time.UTC).Unix()) {
		t.Fatalf("last capture gauge = %v", got)
	}
}

func TestSinkKeepsExistingStamps(t *testing.T) {
	sink, _, _ := newTestSink(t, 1<<20)
	r := testRecord(1)
	r.ID = capture.NewID(time.Now())
	r.CapturedAt = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	id := r.ID
	if err := sink.Capture(context.Background(), []*capture.Record{r}); err != nil {
		t.Fatal(err)
	}
	if r.ID != id || r.CapturedAt.Year() != 2025 {
		t.Fatalf("sink overwrote channel-provided fields")
	}
}

func TestSinkRefusesWholeBatch(t *testing.T) {
	tests := []struct {
		name     string
		maxBytes int64
		mutate   func([]*capture.Record) []*capture.Record
		wantErr  error
		reason   string
	}{
		{"invalid record", 1 << 20, func(r []*capture.Record) []*capture.Record { r[1].NativeID = ""; return r }, capture.ErrInvalid, "invalid"},
		{"nil record", 1 << 20, func(r []*capture.Record) []*capture.Record { r[1] = nil; return r }, capture.ErrInvalid, "invalid"},
		{"wrong dedup key", 1 << 20, func(r []*capture.Record) []*capture.Record { r[2].DedupKey = "abc"; return r }, capture.ErrInvalid, "invalid"},
		{"spool full", 600, func(r []*capture.Record) []*capture.Record { return r }, spool.ErrSpoolFull, "spool_full"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink, sp, wakes := newTestSink(t, tc.maxBytes)
			err := sink.Capture(context.Background(), tc.mutate(testRecords(0, 3)))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Capture error = %v, want %v", err, tc.wantErr)
			}
			if st := sp.Stats(); st.PendingRecords != 0 {
				t.Fatalf("refused batch left %d records in the spool", st.PendingRecords)
			}
			if *wakes != 0 {
				t.Fatalf("shipper woken for a refused batch")
			}
			if got := testutil.ToFloat64(sink.metrics.CaptureRefused.WithLabelValues(tc.reason)); got != 1 {
				t.Fatalf("refused{%s} = %v", tc.reason, got)
			}
		})
	}
}

func TestSinkRespectsCancelledContext(t *testing.T) {
	sink, _, _ := newTestSink(t, 1<<20)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sink.Capture(ctx, testRecords(0, 1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Capture on cancelled ctx = %v", err)
	}
}

package connector

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func newTestShipper(t *testing.T, up Uploader, batch int) (*Shipper, *spoolSink) {
	t.Helper()
	sink, sp, _ := newTestSink(t, 16<<20)
	sh := NewShipper(sp, up, "team-a/alice", ShipperOptions{BatchSize: batch, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, PollInterval: 10 * time.Millisecond}, sink.metrics, logr.Discard())
	sink.wake = sh.Wake
	return sh, sink
}

func TestShipperShipsInBatchesAndAcks(t *testing.T) {
	up := &fakeUploader{}
	sh, sink := newTestShipper(t, up, 4)
	if err := sink.Capture(context.Background(), testRecords(0, 10)); err != nil {
		t.Fatal(err)
	}
	if err := sh.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if up.storedCount() != 10 || len(up.sizes) != 3 || up.sizes[0] != 4 || up.sizes[2] != 2 {
		t.Fatalf("stored %d in batches %v", up.storedCount(), up.sizes)
	}
	if st := sh.spool.Stats(); st.PendingRecords != 0 {
		t.Fatalf("%d records still pending", st.PendingRecords)
	}
	if got := testutil.ToFloat64(sh.metrics.Shipped); got != 10 {
		t.Fatalf("shipped_total = %v", got)
	}
	if got := testutil.ToFloat64(sh.metrics.SpoolPending); got != 0 {
		t.Fatalf("spool_pending = %v", got)
	}
}

func TestShipperRetriesTransientFailures(t *testing.T) {
	up := &fakeUploader{results: []error{
		&RetryableError{StatusCode: 503, Err: errors.New("busy")},
		&RetryableError{Err: errors.New("connection refused")},
	}}
	sh, sink := newTestShipper(t, up, 100)
	sink.Capture(context.Background(), testRecords(0, 5))
	n, err := sh.ShipOnce(context.Background())
	if err != nil || n != 5 {
		t.Fatalf("ShipOnce = %d, %v", n, err)
	}
	if up.calls != 3 || up.storedCount() != 5 {
		t.Fatalf("calls %d stored %d", up.calls, up.storedCount())
	}
	if got := testutil.ToFloat64(sh.metrics.ShipErrors.WithLabelValues("retryable")); got != 2 {
		t.Fatalf("ship_errors{retryable} = %v", got)
	}
}

func TestShipperDeadLettersOnlyTheBadRecord(t *testing.T) {
	up := &fakeUploader{rejectNative: "5"}
	sh, sink := newTestShipper(t, up, 100)
	sink.Capture(context.Background(), testRecords(0, 8))
	if err := sh.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if up.storedCount() != 7 {
		t.Fatalf("stored %d good records, want 7", up.storedCount())
	}
	if got := testutil.ToFloat64(sh.metrics.DeadLetter); got != 1 {
		t.Fatalf("dead_letter_total = %v, want 1", got)
	}
	files, _ := os.ReadDir(filepath.Join(sh.spool.Dir(), DeadLetterDir))
	if len(files) != 1 {
		t.Fatalf("%d dead-letter files", len(files))
	}
	if st := sh.spool.Stats(); st.PendingRecords != 0 {
		t.Fatalf("%d records pending after dead-lettering", st.PendingRecords)
	}
}

func TestShipperKeepsBatchWhenStopped(t *testing.T) {
	up := &fakeUploader{results: []error{&RetryableError{Err: errors.New("down")}, &RetryableError{Err: errors.New("down")}}}
	sh, sink := newTestShipper(t, up, 100)
	sh.opts.MaxBackoff = time.Hour
	sh.backoff = newBackoff(time.Hour, time.Hour, 1)
	sink.Capture(context.Background(), testRecords(0, 3))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := sh.Flush(ctx); err == nil {
		t.Fatalf("Flush reported success with the archive down")
	}
	if st := sh.spool.Stats(); st.PendingRecords != 3 {
		t.Fatalf("%d pending, want all 3 kept", st.PendingRecords)
	}
}

// TestShipperRedeliveryIsDeduplicated simulates a kill between the archive's
// answer and the spool Ack: the batch is shipped again and the archive's
// deduplication keeps exactly one copy.
func TestShipperRedeliveryIsDeduplicated(t *testing.T) {
	up := &fakeUploader{}
	sh, sink := newTestShipper(t, up, 100)
	sink.Capture(context.Background(), testRecords(0, 4))
	b, _ := sh.spool.Peek(100)
	if _, _, err := up.Upload(context.Background(), "team-a/alice", b.Envelopes); err != nil {
		t.Fatal(err)
	}
	// No Ack happened; the next run ships the same records again.
	if err := sh.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if up.storedCount() != 4 {
		t.Fatalf("archive holds %d records, want 4", up.storedCount())
	}
	if got := testutil.ToFloat64(sh.metrics.ArchiveDuplicates); got != 4 {
		t.Fatalf("duplicates_total = %v, want 4", got)
	}
}

func TestShipperRunWakesOnCapture(t *testing.T) {
	up := &fakeUploader{}
	sh, sink := newTestShipper(t, up, 100)
	sh.opts.PollInterval = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sh.Run(ctx) }()
	sink.Capture(context.Background(), testRecords(0, 2))
	deadline := time.Now().Add(5 * time.Second)
	for up.storedCount() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if up.storedCount() != 2 {
		t.Fatalf("shipper did not wake: %d stored", up.storedCount())
	}
}

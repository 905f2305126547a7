package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/capture"
)

// testEnvelope builds a valid envelope whose nativeID carries seq, so tests can
// tell records apart after a round trip through the disk.
func testEnvelope(seq int) capture.Envelope {
	now := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	r := &capture.Record{
		SchemaVersion: capture.SchemaVersion,
		ID:            capture.NewID(now),
		Channel:       "test",
		NativeID:      strconv.Itoa(seq),
		Kind:          capture.KindMessage,
		Conversation:  capture.Conversation{ID: "room-1"},
		Sender:        capture.Participant{ID: "alice"},
		Text:          "我哋今日开会 meeting at 3pm",
		SentAt:        now,
		CapturedAt:    now,
	}
	r.SetDedupKey()
	return capture.Envelope{Record: r}
}

func testEnvelopes(from, n int) []capture.Envelope {
	out := make([]capture.Envelope, n)
	for i := range out {
		out[i] = testEnvelope(from + i)
	}
	return out
}

func seqs(t *testing.T, envs []capture.Envelope) []int {
	t.Helper()
	out := make([]int, len(envs))
	for i, e := range envs {
		n, err := strconv.Atoi(e.Record.NativeID)
		if err != nil {
			t.Fatalf("envelope %d has nativeID %q", i, e.Record.NativeID)
		}
		out[i] = n
	}
	return out
}

func wantSeqs(t *testing.T, envs []capture.Envelope, from, n int) {
	t.Helper()
	got := seqs(t, envs)
	if len(got) != n {
		t.Fatalf("got %d envelopes %v, want %d from %d", len(got), got, n, from)
	}
	for i, s := range got {
		if s != from+i {
			t.Fatalf("envelope %d is seq %d, want %d (all: %v)", i, s, from+i, got)
		}
	}
}

func openTest(t *testing.T, dir string, opts Options) *Spool {
	t.Helper()
	if opts.MaxBytes == 0 {
		opts.MaxBytes = 64 << 20
	}
	opts.Logger = logr.Discard()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestAppendPeekAckReopen(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	if _, err := s.Append(testEnvelopes(0, 5)); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if _, err := s.Append(testEnvelopes(5, 5)); err != nil {
		t.Fatalf("Append: %v", err)
	}
	b, err := s.Peek(3)
	if err != nil {
		t.Fatalf("Peek: %v", err)
	}
	wantSeqs(t, b.Envelopes, 0, 3)
	again, _ := s.Peek(3)
	if again.End != b.End {
		t.Fatalf("Peek without Ack moved: %v then %v", b.End, again.End)
	}
	if err := s.Ack(b.End); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	if got := s.Stats().PendingRecords; got != 7 {
		t.Fatalf("pending = %d, want 7", got)
	}
	s.Close()

	s2 := openTest(t, dir, Options{})
	if got := s2.Stats().PendingRecords; got != 7 {
		t.Fatalf("pending after reopen = %d, want 7", got)
	}
	b2, err := s2.Peek(100)
	if err != nil {
		t.Fatalf("Peek after reopen: %v", err)
	}
	wantSeqs(t, b2.Envelopes, 3, 7)
	if b2.Envelopes[0].Record.Text != "我哋今日开会 meeting at 3pm" {
		t.Fatalf("text changed on disk: %q", b2.Envelopes[0].Record.Text)
	}
	if err := s2.Ack(b2.End); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	if b3, _ := s2.Peek(100); len(b3.Envelopes) != 0 {
		t.Fatalf("acknowledged records returned again: %v", seqs(t, b3.Envelopes))
	}
}

func TestAckRejectsBadPositions(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	first, err := s.Append(testEnvelopes(0, 2))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(testEnvelopes(2, 2)); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(first); err != nil {
		t.Fatalf("Ack(first): %v", err)
	}
	tests := []struct {
		name string
		pos  Position
	}{
		{"before cursor", Position{Segment: first.Segment, Offset: 0}},
		{"mid frame", Position{Segment: first.Segment, Offset: first.Offset + 3}},
		{"past end", Position{Segment: first.Segment, Offset: first.Offset * 10}},
		{"unknown segment", Position{Segment: first.Segment + 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Ack(tc.pos); !errors.Is(err, ErrBadPosition) {
				t.Fatalf("Ack(%v) error = %v, want ErrBadPosition", tc.pos, err)
			}
		})
	}
	if got := s.Stats().PendingRecords; got != 2 {
		t.Fatalf("pending = %d after rejected acks, want 2", got)
	}
}

func TestSpoolFullRefusesAndRecovers(t *testing.T) {
	one := appendFrame(nil, flagEndOfBatch, mustJSON(t, testEnvelope(0)))
	s := openTest(t, t.TempDir(), Options{MaxBytes: int64(len(one)) * 5, SegmentBytes: 1 << 20})
	for i := 0; i < 4; i++ {
		if _, err := s.Append(testEnvelopes(i, 1)); err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
	}
	if _, err := s.Append(testEnvelopes(4, 2)); !errors.Is(err, ErrSpoolFull) {
		t.Fatalf("Append over bound error = %v, want ErrSpoolFull", err)
	}
	// Nothing of the refused batch may be in the spool.
	b, _ := s.Peek(100)
	wantSeqs(t, b.Envelopes, 0, 4)
	// Acknowledging everything frees space (the segment is rolled and deleted).
	if err := s.Ack(b.End); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	if _, err := s.Append(testEnvelopes(4, 2)); err != nil {
		t.Fatalf("Append after drain: %v", err)
	}
}

func TestSegmentsRollAndAreDeleted(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{MaxBytes: 64 << 20, SegmentBytes: 2048})
	for i := 0; i < 40; i++ {
		if _, err := s.Append(testEnvelopes(i*2, 2)); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	ids, _ := listSegments(dir)
	if len(ids) < 5 {
		t.Fatalf("expected several segments, got %d", len(ids))
	}
	next := 0
	for {
		b, err := s.Peek(7)
		if err != nil {
			t.Fatalf("Peek: %v", err)
		}
		if len(b.Envelopes) == 0 {
			break
		}
		wantSeqs(t, b.Envelopes, next, len(b.Envelopes))
		next += len(b.Envelopes)
		if err := s.Ack(b.End); err != nil {
			t.Fatalf("Ack: %v", err)
		}
	}
	if next != 80 {
		t.Fatalf("drained %d records, want 80", next)
	}
	ids, _ = listSegments(dir)
	if len(ids) != 1 {
		t.Fatalf("%d segments remain after draining, want 1", len(ids))
	}
	if st := s.Stats(); st.PendingRecords != 0 || st.DiskBytes != 0 {
		t.Fatalf("stats after drain = %+v", st)
	}
}

func TestOpenTruncatesTornTail(t *testing.T) {
	tests := []struct {
		name string
		tail []byte
	}{
		{"half a frame", appendFrame(nil, flagEndOfBatch, mustJSON(t, testEnvelope(99)))[:20]},
		{"batch without end", appendFrame(nil, 0, mustJSON(t, testEnvelope(99)))},
		{"zeros", make([]byte, 4096)},
		{"corrupt frame", func() []byte {
			b := appendFrame(nil, flagEndOfBatch, mustJSON(t, testEnvelope(99)))
			b[len(b)-3] ^= 0xff
			return b
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openTest(t, dir, Options{})
			end, err := s.Append(testEnvelopes(0, 3))
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			f, err := os.OpenFile(filepath.Join(dir, segmentName(end.Segment)), os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(tc.tail)
			f.Close()

			s2 := openTest(t, dir, Options{})
			if got := s2.Recovered().TruncatedBytes; got != int64(len(tc.tail)) {
				t.Fatalf("truncated %d bytes, want %d", got, len(tc.tail))
			}
			if _, err := s2.Append(testEnvelopes(3, 1)); err != nil {
				t.Fatalf("Append after recovery: %v", err)
			}
			b, _ := s2.Peek(100)
			wantSeqs(t, b.Envelopes, 0, 4)
		})
	}
}

func TestCorruptCursorFallsBackToOldestSegment(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	first, _ := s.Append(testEnvelopes(0, 2))
	s.Append(testEnvelopes(2, 2))
	if err := s.Ack(first); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.WriteFile(filepath.Join(dir, cursorFileName), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	s2 := openTest(t, dir, Options{})
	if !s2.Recovered().CursorReset {
		t.Fatalf("CursorReset not reported")
	}
	// At-least-once: re-sending acknowledged records is safe (the archive
	// deduplicates), losing unacknowledged ones is not.
	b, _ := s2.Peek(100)
	wantSeqs(t, b.Envelopes, 0, 4)
}

func TestClosedSpoolRefuses(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	s.Close()
	if _, err := s.Append(testEnvelopes(0, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close = %v", err)
	}
	if _, err := s.Peek(1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Peek after Close = %v", err)
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	if _, err := Open(t.TempDir(), Options{}); err == nil {
		t.Fatalf("Open with MaxBytes 0 succeeded")
	}
}

func mustJSON(t testing.TB, e capture.Envelope) []byte {
	t.Helper()
	b, err := jsonMarshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonMarshal(e capture.Envelope) ([]byte, error) {
	b, err := marshalEnvelope(&e)
	if err != nil {
		return nil, fmt.Errorf("while marshalling test envelope: %w", err)
	}
	return b, nil
}

package wecomarchive_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/channel/wecomarchive"
	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/connector/connectortest"
)

// crashSink keeps every batch but reports failure for the ones marked, as
// a connector that fsynced the spool and died before the channel saw nil.
type crashSink struct {
	inner connectortest.Sink
	mu    sync.Mutex
	fail  bool
}

func (s *crashSink) Capture(ctx context.Context, recs []*capture.Record) error {
	if err := s.inner.Capture(ctx, recs); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		s.fail = false
		return errors.New("crash after fsync")
	}
	return nil
}

var _ connector.Sink = (*crashSink)(nil)

func TestCursorSurvivesRestart(t *testing.T) {
	fake := newFake(t)
	addTexts(t, fake, "a", 25)
	dir := t.TempDir()
	ctx := context.Background()
	opts := testOptions(fake)
	sink := &crashSink{}

	ch, err := wecomarchive.NewWithOptions(params(t, dir, 1), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := wecomarchive.PullAll(ch, ctx, sink); err != nil {
		t.Fatal(err)
	}
	if ch.Cursor() != 25 {
		t.Fatalf("cursor %d", ch.Cursor())
	}
	// More traffic; the next batch is spooled but the process "crashes"
	// before the cursor moves.
	addTexts(t, fake, "b", 10)
	sink.fail = true
	if err := wecomarchive.PullAll(ch, ctx, sink); err == nil {
		t.Fatal("crash not reported")
	}
	if ch.Cursor() != 25 {
		t.Fatalf("cursor moved to %d without an accepted batch", ch.Cursor())
	}
	addTexts(t, fake, "c", 5)

	// Restart from the state directory.
	ch2, err := wecomarchive.NewWithOptions(params(t, dir, 1), opts)
	if err != nil {
		t.Fatal(err)
	}
	if ch2.Cursor() != 25 {
		t.Fatalf("restarted cursor %d, want 25", ch2.Cursor())
	}
	if err := wecomarchive.PullAll(ch2, ctx, sink); err != nil {
		t.Fatal(err)
	}
	if ch2.Cursor() != 40 {
		t.Fatalf("cursor %d, want 40", ch2.Cursor())
	}
	// Every message is there; the only repeats are the re-pulled batch,
	// with the same dedupKeys, which the archive stores once.
	count := map[string]int{}
	keys := map[string]string{}
	for _, r := range sink.inner.Records() {
		if r.Kind == capture.KindSystem {
			continue
		}
		count[r.NativeID]++
		if k, ok := keys[r.NativeID]; ok && k != r.DedupKey {
			t.Fatalf("%s re-pulled with another dedupKey", r.NativeID)
		}
		keys[r.NativeID] = r.DedupKey
	}
	if len(count) != 40 {
		t.Fatalf("%d distinct messages, want 40", len(count))
	}
	for id, n := range count {
		want := 1
		if strings.HasPrefix(id, "b-") {
			want = 2
		}
		if n != want {
			t.Errorf("%s captured %d times, want %d", id, n, want)
		}
	}
}

func TestSeqGapAndDuplicates(t *testing.T) {
	fake := newFake(t)
	addTexts(t, fake, "a", 3) // seqs 1..3
	ctx := context.Background()
	ch, err := wecomarchive.NewWithOptions(params(t, t.TempDir(), 1), testOptions(fake))
	if err != nil {
		t.Fatal(err)
	}
	sink := &connectortest.Sink{}
	if err := wecomarchive.PullAll(ch, ctx, sink); err != nil {
		t.Fatal(err)
	}
	fake.SkipSeqs(4)          // seqs 4..7 never exist
	addTexts(t, fake, "b", 2) // seqs 8, 9
	fake.DuplicateNext()
	if err := wecomarchive.PullAll(ch, ctx, sink); err != nil {
		t.Fatal(err)
	}
	recs := sink.Records()
	gaps := byType(recs, wecomarchive.MsgTypeGap)
	if len(gaps) != 1 {
		t.Fatalf("%d gap records, want 1", len(gaps))
	}
	g := gaps[0]
	if g.Kind != capture.KindSystem || g.NativeID != "archive_gap:seq:4-7" || g.Provenance.Cursor != "3" || !strings.Contains(g.Text, "4 to 7 (4 messages)") {
		t.Fatalf("gap record %+v", g)
	}
	if n := countMessages(recs); n != 5 {
		t.Fatalf("%d messages, want 5 (the duplicate dropped)", n)
	}
	if ch.Cursor() != 9 {
		t.Fatalf("cursor %d", ch.Cursor())
	}
}

func TestDataExpiredGap(t *testing.T) {
	fake := newFake(t)
	addTexts(t, fake, "a", 2)
	ctx := context.Background()
	ch, err := wecomarchive.NewWithOptions(params(t, t.TempDir(), 1), testOptions(fake))
	if err != nil {
		t.Fatal(err)
	}
	sink := &connectortest.Sink{}
	if err := wecomarchive.PullAll(ch, ctx, sink); err != nil {
		t.Fatal(err)
	}
	addTexts(t, fake, "b", 3) // seqs 3..5, expire before the next pull
	addTexts(t, fake, "c", 1) // seq 6 survives
	fake.ExpireThrough(5)
	fake.FailChatData(wecomarchive.SDKErrDataExpired, 2)
	for range 2 {
		err := wecomarchive.PullAll(ch, ctx, sink)
		if wecomarchive.SDKErrorCode(err) != wecomarchive.SDKErrDataExpired {
			t.Fatalf("err = %v", err)
		}
	}
	if err := wecomarchive.PullAll(ch, ctx, sink); err != nil {
		t.Fatal(err)
	}
	gaps := byType(sink.Records(), wecomarchive.MsgTypeGap)
	if len(gaps) != 2 {
		t.Fatalf("%d gap records, want 2 (expired once, then the seq hole)", len(gaps))
	}
	if gaps[0].NativeID != "archive_gap:expired:2" || !strings.Contains(gaps[0].Text, "10010") {
		t.Fatalf("expired gap %+v", gaps[0])
	}
	if gaps[1].NativeID != "archive_gap:seq:3-5" {
		t.Fatalf("seq gap %+v", gaps[1])
	}
	if ch.Cursor() != 6 {
		t.Fatalf("cursor %d", ch.Cursor())
	}
}

func TestTransientErrorThenCheckpoint(t *testing.T) {
	fake := newFake(t)
	addTexts(t, fake, "a", 2)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	opts := testOptions(fake)
	opts.Now = func() time.Time { return now }
	ch, err := wecomarchive.NewWithOptions(params(t, t.TempDir(), 1), opts)
	if err != nil {
		t.Fatal(err)
	}
	sink := &connectortest.Sink{}
	ctx := context.Background()
	fake.FailChatData(wecomarchive.SDKErrNetwork, 1)
	if err := wecomarchive.PullAll(ch, ctx, sink); !wecomarchive.IsRetryable(err) {
		t.Fatalf("err = %v, want retryable", err)
	}
	if err := wecomarchive.PullAll(ch, ctx, sink); err != nil {
		t.Fatal(err)
	}
	now = now.Add(10 * time.Minute)
	if err := wecomarchive.PullAll(ch, ctx, sink); err != nil { // quiet: no new checkpoint yet
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	if err := wecomarchive.PullAll(ch, ctx, sink); err != nil {
		t.Fatal(err)
	}
	cps := byType(sink.Records(), wecomarchive.MsgTypeCheckpoint)
	if len(cps) != 2 {
		t.Fatalf("%d checkpoints, want 2", len(cps))
	}
	if cps[0].Provenance.Cursor != "2" || cps[0].Kind != capture.KindSystem || cps[0].NativeID == cps[1].NativeID {
		t.Fatalf("checkpoints %+v %+v", cps[0], cps[1])
	}
}

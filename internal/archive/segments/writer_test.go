package segments_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/segments"
)

var (
	may2033 = keys.Bucket{Year: 2033, Month: time.May}
	alice   = segments.Group{Account: "desk/alice", Bucket: may2033, KeyID: "dek-a"}
)

// recorder collects OnSeal events.
type recorder struct {
	mu     sync.Mutex
	sealed []segments.Sealed
	fail   int // fail this many calls first
}

func (r *recorder) onSeal(_ context.Context, s segments.Sealed) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail > 0 {
		r.fail--
		return errors.New("index database unavailable")
	}
	r.sealed = append(r.sealed, s)
	return nil
}

func (r *recorder) byID() map[ulid.ULID]segments.Sealed {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[ulid.ULID]segments.Sealed{}
	for _, s := range r.sealed {
		m[s.Header.ID] = s
	}
	return m
}

type appended struct {
	group segments.Group
	ref   segments.Ref
	blob  []byte
}

// checkReadable reads every appended record back through its Ref and checks
// its segment belongs to the record's group.
func checkReadable(t *testing.T, b segments.Backend, rec *recorder, records []appended) {
	t.Helper()
	sealed := rec.byID()
	for i, a := range records {
		s, ok := sealed[a.ref.Segment]
		if !ok {
			t.Fatalf("record %d: segment %s was never reported sealed", i, a.ref.Segment)
		}
		if s.Header.Account != a.group.Account || s.Header.Bucket != a.group.Bucket || s.Header.KeyID != a.group.KeyID {
			t.Fatalf("record %d of group %+v landed in segment %+v", i, a.group, s.Header)
		}
		got, err := segments.ReadRecord(t.Context(), b, a.ref, s.VersionID)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !bytes.Equal(got, a.blob) {
			t.Fatalf("record %d reads back other bytes", i)
		}
	}
}

func blob(i, n int) []byte {
	b := bytes.Repeat([]byte{byte(i)}, n)
	copy(b, fmt.Sprintf("record %d|", i))
	return b
}

func TestWriterGroupsRecords(t *testing.T) {
	fs := newFS(t)
	rec := &recorder{}
	w, err := segments.NewWriter(fs, segments.WriterOptions{OnSeal: rec.onSeal})
	if err != nil {
		t.Fatal(err)
	}
	groups := []segments.Group{
		alice,
		{Account: "desk/alice", Bucket: may2033.Next(), KeyID: "dek-b"},
		{Account: "desk/bob", Bucket: may2033, KeyID: "dek-c"},
	}
	var records []appended
	for i := range 300 {
		g := groups[i%len(groups)]
		ref, err := w.Append(t.Context(), g, blob(i, 100))
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, appended{g, ref, blob(i, 100)})
	}
	if len(rec.sealed) != 0 {
		t.Fatalf("%d segments sealed before they were full or old", len(rec.sealed))
	}
	if err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(rec.sealed) != len(groups) {
		t.Fatalf("%d segments for %d groups; want one each", len(rec.sealed), len(groups))
	}
	for _, s := range rec.sealed {
		if len(s.Entries) != 100 || !s.Lock.RetainUntil.Equal(s.Header.Bucket.End()) {
			t.Fatalf("segment %s: %d records retained until %s; want 100 until %s", s.Key, len(s.Entries), s.Lock.RetainUntil, s.Header.Bucket.End())
		}
	}
	checkReadable(t, fs, rec, records)
	if w.Buffered() != 0 {
		t.Fatalf("%d bytes buffered after Flush", w.Buffered())
	}
}

func TestWriterSealsAtTargetSize(t *testing.T) {
	fs := newFS(t)
	rec := &recorder{}
	const target = 16 << 10
	w, err := segments.NewWriter(fs, segments.WriterOptions{TargetSize: target, OnSeal: rec.onSeal})
	if err != nil {
		t.Fatal(err)
	}
	var records []appended
	for i := range 100 {
		ref, err := w.Append(t.Context(), alice, blob(i, 1000))
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, appended{alice, ref, blob(i, 1000)})
	}
	// A blob larger than the target gets a segment of its own.
	big := blob(100, 3*target)
	ref, err := w.Append(t.Context(), alice, big)
	if err != nil {
		t.Fatal(err)
	}
	records = append(records, appended{alice, ref, big})
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(rec.sealed) < 7 {
		t.Fatalf("%d segments for 100 KB at a 16 KiB target", len(rec.sealed))
	}
	// All but the last two are full: the big blob sealed a partial one.
	for _, s := range rec.sealed[:len(rec.sealed)-2] {
		if s.Size > target || s.Size < target-2*(1000+segments.IndexEntrySize+segments.FrameOverhead) {
			t.Fatalf("segment %s is %d bytes; want just under %d", s.Key, s.Size, target)
		}
	}
	if last := rec.sealed[len(rec.sealed)-1]; len(last.Entries) != 1 || last.Entries[0].Length != len(big) {
		t.Fatalf("the oversized blob shares segment %s with %d records", last.Key, len(last.Entries)-1)
	}
	checkReadable(t, fs, rec, records)
	if _, err := w.Append(t.Context(), alice, []byte("late")); err == nil {
		t.Fatal("Append after Close succeeded")
	}
}

func TestWriterSealsAtMaxAge(t *testing.T) {
	fs := newFS(t)
	rec := &recorder{}
	now := time.Now()
	clock := func() time.Time { return now }
	w, err := segments.NewWriter(fs, segments.WriterOptions{MaxAge: time.Minute, OnSeal: rec.onSeal, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	bob := segments.Group{Account: "desk/bob", Bucket: may2033, KeyID: "dek-b"}
	if _, err := w.Append(t.Context(), alice, []byte("a1")); err != nil {
		t.Fatal(err)
	}
	now = now.Add(30 * time.Second)
	if _, err := w.Append(t.Context(), bob, []byte("b1")); err != nil {
		t.Fatal(err)
	}
	if err := w.SealDue(t.Context()); err != nil || len(rec.sealed) != 0 {
		t.Fatalf("SealDue at 30s sealed %d segments (%v); want none", len(rec.sealed), err)
	}
	now = now.Add(31 * time.Second)
	if err := w.SealDue(t.Context()); err != nil || len(rec.sealed) != 1 || rec.sealed[0].Header.Account != "desk/alice" {
		t.Fatalf("SealDue at 61s sealed %+v (%v); want alice's segment only", rec.sealed, err)
	}
	// An Append to a group whose segment has aged seals it first.
	now = now.Add(31 * time.Second)
	ref, err := w.Append(t.Context(), bob, []byte("b2"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.sealed) != 2 || rec.sealed[1].Header.Account != "desk/bob" || len(rec.sealed[1].Entries) != 1 || ref.Segment == rec.sealed[1].Header.ID {
		t.Fatalf("after bob's segment aged, sealed = %+v and b2 went to %s", rec.sealed, ref.Segment)
	}
}

// faulty wraps a real backend and fails Puts: failPuts fail before storing
// anything, losePuts store and then report an error (a lost response).
type faulty struct {
	segments.Backend
	mu                 sync.Mutex
	failPuts, losePuts int
}

func (f *faulty) Put(ctx context.Context, key string, body io.Reader, size int64, lock segments.Lock) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failPuts > 0 {
		f.failPuts--
		return "", errors.New("storage unavailable")
	}
	v, err := f.Backend.Put(ctx, key, body, size, lock)
	if err == nil && f.losePuts > 0 {
		f.losePuts--
		return "", errors.New("connection reset after the upload")
	}
	return v, err
}

func TestWriterRetriesAndAdoptsLostUploads(t *testing.T) {
	fs := newFS(t)
	store := &faulty{Backend: fs, failPuts: 1, losePuts: 1}
	rec := &recorder{fail: 1}
	w, err := segments.NewWriter(store, segments.WriterOptions{OnSeal: rec.onSeal})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := w.Append(t.Context(), alice, []byte("must not be lost"))
	if err != nil {
		t.Fatal(err)
	}
	records := []appended{{alice, ref, []byte("must not be lost")}}
	// 1: the Put fails; 2: it is stored but the answer is lost; 3: it is
	// found stored and adopted, but recording it fails; 4: recorded.
	for attempt := 1; attempt <= 3; attempt++ {
		if err := w.Flush(t.Context()); err == nil {
			t.Fatalf("flush %d succeeded despite the injected failure", attempt)
		}
	}
	if err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(rec.sealed) != 1 {
		t.Fatalf("%d segments recorded; want 1", len(rec.sealed))
	}
	checkReadable(t, fs, rec, records)
	var n int
	for _, err := range fs.List(t.Context(), segments.KeyPrefix) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 {
		t.Fatalf("%d objects stored; retries must not store the segment twice", n)
	}
}

func TestWriterBackpressure(t *testing.T) {
	fs := newFS(t)
	store := &faulty{Backend: fs, failPuts: 1 << 30}
	rec := &recorder{}
	const target = 8 << 10
	w, err := segments.NewWriter(store, segments.WriterOptions{TargetSize: target, MaxBuffered: 4 * target, OnSeal: rec.onSeal})
	if err != nil {
		t.Fatal(err)
	}
	var records []appended
	var full error
	for i := range 1000 {
		ref, err := w.Append(t.Context(), alice, blob(i, 500))
		if err != nil {
			full = err
			break
		}
		records = append(records, appended{alice, ref, blob(i, 500)})
	}
	if !errors.Is(full, segments.ErrBufferFull) {
		t.Fatalf("appending while storage fails: %v; want ErrBufferFull", full)
	}
	if got := w.Buffered(); got > 4*target {
		t.Fatalf("%d bytes buffered; MaxBuffered is %d", got, 4*target)
	}
	store.mu.Lock()
	store.failPuts = 0
	store.mu.Unlock()
	if err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	checkReadable(t, fs, rec, records)
}

func TestWriterMirrorsHoldsAndFloorsRetention(t *testing.T) {
	fs := newFS(t)
	rec := &recorder{}
	w, err := segments.NewWriter(fs, segments.WriterOptions{
		OnSeal: rec.onSeal,
		LegalHold: func(_ context.Context, g segments.Group) (bool, error) {
			return g.Account == "desk/alice", nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	// A bucket that has already ended: its records are past retention, but
	// storage refuses a retain-until in the past, so the segment is kept a
	// little longer rather than not at all.
	expired := segments.Group{Account: "desk/bob", Bucket: keys.Bucket{Year: 2020, Month: time.January}, KeyID: "dek-old"}
	for _, g := range []segments.Group{alice, expired} {
		if _, err := w.Append(t.Context(), g, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, s := range rec.sealed {
		info, err := fs.Stat(t.Context(), s.Key, s.VersionID)
		if err != nil {
			t.Fatal(err)
		}
		switch s.Header.Account {
		case "desk/alice":
			if !info.LegalHold || !s.Lock.LegalHold {
				t.Fatalf("held account's segment stored without a hold: %+v", info)
			}
		case "desk/bob":
			if info.LegalHold || info.RetainUntil.Before(start.Add(time.Minute-time.Second)) || info.RetainUntil.After(time.Now().Add(time.Minute+time.Second)) {
				t.Fatalf("expired bucket's segment: %+v; want no hold, retained about a minute", info)
			}
		}
	}
}

func TestWriterRefuses(t *testing.T) {
	fs := newFS(t)
	if _, err := segments.NewWriter(nil, segments.WriterOptions{}); !errors.Is(err, segments.ErrInvalid) {
		t.Fatalf("no backend: %v", err)
	}
	if _, err := segments.NewWriter(fs, segments.WriterOptions{TargetSize: 100}); !errors.Is(err, segments.ErrInvalid) {
		t.Fatalf("tiny target: %v", err)
	}
	w, err := segments.NewWriter(fs, segments.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for name, g := range map[string]segments.Group{
		"no account": {Bucket: may2033, KeyID: "k"},
		"no bucket":  {Account: "a/b", KeyID: "k"},
		"no key":     {Account: "a/b", Bucket: may2033},
	} {
		if _, err := w.Append(t.Context(), g, []byte("x")); !errors.Is(err, segments.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := w.Append(t.Context(), alice, nil); !errors.Is(err, segments.ErrInvalid) {
		t.Fatalf("empty blob: %v", err)
	}
}

func TestWriterConcurrentAppends(t *testing.T) {
	fs := newFS(t)
	rec := &recorder{}
	w, err := segments.NewWriter(fs, segments.WriterOptions{TargetSize: 32 << 10, OnSeal: rec.onSeal})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var records []appended
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			group := segments.Group{Account: fmt.Sprintf("desk/u%d", g%2), Bucket: may2033, KeyID: "dek"}
			for i := range 200 {
				b := blob(g*1000+i, 300)
				ref, err := w.Append(t.Context(), group, b)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				records = append(records, appended{group, ref, b})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	checkReadable(t, fs, rec, records)
}

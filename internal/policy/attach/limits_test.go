package attach

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestDefaultLimits(t *testing.T) {
	d := DefaultLimits()
	if d.MaxDepth != 3 || d.MaxEntries != 10000 || d.MaxTotalBytes != 256<<20 || d.MaxRatio != 100 || d.MaxInspectBytes != 64<<20 {
		t.Errorf("DefaultLimits() = %+v", d)
	}
	if got := (Limits{}).normalized(); got != d {
		t.Errorf("zero Limits normalized to %+v, want defaults", got)
	}
	got := Limits{MaxDepth: 1, MaxRatio: -5}.normalized()
	if got.MaxDepth != 1 || got.MaxRatio != 100 || got.MaxEntries != 10000 {
		t.Errorf("partial Limits normalized to %+v", got)
	}
}

func newBudget(l Limits) *budget { return &budget{lim: l.normalized()} }

func TestLimitReaderTotal(t *testing.T) {
	for _, tc := range []struct {
		name     string
		n        int64
		wantBomb bool
	}{
		{"below", 999, false},
		{"exactly at the limit", 1000, false},
		{"one past", 1001, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBudget(Limits{MaxTotalBytes: 1000})
			n, err := io.Copy(io.Discard, b.limit(&zeroReader{n: tc.n}, 1<<30))
			if got := errors.Is(err, errBomb); got != tc.wantBomb {
				t.Fatalf("err = %v, want bomb %v", err, tc.wantBomb)
			}
			if n > 1000 || b.total > 1000 {
				t.Errorf("let through %d (total %d), limit 1000", n, b.total)
			}
		})
	}
}

func TestLimitReaderRatio(t *testing.T) {
	// 1000 compressed bytes at 100:1 allow 100,000 bytes, but the first MiB
	// is always allowed.
	b := newBudget(Limits{MaxRatio: 100})
	if _, err := io.Copy(io.Discard, b.limit(&zeroReader{n: ratioGrace}, 1000)); err != nil {
		t.Fatalf("a member within the grace must pass: %v", err)
	}
	b = newBudget(Limits{MaxRatio: 100})
	if _, err := io.Copy(io.Discard, b.limit(&zeroReader{n: ratioGrace + 1}, 1000)); !errors.Is(err, errBomb) {
		t.Fatalf("past grace and ratio: err = %v, want bomb", err)
	}
	b = newBudget(Limits{MaxRatio: 100})
	if _, err := io.Copy(io.Discard, b.limit(&zeroReader{n: 4 << 20}, 1<<20)); err != nil {
		t.Fatalf("4:1 must pass: %v", err)
	}
	b = newBudget(Limits{MaxRatio: 100})
	b.stop = true
	if _, err := b.limit(&zeroReader{n: 1}, 1).Read(make([]byte, 1)); !errors.Is(err, errBomb) {
		t.Fatalf("after a bomb nothing more is decompressed: %v", err)
	}
}

type failingReaderAt struct{ err error }

func (f failingReaderAt) ReadAt([]byte, int64) (int, error) { return 0, f.err }

func TestBudgetReaderAt(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 200)
	b := newBudget(Limits{MaxInspectBytes: 100})
	g := &budgetReaderAt{r: bytes.NewReader(data), size: 200, b: b}
	p := make([]byte, 60)
	if n, err := g.ReadAt(p, 0); n != 60 || err != nil {
		t.Fatalf("first read: %d, %v", n, err)
	}
	if n, err := g.ReadAt(p, 60); n != 40 || !errors.Is(err, errBudget) || !b.exhausted {
		t.Fatalf("second read: %d, %v (exhausted %v), want 40 and the budget error", n, err, b.exhausted)
	}
	if n, err := g.ReadAt(p, 0); n != 0 || !errors.Is(err, errBudget) {
		t.Fatalf("third read: %d, %v", n, err)
	}
	if b.read != 100 {
		t.Errorf("read %d bytes, budget 100", b.read)
	}

	b = newBudget(Limits{})
	g = &budgetReaderAt{r: bytes.NewReader(data), size: 200, b: b}
	if n, err := g.ReadAt(p, 180); n != 20 || err != io.EOF {
		t.Errorf("read across the end: %d, %v", n, err)
	}
	if _, err := g.ReadAt(p, 200); err != io.EOF {
		t.Errorf("read at the end: %v", err)
	}
	if _, err := g.ReadAt(p, -1); err == nil {
		t.Error("negative offset accepted")
	}

	// The caller said 300 bytes; the reader has 200.
	b = newBudget(Limits{})
	g = &budgetReaderAt{r: bytes.NewReader(data), size: 300, b: b}
	if _, err := g.ReadAt(p, 180); !errors.Is(err, io.ErrUnexpectedEOF) || !b.truncated {
		t.Errorf("short reader: %v, truncated %v", err, b.truncated)
	}

	boom := errors.New("storage unavailable")
	b = newBudget(Limits{})
	g = &budgetReaderAt{r: failingReaderAt{boom}, size: 300, b: b}
	if _, err := g.ReadAt(p, 0); !errors.Is(err, boom) || !errors.Is(b.ioErr, boom) {
		t.Errorf("storage error: %v, recorded %v", err, b.ioErr)
	}
}

func TestCapReaderAt(t *testing.T) {
	c := &capReaderAt{r: bytes.NewReader(make([]byte, 100)), left: 50}
	p := make([]byte, 40)
	if _, err := c.ReadAt(p, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadAt(p, 40); !errors.Is(err, errCap) || !c.hit {
		t.Fatalf("over the cap: %v", err)
	}
	c.lift()
	if _, err := c.ReadAt(p, 40); err != nil {
		t.Fatalf("after lift: %v", err)
	}
}

func TestBudgetEntriesAndDepth(t *testing.T) {
	b := newBudget(Limits{MaxEntries: 2, MaxDepth: 2})
	var r Report
	if !b.takeEntry(&r) || !b.takeEntry(&r) || b.takeEntry(&r) {
		t.Error("entry budget of 2 not enforced")
	}
	if !r.Bomb || !r.Partial || !b.stop {
		t.Errorf("entries limit: %+v stop=%v", r, b.stop)
	}
	r = Report{}
	if !b.depthOK(&r, 2) || b.depthOK(&r, 3) || !r.Bomb {
		t.Errorf("depth: %+v", r)
	}
}

// Package backendtest is the conformance suite every segments.Backend
// passes: the same calls, the same refusals, whether the storage enforces
// retention itself (S3 Object Lock) or the backend's code does (FS).
package backendtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/segments"
)

// Factory returns an empty backend for one test.
type Factory func(t *testing.T) segments.Backend

// ShortRetention is how long the suite's expiring objects are retained. The
// tests that wait for it run in parallel, so the suite takes about this
// long plus the storage's own time.
const ShortRetention = 3 * time.Second

// Run runs the suite. Subtests run in parallel.
func Run(t *testing.T, open Factory) {
	tests := map[string]func(*testing.T, segments.Backend){
		"put then get, range, stat and list":                     testRoundTrip,
		"a second put to a key is refused":                       testNoOverwrite,
		"delete before retain-until is refused":                  testDeleteBeforeRetention,
		"retention can be extended, never shortened":             testRetentionOnlyGrows,
		"a legal hold blocks delete after retention until off":   testLegalHoldFromPut,
		"a hold placed later blocks delete; released it expires": testLegalHoldPlacedLater,
		"missing objects and versions are not found":             testNotFound,
		"invalid requests are refused":                           testInvalid,
		"segments round trip through the writer":                 testSegmentRoundTrip,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, open(t))
		})
	}
}

// key returns a key of the test's own.
func key(name string) string {
	return fmt.Sprintf("conformance/%s/%s.bin", ulid.Make(), name)
}

func payload(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func put(t *testing.T, b segments.Backend, k string, body []byte, lock segments.Lock) string {
	t.Helper()
	v, err := b.Put(t.Context(), k, bytes.NewReader(body), int64(len(body)), lock)
	if err != nil {
		t.Fatalf("Put %s: %v", k, err)
	}
	if v == "" {
		t.Fatalf("Put %s returned no version id", k)
	}
	return v
}

func mustRead(t *testing.T, b segments.Backend, k, version string, want []byte) {
	t.Helper()
	r, err := b.Get(t.Context(), k, version)
	if err != nil {
		t.Fatalf("Get %s: %v", k, err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading %s: %v", k, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get %s returned %d bytes that differ from the %d stored", k, len(got), len(want))
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v; want %v", what, err, target)
	}
}

// waitUntil sleeps past t (plus a second: storage compares whole seconds).
func waitUntil(ctx context.Context, t time.Time) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Until(t) + time.Second):
	}
}

func testRoundTrip(t *testing.T, b segments.Backend) {
	ctx := t.Context()
	k := key("round-trip")
	body := payload(t, 100_000)
	until := time.Now().Add(time.Hour).Truncate(time.Second).Add(300 * time.Millisecond)
	v := put(t, b, k, body, segments.Lock{RetainUntil: until})
	mustRead(t, b, k, v, body)
	mustRead(t, b, k, "", body)

	for _, r := range []struct{ off, n int64 }{{0, 1}, {0, 100_000}, {12_345, 678}, {99_999, 1}} {
		got, err := b.GetRange(ctx, k, v, r.off, r.n)
		if err != nil {
			t.Fatalf("GetRange(%d, %d): %v", r.off, r.n, err)
		}
		if !bytes.Equal(got, body[r.off:r.off+r.n]) {
			t.Fatalf("GetRange(%d, %d) returned other bytes", r.off, r.n)
		}
	}
	for _, r := range []struct{ off, n int64 }{{99_999, 2}, {100_000, 1}, {-1, 5}, {0, 0}} {
		_, err := b.GetRange(ctx, k, v, r.off, r.n)
		wantErr(t, fmt.Sprintf("GetRange(%d, %d) of a 100000-byte object", r.off, r.n), err, segments.ErrInvalid)
	}

	info, err := b.Stat(ctx, k, v)
	if err != nil {
		t.Fatal(err)
	}
	// Retain-until is kept to the second, rounded up.
	wantUntil := until.Truncate(time.Second).Add(time.Second)
	if info.Key != k || info.VersionID != v || info.Size != int64(len(body)) || !info.RetainUntil.Equal(wantUntil) || info.LegalHold {
		t.Fatalf("Stat = %+v; want key %s version %s size %d retained until %s, no hold", info, k, v, len(body), wantUntil)
	}

	var listed []segments.ObjectInfo
	for oi, err := range b.List(ctx, "conformance/") {
		if err != nil {
			t.Fatal(err)
		}
		if oi.Key == k {
			listed = append(listed, oi)
		}
	}
	if len(listed) != 1 || listed[0].VersionID != v || listed[0].Size != int64(len(body)) {
		t.Fatalf("List found %+v; want one version %s of %d bytes", listed, v, len(body))
	}
	for oi, err := range b.List(ctx, "elsewhere/") {
		if err != nil {
			t.Fatal(err)
		}
		t.Fatalf("List of another prefix found %s", oi.Key)
	}
}

func testNoOverwrite(t *testing.T, b segments.Backend) {
	k := key("no-overwrite")
	first := payload(t, 1000)
	v := put(t, b, k, first, segments.Lock{RetainUntil: time.Now().Add(time.Hour)})
	second := payload(t, 1000)
	_, err := b.Put(t.Context(), k, bytes.NewReader(second), int64(len(second)), segments.Lock{RetainUntil: time.Now().Add(time.Hour)})
	wantErr(t, "a second Put to the key", err, segments.ErrExists)
	mustRead(t, b, k, v, first)
	mustRead(t, b, k, "", first)
}

func testDeleteBeforeRetention(t *testing.T, b segments.Backend) {
	k := key("retained")
	body := payload(t, 1000)
	v := put(t, b, k, body, segments.Lock{RetainUntil: time.Now().Add(time.Hour)})
	wantErr(t, "Delete before retain-until", b.Delete(t.Context(), k, v), segments.ErrLocked)
	mustRead(t, b, k, v, body)
}

func testRetentionOnlyGrows(t *testing.T, b segments.Backend) {
	ctx := t.Context()
	k := key("retention")
	until := time.Now().Add(time.Hour).Truncate(time.Second)
	v := put(t, b, k, payload(t, 10), segments.Lock{RetainUntil: until})

	wantErr(t, "shortening the retention", b.ExtendRetention(ctx, k, v, until.Add(-30*time.Minute)), segments.ErrLocked)
	if info, err := b.Stat(ctx, k, v); err != nil || !info.RetainUntil.Equal(until) {
		t.Fatalf("after a refused shortening Stat = %+v, %v; want retained until %s", info, err, until)
	}
	later := until.Add(24 * time.Hour)
	if err := b.ExtendRetention(ctx, k, v, later); err != nil {
		t.Fatalf("extending the retention: %v", err)
	}
	if info, err := b.Stat(ctx, k, v); err != nil || !info.RetainUntil.Equal(later) {
		t.Fatalf("after extending Stat = %+v, %v; want retained until %s", info, err, later)
	}
	wantErr(t, "shortening back", b.ExtendRetention(ctx, k, v, until), segments.ErrLocked)
	wantErr(t, "Delete while retained", b.Delete(ctx, k, v), segments.ErrLocked)
}

func testLegalHoldFromPut(t *testing.T, b segments.Backend) {
	ctx := t.Context()
	k := key("held")
	body := payload(t, 1000)
	until := time.Now().Add(ShortRetention)
	v := put(t, b, k, body, segments.Lock{RetainUntil: until, LegalHold: true})
	if info, err := b.Stat(ctx, k, v); err != nil || !info.LegalHold {
		t.Fatalf("Stat = %+v, %v; want a legal hold", info, err)
	}
	waitUntil(ctx, until)
	wantErr(t, "Delete after retention with the hold on", b.Delete(ctx, k, v), segments.ErrLocked)
	mustRead(t, b, k, v, body)

	if err := b.SetLegalHold(ctx, k, v, false); err != nil {
		t.Fatalf("releasing the hold: %v", err)
	}
	if err := b.Delete(ctx, k, v); err != nil {
		t.Fatalf("Delete after retention with the hold off: %v", err)
	}
	_, err := b.Get(ctx, k, v)
	wantErr(t, "Get after Delete", err, segments.ErrNotFound)
	for oi, err := range b.List(ctx, k) {
		if err != nil {
			t.Fatal(err)
		}
		t.Fatalf("List still finds %s version %s after Delete", oi.Key, oi.VersionID)
	}
}

func testLegalHoldPlacedLater(t *testing.T, b segments.Backend) {
	ctx := t.Context()
	k := key("held-later")
	until := time.Now().Add(ShortRetention)
	v := put(t, b, k, payload(t, 10), segments.Lock{RetainUntil: until})
	if err := b.SetLegalHold(ctx, k, v, true); err != nil {
		t.Fatalf("placing a hold: %v", err)
	}
	if info, err := b.Stat(ctx, k, v); err != nil || !info.LegalHold {
		t.Fatalf("Stat = %+v, %v; want a legal hold", info, err)
	}
	waitUntil(ctx, until)
	wantErr(t, "Delete after retention with the hold on", b.Delete(ctx, k, v), segments.ErrLocked)
	if err := b.SetLegalHold(ctx, k, v, false); err != nil {
		t.Fatalf("releasing the hold: %v", err)
	}
	if info, err := b.Stat(ctx, k, v); err != nil || info.LegalHold {
		t.Fatalf("Stat = %+v, %v; want no legal hold", info, err)
	}
	if err := b.Delete(ctx, k, v); err != nil {
		t.Fatalf("Delete after retention with the hold off: %v", err)
	}
}

func testNotFound(t *testing.T, b segments.Backend) {
	ctx := t.Context()
	missing := key("missing")
	_, err := b.Get(ctx, missing, "")
	wantErr(t, "Get of a missing key", err, segments.ErrNotFound)
	_, err = b.GetRange(ctx, missing, "", 0, 1)
	wantErr(t, "GetRange of a missing key", err, segments.ErrNotFound)
	_, err = b.Stat(ctx, missing, "")
	wantErr(t, "Stat of a missing key", err, segments.ErrNotFound)

	k := key("present")
	v := put(t, b, k, payload(t, 10), segments.Lock{RetainUntil: time.Now().Add(time.Hour)})
	// Another backend's version id format is as good as any for a version
	// this key does not have.
	other := put(t, b, key("other"), payload(t, 10), segments.Lock{RetainUntil: time.Now().Add(time.Hour)})
	if other == v {
		t.Fatalf("two objects got the same version id %s", v)
	}
	_, err = b.Stat(ctx, k, other)
	wantErr(t, "Stat of a version the key does not have", err, segments.ErrNotFound)
	wantErr(t, "Delete of a version the key does not have", b.Delete(ctx, k, other), segments.ErrNotFound)
	wantErr(t, "Delete of a missing key", b.Delete(ctx, missing, v), segments.ErrNotFound)
}

func testInvalid(t *testing.T, b segments.Backend) {
	ctx := t.Context()
	body := payload(t, 10)
	future := segments.Lock{RetainUntil: time.Now().Add(time.Hour)}
	for _, k := range []string{"", "../escape", "a//b", "a/./b", "/abs", "a/.hidden", "sp ace"} {
		_, err := b.Put(ctx, k, bytes.NewReader(body), int64(len(body)), future)
		wantErr(t, fmt.Sprintf("Put to key %q", k), err, segments.ErrInvalid)
	}
	_, err := b.Put(ctx, key("past"), bytes.NewReader(body), int64(len(body)), segments.Lock{RetainUntil: time.Now().Add(-time.Minute)})
	wantErr(t, "Put with a past retain-until", err, segments.ErrInvalid)

	k := key("versionless")
	put(t, b, k, body, future)
	wantErr(t, "Delete without a version id", b.Delete(ctx, k, ""), segments.ErrInvalid)
}

func testSegmentRoundTrip(t *testing.T, b segments.Backend) {
	ctx := t.Context()
	var sealed []segments.Sealed
	w, err := segments.NewWriter(b, segments.WriterOptions{
		TargetSize: 64 << 10,
		OnSeal: func(_ context.Context, s segments.Sealed) error {
			sealed = append(sealed, s)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	account := "conformance/" + ulid.Make().String()
	month := keys.BucketOf(time.Now().AddDate(0, 2, 0))
	groups := []segments.Group{
		{Account: account, Bucket: month, KeyID: "dek-1"},
		{Account: account, Bucket: month.Next(), KeyID: "dek-2"},
	}
	type stored struct {
		ref  segments.Ref
		blob []byte
	}
	var records []stored
	for i := range 300 {
		blob := payload(t, 200+i*7)
		ref, err := w.Append(ctx, groups[i%2], blob)
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, stored{ref, blob})
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	versions := map[ulid.ULID]segments.Sealed{}
	for _, s := range sealed {
		versions[s.Header.ID] = s
		if !s.Lock.RetainUntil.Equal(s.Header.Bucket.End()) {
			t.Errorf("segment %s retained until %s; want its bucket's end %s", s.Key, s.Lock.RetainUntil, s.Header.Bucket.End())
		}
	}
	if len(sealed) < 4 {
		t.Fatalf("%d segments for 300 records of ~1.2 KiB at a 64 KiB target; want several per group", len(sealed))
	}
	for i, r := range records {
		s, ok := versions[r.ref.Segment]
		if !ok {
			t.Fatalf("record %d is in segment %s, which was never reported sealed", i, r.ref.Segment)
		}
		got, err := segments.ReadRecord(ctx, b, r.ref, s.VersionID)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !bytes.Equal(got, r.blob) {
			t.Fatalf("record %d reads back different bytes", i)
		}
	}
	for _, s := range sealed {
		info, err := b.Stat(ctx, s.Key, s.VersionID)
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != s.Size || !info.RetainUntil.Equal(s.Lock.RetainUntil) {
			t.Fatalf("segment %s: Stat %+v; sealed %d bytes retained until %s", s.Key, info, s.Size, s.Lock.RetainUntil)
		}
		idx, err := segments.ReadIndex(ctx, b, s.Key, s.VersionID, s.Size)
		if err != nil {
			t.Fatal(err)
		}
		if idx.Header != s.Header || len(idx.Entries) != len(s.Entries) || idx.SHA256 != s.SHA256 {
			t.Fatalf("segment %s: ReadIndex disagrees with what was sealed", s.Key)
		}
		seg, err := segments.Verify(ctx, b, s.Key, s.VersionID)
		if err != nil {
			t.Fatal(err)
		}
		if seg.SHA256 != s.SHA256 {
			t.Fatalf("segment %s verifies with SHA-256 %x; sealed as %x", s.Key, seg.SHA256, s.SHA256)
		}
		wantErr(t, "Delete of a segment before its bucket ends", b.Delete(ctx, s.Key, s.VersionID), segments.ErrLocked)
	}
	var listed int
	for oi, err := range b.List(ctx, segments.AccountPrefix(account)) {
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := versions[mustParseKey(t, oi.Key)]; !ok {
			t.Fatalf("List found %s, which was never sealed", oi.Key)
		}
		listed++
	}
	if listed != len(sealed) {
		t.Fatalf("List under the account found %d segments; %d were sealed", listed, len(sealed))
	}
}

func mustParseKey(t *testing.T, k string) ulid.ULID {
	t.Helper()
	_, _, id, err := segments.ParseKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

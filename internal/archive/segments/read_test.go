package segments_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/vigil-operator/vigil/internal/archive/segments"
)

// sealOne builds a segment for alice with the given blobs.
func sealOne(t *testing.T, blobs ...string) ([]byte, segments.Summary) {
	t.Helper()
	b, err := segments.NewBuilder(segments.Header{ID: ulid.Make(), Account: alice.Account, Bucket: alice.Bucket, KeyID: alice.KeyID})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range blobs {
		if _, err := b.Append([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	data, sum, err := b.Seal()
	if err != nil {
		t.Fatal(err)
	}
	return data, sum
}

func putRaw(t *testing.T, b segments.Backend, key string, data []byte) string {
	t.Helper()
	v, err := b.Put(t.Context(), key, bytes.NewReader(data), int64(len(data)), segments.Lock{RetainUntil: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestReadRecordChecksTheRef(t *testing.T) {
	fs := newFS(t)
	data, sum := sealOne(t, "one", "two")
	key := segments.Key(sum.Header)
	v := putRaw(t, fs, key, data)
	e := sum.Entries[1]
	good := segments.Ref{Key: key, Segment: sum.Header.ID, Offset: e.Offset, Length: e.Length, SHA256: e.SHA256}
	if got, err := segments.ReadRecord(t.Context(), fs, good, v); err != nil || string(got) != "two" {
		t.Fatalf("ReadRecord = %q, %v", got, err)
	}
	shifted := good
	shifted.Offset--
	if _, err := segments.ReadRecord(t.Context(), fs, shifted, v); !errors.Is(err, segments.ErrCorrupt) {
		t.Fatalf("a ref one byte off: %v; want ErrCorrupt", err)
	}
	wrongHash := good
	wrongHash.SHA256[0] ^= 1
	if _, err := segments.ReadRecord(t.Context(), fs, wrongHash, v); !errors.Is(err, segments.ErrCorrupt) {
		t.Fatalf("a ref with another hash: %v; want ErrCorrupt", err)
	}
	nonsense := good
	nonsense.Offset = 0
	if _, err := segments.ReadRecord(t.Context(), fs, nonsense, v); !errors.Is(err, segments.ErrInvalid) {
		t.Fatalf("a ref at offset 0: %v; want ErrInvalid", err)
	}
}

func TestVerifyCatchesDamage(t *testing.T) {
	fs := newFS(t)
	data, sum := sealOne(t, "one", "two", "three")

	key := segments.Key(sum.Header)
	v := putRaw(t, fs, key, data)
	seg, err := segments.Verify(t.Context(), fs, key, v)
	if err != nil || seg.SHA256 != sum.SHA256 || len(seg.Entries) != 3 {
		t.Fatalf("Verify of a good segment: %v", err)
	}
	idx, err := segments.ReadIndex(t.Context(), fs, key, v, sum.Size)
	if err != nil || idx.Header != sum.Header || len(idx.Entries) != 3 || idx.Entries[2] != sum.Entries[2] {
		t.Fatalf("ReadIndex = %+v, %v", idx, err)
	}
	if _, err := segments.ReadIndex(t.Context(), fs, key, v, sum.Size-1); err == nil {
		t.Fatal("ReadIndex with the wrong size succeeded")
	}

	// The same bytes under another segment's key: copied or moved.
	elsewhere := segments.Key(segments.Header{ID: ulid.Make(), Account: "desk/bob", Bucket: sum.Header.Bucket, KeyID: "x"})
	v2 := putRaw(t, fs, elsewhere, data)
	if _, err := segments.Verify(t.Context(), fs, elsewhere, v2); !errors.Is(err, segments.ErrCorrupt) || !strings.Contains(err.Error(), "holds segment") {
		t.Fatalf("Verify of a misplaced segment: %v", err)
	}
	if _, err := segments.ReadIndex(t.Context(), fs, elsewhere, v2, sum.Size); !errors.Is(err, segments.ErrCorrupt) {
		t.Fatalf("ReadIndex of a misplaced segment: %v", err)
	}

	// One flipped bit in a record.
	bad := bytes.Clone(data)
	bad[sum.Entries[1].Offset] ^= 0x10
	_, sum3 := sealOne(t, "x")
	badKey := segments.Key(sum3.Header)
	// Give the damaged copy a header that matches its key, so only the
	// flipped bit is wrong.
	copy(bad[10:26], sum3.Header.ID[:])
	v3 := putRaw(t, fs, badKey, bad)
	if _, err := segments.Verify(t.Context(), fs, badKey, v3); !errors.Is(err, segments.ErrCorrupt) || !strings.Contains(err.Error(), "record 1") {
		t.Fatalf("Verify of a segment with a flipped bit: %v", err)
	}
}

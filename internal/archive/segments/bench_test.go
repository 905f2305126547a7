package segments_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/vigil-operator/vigil/internal/archive/segments"
	"github.com/vigil-operator/vigil/internal/testenv"
)

const (
	benchRecords = 100_000
	benchBlob    = 1 << 10
)

func benchBlobs(b *testing.B, n int) [][]byte {
	b.Helper()
	blobs := make([][]byte, n)
	for i := range blobs {
		blobs[i] = make([]byte, benchBlob)
		if _, err := rand.Read(blobs[i]); err != nil {
			b.Fatal(err)
		}
	}
	return blobs
}

func report(b *testing.B, records, bytes int) {
	secs := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(records)/secs, "records/s")
	b.ReportMetric(float64(bytes)/secs/1e6, "MB/s")
}

// BenchmarkFSSegments writes 100,000 1 KiB blobs through the Writer into
// 8 MiB segments on the FS backend (each segment: temporary file, fsync,
// link, directory fsync, sidecar, audit event), beside its baseline: the
// same bytes appended to one file with one fsync at the end, the least
// any durable store of them can do.
func BenchmarkFSSegments(b *testing.B) {
	blobs := benchBlobs(b, benchRecords)
	total := benchRecords * benchBlob

	b.Run("segments", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			fs, err := segments.NewFS(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			w, err := segments.NewWriter(fs, segments.WriterOptions{})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.StartTimer()
			for _, blob := range blobs {
				if _, err := w.Append(ctx, alice, blob); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Close(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			fs.Close()
			b.StartTimer()
		}
		report(b, benchRecords, total)
	})

	b.Run("baseline-one-file-one-fsync", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			f, err := os.Create(filepath.Join(b.TempDir(), "all"))
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			for _, blob := range blobs {
				if _, err := f.Write(blob); err != nil {
					b.Fatal(err)
				}
			}
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
		}
		report(b, benchRecords, total)
	})
}

// BenchmarkS3Segments compares storing records on the test S3 server as
// segments (through the Writer, COMPLIANCE retention on each segment) with
// one object per record (COMPLIANCE retention on each record), the design
// segments replace. A small count keeps the per-record run short.
func BenchmarkS3Segments(b *testing.B) {
	srv := testenv.StartS3(b)
	c := s3Client(b, srv)
	backend := newS3(b, srv, makeBucket(b, c, true))
	const records = 2000
	blobs := benchBlobs(b, records)
	ctx := context.Background()

	b.Run("segments", func(b *testing.B) {
		for b.Loop() {
			// 256 KiB segments so that 2,000 records make several PUTs
			// rather than one.
			w, err := segments.NewWriter(backend, segments.WriterOptions{TargetSize: 256 << 10})
			if err != nil {
				b.Fatal(err)
			}
			g := alice
			g.Account = "bench/" + strings.ToLower(ulid.Make().String())
			for _, blob := range blobs {
				if _, err := w.Append(ctx, g, blob); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Close(ctx); err != nil {
				b.Fatal(err)
			}
		}
		report(b, records, records*benchBlob)
	})

	b.Run("baseline-object-per-record", func(b *testing.B) {
		const perRecord = 200 // enough for a rate; 2,000 would take seconds per iteration
		lock := segments.Lock{RetainUntil: time.Now().Add(time.Hour)}
		for b.Loop() {
			prefix := "bench/" + ulid.Make().String()
			for i, blob := range blobs[:perRecord] {
				if _, err := backend.Put(ctx, fmt.Sprintf("%s/%d", prefix, i), bytes.NewReader(blob), int64(len(blob)), lock); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b, perRecord, perRecord*benchBlob)
	})
}

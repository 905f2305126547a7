package spool

import (
	"testing"

	"github.com/go-logr/logr"
)

// The two benchmarks measure the cost per record of the same fsynced append,
// once with one fsync per batch of 100 records (what the webhook and the
// simulator do) and once with the naive one fsync per record. Both report
// ns/op per record so they compare directly.

const benchBatch = 100

func benchSpool(b *testing.B) *Spool {
	b.Helper()
	s, err := Open(b.TempDir(), Options{MaxBytes: 1 << 30, SegmentBytes: 16 << 20, Logger: logr.Discard()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// drainIfLarge acknowledges everything once the spool holds a lot, outside the
// timer, so long runs measure appends and not a growing directory.
func drainIfLarge(b *testing.B, s *Spool, end Position) {
	if s.Stats().DiskBytes < 256<<20 {
		return
	}
	b.StopTimer()
	if err := s.Ack(end); err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
}

func BenchmarkSpoolAppendBatch(b *testing.B) {
	s := benchSpool(b)
	envs := testEnvelopes(0, benchBatch)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += benchBatch {
		n := min(benchBatch, b.N-done)
		end, err := s.Append(envs[:n])
		if err != nil {
			b.Fatal(err)
		}
		drainIfLarge(b, s, end)
	}
}

func BenchmarkSpoolAppendSingle(b *testing.B) {
	s := benchSpool(b)
	envs := testEnvelopes(0, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		end, err := s.Append(envs)
		if err != nil {
			b.Fatal(err)
		}
		drainIfLarge(b, s, end)
	}
}

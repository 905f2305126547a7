package keys

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"testing"
)

const benchRecordSize = 1024

func benchRecord() []byte {
	b := make([]byte, benchRecordSize)
	rand.Read(b)
	return b
}

// BenchmarkBaselineCopy is the floor: moving 1 KB without any crypto.
func BenchmarkBaselineCopy(b *testing.B) {
	src, dst := benchRecord(), make([]byte, benchRecordSize)
	b.SetBytes(benchRecordSize)
	for b.Loop() {
		copy(dst, src)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkBaselineSHA256 is the content hash every record pays anyway for
// its log leaf.
func BenchmarkBaselineSHA256(b *testing.B) {
	src := benchRecord()
	b.SetBytes(benchRecordSize)
	for b.Loop() {
		_ = sha256.Sum256(src)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkSeal(b *testing.B) {
	m, _ := testManager(b, Options{})
	ref, plaintext := testRef("01JBENCH"), benchRecord()
	if _, err := m.Seal(context.Background(), ref, plaintext); err != nil { // create the DEK outside the loop
		b.Fatal(err)
	}
	b.SetBytes(benchRecordSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Seal(context.Background(), ref, plaintext); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkOpen(b *testing.B) {
	m, _ := testManager(b, Options{})
	ref, plaintext := testRef("01JBENCH"), benchRecord()
	sealed, err := m.Seal(context.Background(), ref, plaintext)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchRecordSize)
	b.ReportAllocs()
	for b.Loop() {
		got, err := m.Open(context.Background(), ref, sealed)
		if err != nil || len(got) != benchRecordSize {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if got, _ := m.Open(context.Background(), ref, sealed); !bytes.Equal(got, plaintext) {
		b.Fatal("round trip failed")
	}
}

func BenchmarkSealParallel(b *testing.B) {
	m, _ := testManager(b, Options{})
	ref, plaintext := testRef("01JBENCH"), benchRecord()
	if _, err := m.Seal(context.Background(), ref, plaintext); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchRecordSize)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Seal(context.Background(), ref, plaintext); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkDEKForCached(b *testing.B) {
	m, _ := testManager(b, Options{})
	scope := testScope()
	if _, err := m.DEKFor(context.Background(), scope); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.DEKFor(context.Background(), scope); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDEKForCold is the price of a cache miss: a store read and an
// unwrap under the LocalKEK (a KMS adds a network round trip).
func BenchmarkDEKForCold(b *testing.B) {
	m, _ := testManager(b, Options{})
	scope := testScope()
	if _, err := m.DEKFor(context.Background(), scope); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m.Close()
		if _, err := m.DEKFor(context.Background(), scope); err != nil {
			b.Fatal(err)
		}
	}
}

package wecomarchive_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/channel/wecomarchive"
	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/connector/connectortest"
	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

const benchBatch = 1000

// benchPull measures whole pulls of benchBatch generated messages: fake
// GetChatData, RSA unwrap, fake DecryptData, parse, map, and the sink.
func benchPull(b *testing.B, sink func(b *testing.B) connector.Sink) {
	fake := newFake(b)
	lines, err := fake.Traffic(benchBatch, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 0, 1)
	if err != nil {
		b.Fatal(err)
	}
	if err := fake.AddMessages(lines); err != nil {
		b.Fatal(err)
	}
	s := sink(b)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		ch, err := wecomarchive.NewWithOptions(params(b, b.TempDir(), 1), testOptions(fake))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := wecomarchive.PullAll(ch, ctx, s); err != nil {
			b.Fatal(err)
		}
		if ch.Cursor() != benchBatch {
			b.Fatalf("cursor %d", ch.Cursor())
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkCaptureWeComArchive is the pipeline into the real fsynced spool.
func BenchmarkCaptureWeComArchive(b *testing.B) {
	benchPull(b, func(b *testing.B) connector.Sink { return connectortest.SpoolSink(b) })
}

// BenchmarkCaptureWeComArchiveMemory is the baseline: the same pipeline
// into a sink that stamps and validates but keeps nothing.
func BenchmarkCaptureWeComArchiveMemory(b *testing.B) {
	benchPull(b, func(*testing.B) connector.Sink { return connectortest.DiscardSink{} })
}

// BenchmarkUnwrapRandomKey is the RSA step alone, the pipeline's floor.
func BenchmarkUnwrapRandomKey(b *testing.B) {
	ring, err := wxcrypt.ParseKeyRing(bundle(b, 1))
	if err != nil {
		b.Fatal(err)
	}
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, &keys(b)[1].PublicKey, []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	wrapped := base64.StdEncoding.EncodeToString(ct)
	b.ResetTimer()
	for range b.N {
		if _, err := ring.UnwrapRandomKey(1, wrapped); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

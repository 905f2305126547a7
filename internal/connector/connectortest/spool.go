package connectortest

import (
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/connector/spool"
)

// SpoolSink is the connector's real sink over a fsynced spool in a temporary
// directory, for benchmarks that measure capture through to durable storage.
func SpoolSink(tb testing.TB) connector.Sink {
	tb.Helper()
	sp, err := spool.Open(tb.TempDir(), spool.Options{MaxBytes: 1 << 40, Logger: logr.Discard()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = sp.Close() })
	m, err := connector.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		tb.Fatal(err)
	}
	return connector.NewSpoolSink(sp, "bench/account", "bench", m, logr.Discard())
}

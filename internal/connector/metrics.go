package connector

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-operator/vigil/internal/connector/spool"
)

// Metrics are the connector's Prometheus series. They carry no record content
// and no participant identifiers.
type Metrics struct {
	SpoolPending       prometheus.Gauge
	SpoolBytes         prometheus.Gauge
	SpoolMaxBytes      prometheus.Gauge
	Captured           prometheus.Counter
	CaptureRefused     *prometheus.CounterVec
	LastCapture        prometheus.Gauge
	Shipped            prometheus.Counter
	ArchiveDuplicates  prometheus.Counter
	ShipErrors         *prometheus.CounterVec
	DeadLetter         prometheus.Counter
	SpoolTruncatedByte prometheus.Counter
}

// NewMetrics creates the connector's series and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		SpoolPending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigil_connector_spool_pending",
			Help: "Records in the spool not yet acknowledged by the archive.",
		}),
		SpoolBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigil_connector_spool_bytes",
			Help: "Bytes of spool segment files on disk.",
		}),
		SpoolMaxBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigil_connector_spool_max_bytes",
			Help: "Configured bound of the spool; input is refused with 503 beyond it.",
		}),
		Captured: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_connector_captured_total",
			Help: "Records durably spooled.",
		}),
		CaptureRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_connector_capture_refused_total",
			Help: "Capture batches refused by the sink, by reason (invalid, spool_full, error).",
		}, []string{"reason"}),
		LastCapture: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigil_connector_last_capture_timestamp_seconds",
			Help: "Unix time of the last record spooled; the connector's heartbeat for alerting on silent channels.",
		}),
		Shipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_connector_shipped_total",
			Help: "Records acknowledged by the archive (inserted or duplicate).",
		}),
		ArchiveDuplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_connector_archive_duplicates_total",
			Help: "Shipped records the archive already had (re-sent after a crash or retry).",
		}),
		ShipErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_connector_ship_errors_total",
			Help: "Failed upload attempts, by kind (retryable, rejected, spool).",
		}, []string{"kind"}),
		DeadLetter: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_connector_dead_letter_total",
			Help: "Records the archive rejected as bad, moved to the spool's dead-letter directory.",
		}),
		SpoolTruncatedByte: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_connector_spool_recovered_truncated_bytes_total",
			Help: "Bytes of torn or unfinished batches cut from the spool at start-up.",
		}),
	}
	if err := registerAll(reg, "connector", m.SpoolPending, m.SpoolBytes, m.SpoolMaxBytes, m.Captured, m.CaptureRefused, m.LastCapture,
		m.Shipped, m.ArchiveDuplicates, m.ShipErrors, m.DeadLetter, m.SpoolTruncatedByte); err != nil {
		return nil, err
	}
	return m, nil
}

// registerAll registers a group of series, naming the group in the error.
func registerAll(reg prometheus.Registerer, group string, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("while registering %s metrics: %w", group, err)
		}
	}
	return nil
}

// observeSpool copies a spool snapshot into the gauges.
func (m *Metrics) observeSpool(st spool.Stats) {
	m.SpoolPending.Set(float64(st.PendingRecords))
	m.SpoolBytes.Set(float64(st.DiskBytes))
	m.SpoolMaxBytes.Set(float64(st.MaxBytes))
}

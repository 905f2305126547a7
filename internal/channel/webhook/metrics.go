package webhook

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// rejectReasons are the label values of vigil_connector_webhook_rejected_total,
// created up front so dashboards see zeros rather than gaps.
var rejectReasons = []string{
	"method", "too_large", "missing_signature", "bad_signature", "stale_timestamp", "replay",
	"replay_cache_full", "malformed", "spool_full", "internal",
}

type metrics struct {
	rejected *prometheus.CounterVec
	accepted prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_connector_webhook_rejected_total",
			Help: "Webhook requests refused, by reason.",
		}, []string{"reason"}),
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigil_connector_webhook_accepted_messages_total",
			Help: "Messages accepted by the webhook after they were spooled.",
		}),
	}
	for _, c := range []prometheus.Collector{m.rejected, m.accepted} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("while registering webhook metrics: %w", err)
		}
	}
	for _, r := range rejectReasons {
		m.rejected.WithLabelValues(r)
	}
	return m, nil
}

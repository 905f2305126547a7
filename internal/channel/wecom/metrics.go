package wecom

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// MetricsPrefix prefixes the channel's metrics.
const MetricsPrefix = "vigil_connector_wecom"

// kfMetrics count the customer-service sync.
type kfMetrics struct {
	Events   prometheus.Counter
	Syncs    *prometheus.CounterVec
	Messages prometheus.Counter
}

func newKfMetrics(reg prometheus.Registerer) (*kfMetrics, error) {
	m := &kfMetrics{
		Events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: MetricsPrefix + "_kf_events_total",
			Help: "kf_msg_or_event callbacks that scheduled a WeChat Customer Service sync.",
		}),
		Syncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricsPrefix + "_kf_syncs_total",
			Help: "WeChat Customer Service sync attempts, by result (ok, error).",
		}, []string{"result"}),
		Messages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: MetricsPrefix + "_kf_messages_total",
			Help: "WeChat Customer Service records stored by kf/sync_msg pulls.",
		}),
	}
	for _, c := range []prometheus.Collector{m.Events, m.Syncs, m.Messages} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("while registering wecom kf metrics: %w", err)
		}
	}
	m.Syncs.WithLabelValues("ok")
	m.Syncs.WithLabelValues("error")
	return m, nil
}

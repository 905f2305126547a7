package inbound

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are a push channel's counters: <prefix>_rejected_total{reason},
// <prefix>_accepted_messages_total and <prefix>_duplicates_total.
type Metrics struct {
	Rejected   *prometheus.CounterVec
	Accepted   prometheus.Counter
	Duplicates prometheus.Counter
}

// NewMetrics registers the counters under prefix (for example
// "vigil_connector_slack") and creates the series of every common reason and
// of the channel's extra ones up front, so dashboards see zeros, not gaps.
func NewMetrics(reg prometheus.Registerer, prefix, channel string, extraReasons ...string) (*Metrics, error) {
	if reg == nil {
		return nil, fmt.Errorf("the %s channel needs a metrics registerer", channel)
	}
	m := &Metrics{
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: prefix + "_rejected_total",
			Help: fmt.Sprintf("Requests to the %s channel refused, by reason.", channel),
		}, []string{"reason"}),
		Accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: prefix + "_accepted_messages_total",
			Help: fmt.Sprintf("Records from the %s channel accepted after they were spooled.", channel),
		}),
		Duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: prefix + "_duplicates_total",
			Help: fmt.Sprintf("Provider redeliveries on the %s channel recognised as already captured.", channel),
		}),
	}
	for _, c := range []prometheus.Collector{m.Rejected, m.Accepted, m.Duplicates} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("while registering %s metrics: %w", channel, err)
		}
	}
	for _, r := range append(append([]string(nil), CommonReasons...), extraReasons...) {
		m.Rejected.WithLabelValues(r)
	}
	return m, nil
}

// Refuse counts the rejection and answers it. Only the reason and status are
// logged: error texts may echo field values.
func (m *Metrics) Refuse(w http.ResponseWriter, log logr.Logger, rej *Rejection) {
	m.Rejected.WithLabelValues(rej.Reason).Inc()
	log.V(1).Info("request refused", "reason", rej.Reason, "status", rej.Status)
	WriteJSON(w, rej.Status, map[string]string{"error": rej.Err.Error()})
}

// WriteJSON answers with v as JSON, unescaped and with nosniff.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// WriteText answers with a plain-text body exactly as given: handshakes
// (WeCom echostr, WhatsApp hub.challenge) must echo bytes with no quotes,
// BOM or newline.
func WriteText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

package connector

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes is the connector's HTTP surface: probes, metrics and, for webhook
// channels, the channel's endpoint.
func (c *Connector) routes(sink Sink) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !c.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready\n"))
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(c.deps.Registry, promhttp.HandlerOpts{Registry: c.deps.Registry}))
	if wc, ok := c.channel.(WebhookChannel); ok {
		mux.Handle(wc.WebhookPath(), wc.WebhookHandler(sink))
	}
	return mux
}

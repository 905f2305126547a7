package wecomarchive

import (
	"net/http"

	"github.com/vigil-operator/vigil/internal/channel/inbound"
	"github.com/vigil-operator/vigil/internal/channel/wecom"
	"github.com/vigil-operator/vigil/internal/connector"
)

// callbackMetricPrefix names the callback's rejected/accepted counters.
const callbackMetricPrefix = metricPrefix + "callback"

// WebhookPath implements connector.WebhookChannel.
func (c *Channel) WebhookPath() string { return Path }

// WebhookHandler implements connector.WebhookChannel: the archive app's
// callback URL. It verifies and decrypts WeCom's callbacks with the
// optional callbackToken and encodingAESKey (the wecom package's handler),
// and a msgaudit_notify event wakes the puller. Without those credentials
// it answers 404: the channel then only polls.
// The handler is built once; its metrics are registered then.
func (c *Channel) WebhookHandler(sink connector.Sink) http.Handler {
	c.webhookOnce.Do(func() { c.webhook = c.buildWebhook(sink) })
	return c.webhook
}

func (c *Channel) buildWebhook(sink connector.Sink) http.Handler {
	if c.callbackToken == "" {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			inbound.WriteText(w, http.StatusNotFound, "archive callback not configured")
		})
	}
	m, err := inbound.NewMetrics(c.params.Registerer, callbackMetricPrefix, ChannelName, wecom.Reasons...)
	if err == nil {
		var h *wecom.CallbackHandler
		h, err = wecom.NewCallbackHandler(wecom.CallbackConfig{
			Token:           c.callbackToken,
			EncodingAESKey:  c.callbackAESKey,
			ReceiveID:       c.corpID,
			Sink:            sink,
			Metrics:         m,
			Log:             c.log,
			RecordChannel:   ChannelName,
			Tenant:          c.corpID,
			Now:             c.now,
			OnArchiveNotify: c.Notify,
		})
		if err == nil {
			return h
		}
	}
	c.log.Error(err, "archive callback handler unavailable")
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		inbound.WriteText(w, http.StatusServiceUnavailable, "archive callback unavailable")
	})
}

package whatsapp

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-operator/vigil/internal/channel/inbound"
	"github.com/vigil-operator/vigil/internal/connector"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
)

const (
	// Path is where the connector mounts the handler; it is the callback URL
	// configured in the Meta app.
	Path = "/whatsapp"
	// MaxBodyBytes is the largest accepted notification; Meta documents
	// payloads of up to 3 MB.
	MaxBodyBytes = 3 << 20

	metricsPrefix = "vigil_connector_whatsapp"
	// ReasonBadVerifyToken counts subscription handshakes with a wrong
	// hub.verify_token or hub.mode.
	ReasonBadVerifyToken = "bad_verify_token"

	// Meta retries failed deliveries for days with backoff; the cache
	// catches the common quick redeliveries and the archive's dedupKey the
	// rest.
	dedupeTTL      = 24 * time.Hour
	dedupeCapacity = 200_000
)

// Channel is one WhatsApp business phone number's webhook.
type Channel struct {
	// Capture happens in the handler; Run only waits.
	connector.PushOnly
	appSecret   []byte
	verifyToken []byte
	mapper      *mapper
	dedupe      *inbound.Dedupe
	metrics     *inbound.Metrics
	skipped     *prometheus.CounterVec
	log         logr.Logger
	now         func() time.Time
}

var _ connector.WebhookChannel = (*Channel)(nil)

// Factory builds the channel from an account's Secret and externalID.
func Factory(p connector.ChannelParams) (connector.Channel, error) {
	return New(p)
}

// New builds the channel. ExternalID is the business phone number id
// (metadata.phone_number_id); the Secret holds appSecret and verifyToken.
func New(p connector.ChannelParams) (*Channel, error) {
	secret, token := p.Credentials[cc.KeyAppSecret], p.Credentials[cc.KeyVerifyToken]
	switch {
	case len(secret) == 0:
		return nil, fmt.Errorf("the WhatsApp channel needs credential %q (the Meta app secret)", cc.KeyAppSecret)
	case len(token) == 0:
		return nil, fmt.Errorf("the WhatsApp channel needs credential %q", cc.KeyVerifyToken)
	case p.ExternalID == "":
		return nil, errors.New("the WhatsApp channel needs externalID, the business phone number id")
	}
	m, err := inbound.NewMetrics(p.Registerer, metricsPrefix, ChannelName,
		inbound.ReasonWrongReceiver, ReasonBadVerifyToken)
	if err != nil {
		return nil, err
	}
	skipped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: metricsPrefix + "_skipped_changes_total",
		Help: "Changes in accepted WhatsApp notifications that were not captured: for another phone number, or of a field without messages.",
	}, []string{"reason"})
	if err := p.Registerer.Register(skipped); err != nil {
		return nil, fmt.Errorf("while registering WhatsApp metrics: %w", err)
	}
	for _, r := range []string{skipOtherNumber, skipOtherField} {
		skipped.WithLabelValues(r)
	}
	return &Channel{
		appSecret:   append([]byte(nil), secret...),
		verifyToken: append([]byte(nil), token...),
		mapper:      &mapper{phoneNumberID: p.ExternalID},
		dedupe:      inbound.NewDedupe(dedupeTTL, dedupeCapacity),
		metrics:     m,
		skipped:     skipped,
		log:         p.Logger,
		now:         time.Now,
	}, nil
}

// Name implements connector.Channel.
func (c *Channel) Name() string { return ChannelName }

// WebhookPath implements connector.WebhookChannel.
func (c *Channel) WebhookPath() string { return Path }

// WebhookHandler implements connector.WebhookChannel.
func (c *Channel) WebhookHandler(sink connector.Sink) http.Handler {
	return &handler{ch: c, sink: sink}
}

package line

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/channel/inbound"
	"github.com/vigil-operator/vigil/internal/connector"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
)

const (
	// Path is where the connector mounts the handler; it is the Webhook URL
	// in the LINE Developers Console.
	Path = "/line"
	// MaxBodyBytes is the largest accepted webhook.
	MaxBodyBytes = 1 << 20

	metricsPrefix = "vigil_connector_line"
	// LINE redelivers undelivered events for up to a day when redelivery
	// is on.
	dedupeTTL      = 24 * time.Hour
	dedupeCapacity = 200_000
)

// Channel is one LINE official account's webhook.
type Channel struct {
	// Capture happens in the handler; Run only waits.
	connector.PushOnly
	secret  []byte
	mapper  *mapper
	dedupe  *inbound.Dedupe
	metrics *inbound.Metrics
	log     logr.Logger
	now     func() time.Time
}

var _ connector.WebhookChannel = (*Channel)(nil)

// Factory builds the channel from an account's Secret and externalID.
func Factory(p connector.ChannelParams) (connector.Channel, error) {
	return New(p)
}

// New builds the channel. ExternalID is the bot's user id (the webhook's
// destination, U…); the Secret holds the channel secret.
func New(p connector.ChannelParams) (*Channel, error) {
	secret := p.Credentials[cc.KeyChannelSecret]
	switch {
	case len(secret) == 0:
		return nil, fmt.Errorf("the LINE channel needs credential %q", cc.KeyChannelSecret)
	case p.ExternalID == "":
		return nil, errors.New("the LINE channel needs externalID, the bot's user id (the webhook destination)")
	}
	m, err := inbound.NewMetrics(p.Registerer, metricsPrefix, ChannelName, inbound.ReasonWrongReceiver)
	if err != nil {
		return nil, err
	}
	return &Channel{
		secret:  append([]byte(nil), secret...),
		mapper:  &mapper{botUserID: p.ExternalID},
		dedupe:  inbound.NewDedupe(dedupeTTL, dedupeCapacity),
		metrics: m,
		log:     p.Logger,
		now:     time.Now,
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

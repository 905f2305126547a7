package slack

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
	// Path is where the connector mounts the handler; the Request URL of the
	// app's Event Subscriptions points at it.
	Path = "/slack/events"
	// MaxBodyBytes is the largest accepted request.
	MaxBodyBytes = 1 << 20

	metricsPrefix = "vigil_connector_slack"

	// Signatures are remembered for both halves of the window: a timestamp
	// up to one window ahead stays acceptable for two.
	replayTTL = 2 * Window
	// Slack retries three times within about an hour.
	dedupeTTL     = 2 * time.Hour
	cacheCapacity = 200_000
)

// Channel is one Slack workspace's Events API endpoint.
type Channel struct {
	// Capture happens in the handler; Run only waits.
	connector.PushOnly
	secret  []byte
	mapper  *mapper
	replay  *inbound.ReplayCache
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

// New builds the channel. ExternalID is the workspace's team id (T…); the
// Secret holds the app's signing secret.
func New(p connector.ChannelParams) (*Channel, error) {
	secret := p.Credentials[cc.KeySigningSecret]
	switch {
	case len(secret) == 0:
		return nil, fmt.Errorf("the Slack channel needs credential %q (the app's signing secret)", cc.KeySigningSecret)
	case p.ExternalID == "":
		return nil, errors.New("the Slack channel needs externalID, the workspace's team id")
	}
	m, err := inbound.NewMetrics(p.Registerer, metricsPrefix, ChannelName, inbound.ReasonWrongReceiver)
	if err != nil {
		return nil, err
	}
	return &Channel{
		secret:  append([]byte(nil), secret...),
		mapper:  &mapper{teamID: p.ExternalID},
		replay:  inbound.NewReplayCache(replayTTL, cacheCapacity),
		dedupe:  inbound.NewDedupe(dedupeTTL, cacheCapacity),
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

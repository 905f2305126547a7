package webhook

import (
	"fmt"
	"net/http"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/channel/inbound"
	"github.com/vigil-operator/vigil/internal/connector"
)

// Credential and setting keys.
const (
	// CredentialHMACSecret is the Secret key holding the shared HMAC secret.
	CredentialHMACSecret = "hmacSecret"
	// SettingTenant sets capture.Record.Tenant, namespacing dedupKeys when
	// several senders share an account.
	SettingTenant = "tenant"
	// SettingReplayCacheSize bounds remembered signatures (default 200000).
	SettingReplayCacheSize = "replayCacheSize"
	// Path is where the connector mounts the handler.
	Path = "/webhook"

	defaultReplayCacheSize = 200_000
)

// Channel is the generic signed JSON webhook.
type Channel struct {
	// Capture happens in the handler; Run only waits.
	connector.PushOnly
	verifier *verifier
	metrics  *inbound.Metrics
	log      logr.Logger
	tenant   string
	account  string
	now      func() time.Time
}

var _ connector.WebhookChannel = (*Channel)(nil)

// Factory builds the channel from an account's Secret and settings.
func Factory(p connector.ChannelParams) (connector.Channel, error) {
	return New(p)
}

// New builds the channel. The HMAC secret must be at least MinSecretBytes:
// shorter secrets are guessable and are a configuration error.
func New(p connector.ChannelParams) (*Channel, error) {
	secret := p.Credentials[CredentialHMACSecret]
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("credential %q must be at least %d bytes, got %d", CredentialHMACSecret, MinSecretBytes, len(secret))
	}
	size, err := connector.PositiveIntSetting(p.Settings, SettingReplayCacheSize, defaultReplayCacheSize)
	if err != nil {
		return nil, err
	}
	m, err := inbound.NewMetrics(p.Registerer, "vigil_connector_webhook", ChannelName)
	if err != nil {
		return nil, err
	}
	return &Channel{
		// The replay entries must outlive both halves of the window: a
		// timestamp up to one window in the future stays acceptable for two.
		verifier: &verifier{secret: append([]byte(nil), secret...), window: DefaultWindow, replay: inbound.NewReplayCache(2*DefaultWindow, size)},
		metrics:  m,
		log:      p.Logger,
		tenant:   p.Settings[SettingTenant],
		account:  p.Custodian,
		now:      time.Now,
	}, nil
}

// Name implements connector.Channel.
func (c *Channel) Name() string { return ChannelName }

// WebhookPath implements connector.WebhookChannel.
func (c *Channel) WebhookPath() string { return Path }

// WebhookHandler implements connector.WebhookChannel.
func (c *Channel) WebhookHandler(sink connector.Sink) http.Handler {
	return &handler{verifier: c.verifier, sink: sink, metrics: c.metrics, log: c.log, tenant: c.tenant, account: c.account, now: c.now}
}

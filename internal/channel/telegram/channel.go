// Package telegram captures Telegram Bot API webhook updates (messages,
// edits, channel posts, reactions and Telegram Business chats) as capture.v1
// records.
package telegram

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/channel/inbound"
	"github.com/vigil-operator/vigil/internal/connector"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
)

// Names and settings.
const (
	// Path is where the connector mounts the handler.
	Path = "/telegram"
	// HeaderSecretToken carries setWebhook's secret_token on every update.
	HeaderSecretToken = "X-Telegram-Bot-Api-Secret-Token"
	// SigScheme is Provenance.SigScheme: the secret token matched.
	SigScheme = "telegram-secret-token"
	// SettingDedupeCacheSize bounds the remembered update_ids (default 100000).
	SettingDedupeCacheSize = "dedupeCacheSize"
	// SettingBusinessCacheSize bounds the remembered business connections
	// (default 10000).
	SettingBusinessCacheSize = "businessConnectionCacheSize"

	defaultDedupeCacheSize   = 100_000
	defaultBusinessCacheSize = 10_000
	metricsPrefix            = "vigil_connector_telegram"
	maxSecretTokenBytes      = 256
)

// Channel receives one bot's webhook updates.
type Channel struct {
	// Capture happens in the handler; Run only waits.
	connector.PushOnly
	// secretHash is sha256 of the secret token: comparing fixed-size hashes
	// keeps the comparison constant-time regardless of length.
	secretHash [sha256.Size]byte
	botID      string
	seen       *inbound.SeenCache
	business   *connections
	metrics    *inbound.Metrics
	log        logr.Logger
	now        func() time.Time
}

var _ connector.WebhookChannel = (*Channel)(nil)

// Factory builds the channel from an account's Secret and settings.
func Factory(p connector.ChannelParams) (connector.Channel, error) {
	return New(p)
}

// New builds the channel. ExternalID is the bot's user id; updates do not
// name the bot they are for, so the secret token is what binds a request to
// this account.
func New(p connector.ChannelParams) (*Channel, error) {
	secret := p.Credentials[cc.KeySecretToken]
	if len(secret) == 0 || len(secret) > maxSecretTokenBytes {
		return nil, fmt.Errorf("telegram: credential %q must be 1 to %d characters", cc.KeySecretToken, maxSecretTokenBytes)
	}
	if p.ExternalID != "" {
		if _, err := strconv.ParseInt(p.ExternalID, 10, 64); err != nil {
			return nil, fmt.Errorf("telegram: externalID must be the bot's numeric user id (the part of its token before ':'), got %q", p.ExternalID)
		}
	}
	seenSize, err := connector.PositiveIntSetting(p.Settings, SettingDedupeCacheSize, defaultDedupeCacheSize)
	if err != nil {
		return nil, err
	}
	bizSize, err := connector.PositiveIntSetting(p.Settings, SettingBusinessCacheSize, defaultBusinessCacheSize)
	if err != nil {
		return nil, err
	}
	business, err := newConnections(bizSize, p.StateDir)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	m, err := inbound.NewMetrics(p.Registerer, metricsPrefix, ChannelName)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	return &Channel{
		secretHash: sha256.Sum256(secret),
		botID:      p.ExternalID,
		seen:       inbound.NewSeenCache(seenSize),
		business:   business,
		metrics:    m,
		log:        p.Logger,
		now:        time.Now,
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

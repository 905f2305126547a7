package wecom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/channel/inbound"
	"github.com/vigil-operator/vigil/internal/channel/wecom/qyapi"
	"github.com/vigil-operator/vigil/internal/connector"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

// Path is where the connector mounts the callback handler; the callback URL
// in the admin console is https://<connector host>/wecom/callback.
const Path = "/wecom/callback"

// Optional channel settings read besides cc.SettingAPIBaseURL.
const (
	// SettingFreshnessWindow is a Go duration (default DefaultWindow).
	SettingFreshnessWindow = "freshnessWindow"
	// SettingReplayCacheSize bounds remembered signed requests.
	SettingReplayCacheSize = "replayCacheSize"
	// SettingDedupeCacheSize bounds remembered MsgIds and event identities.
	SettingDedupeCacheSize = "dedupeCacheSize"
)

// Channel is the WeComCallback channel of one corp app.
type Channel struct {
	cfg     CallbackConfig
	metrics *inbound.Metrics
	kf      *kfSyncer // nil without a customer-service secret
	log     logr.Logger
	now     func() time.Time

	once    sync.Once
	handler *CallbackHandler
	err     error
}

var _ connector.WebhookChannel = (*Channel)(nil)

// Factory builds the channel from an account's Secret and settings.
func Factory(p connector.ChannelParams) (connector.Channel, error) {
	return New(p)
}

// New builds the channel. ExternalID must be the corp id; the Secret must
// hold the callback token and EncodingAESKey, and may hold the
// customer-service secret (corpSecret) to sync 微信客服 conversations.
func New(p connector.ChannelParams) (*Channel, error) {
	if p.ExternalID == "" {
		return nil, errors.New("wecom callback: spec.externalID must be the corp id")
	}
	token := strings.TrimSpace(string(p.Credentials[cc.KeyCallbackToken]))
	aesKey := strings.TrimSpace(string(p.Credentials[cc.KeyEncodingAESKey]))
	if token == "" || aesKey == "" {
		return nil, fmt.Errorf("wecom callback: credentials %q and %q are required", cc.KeyCallbackToken, cc.KeyEncodingAESKey)
	}
	replaySize, err := connector.PositiveIntSetting(p.Settings, SettingReplayCacheSize, DefaultReplayCacheSize)
	if err != nil {
		return nil, err
	}
	dedupeSize, err := connector.PositiveIntSetting(p.Settings, SettingDedupeCacheSize, DefaultDedupeCacheSize)
	if err != nil {
		return nil, err
	}
	window, err := connector.DurationSetting(p.Settings, SettingFreshnessWindow, DefaultWindow)
	if err != nil {
		return nil, fmt.Errorf("wecom callback: %w", err)
	}
	// Check the key now, so a bad one fails at start-up, not on traffic.
	if _, err := wxcrypt.New(token, aesKey, p.ExternalID); err != nil {
		return nil, fmt.Errorf("wecom callback: credential %q: %w", cc.KeyEncodingAESKey, err)
	}
	m, err := inbound.NewMetrics(p.Registerer, MetricsPrefix, "wecom", Reasons...)
	if err != nil {
		return nil, err
	}
	c := &Channel{metrics: m, log: p.Logger, now: time.Now}
	c.cfg = CallbackConfig{
		Token: token, EncodingAESKey: aesKey, ReceiveID: p.ExternalID,
		Metrics: m, Log: p.Logger, Window: window, ReplayCacheSize: replaySize, DedupeCacheSize: dedupeSize,
		Now: func() time.Time { return c.now() },
	}
	if secret := strings.TrimSpace(string(p.Credentials[cc.KeyCorpSecret])); secret != "" {
		cursors, err := newCursorStore(p.StateDir)
		if err != nil {
			return nil, fmt.Errorf("wecom callback: %w", err)
		}
		km, err := newKfMetrics(p.Registerer)
		if err != nil {
			return nil, err
		}
		api := qyapi.New(p.Settings[cc.SettingAPIBaseURL], p.ExternalID, secret, nil)
		c.kf = newKfSyncer(api, p.ExternalID, cursors, km, p.Logger, func() time.Time { return c.now() })
		c.cfg.OnKfEvent = c.kf.trigger
	} else {
		p.Logger.Info("no customer-service secret (corpSecret): WeChat Customer Service events will be refused and counted",
			"reason", ReasonKfNotConfigured)
	}
	return c, nil
}

// Name implements connector.Channel.
func (c *Channel) Name() string { return ChannelName }

// Run implements connector.Channel: callbacks arrive through the handler;
// Run runs the customer-service pulls they trigger until ctx ends.
func (c *Channel) Run(ctx context.Context, sink connector.Sink) error {
	if c.kf == nil {
		<-ctx.Done()
		return nil
	}
	c.kf.run(ctx, sink)
	return nil
}

// WebhookPath implements connector.WebhookChannel.
func (c *Channel) WebhookPath() string { return Path }

// WebhookHandler implements connector.WebhookChannel. The connector calls it
// once; later calls return the same handler (and its replay state).
func (c *Channel) WebhookHandler(sink connector.Sink) http.Handler {
	c.once.Do(func() {
		cfg := c.cfg
		cfg.Sink = sink
		c.handler, c.err = NewCallbackHandler(cfg)
	})
	if c.err != nil {
		// New already built a handler from the same settings, so this
		// cannot happen; refuse rather than panic if it does.
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			c.metrics.Refuse(w, c.log, inbound.Refuse(http.StatusInternalServerError, inbound.ReasonInternal, errors.New("channel misconfigured")))
		})
	}
	return c.handler
}

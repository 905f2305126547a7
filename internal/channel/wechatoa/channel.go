// Package wechatoa captures the messages users send to a WeChat Official
// Account (公众号) through its message push ("消息推送"), in plaintext,
// compatible or secure mode, as capture.v1 records.
package wechatoa

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	"github.com/vigil-operator/vigil/internal/channel/inbound"
	"github.com/vigil-operator/vigil/internal/connector"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

// Names and settings.
const (
	// ChannelName is capture.Record.Channel for this channel.
	ChannelName = "wechat_mp"
	// Path is where the connector mounts the handler.
	Path = "/wechat/official-account"
	// SettingFreshnessWindow overrides how far a push's timestamp may be from
	// the connector's clock (a Go duration, default 10m).
	SettingFreshnessWindow = "freshnessWindow"
	// SettingReplayCacheSize bounds the remembered (timestamp, nonce,
	// signature) triples (default 200000).
	SettingReplayCacheSize = "replayCacheSize"
	// SettingDedupeCacheSize bounds the remembered MsgIds (default 100000).
	SettingDedupeCacheSize = "dedupeCacheSize"

	// DefaultWindow is the default freshness window.
	DefaultWindow = 10 * time.Minute

	defaultReplayCacheSize = 200_000
	defaultDedupeCacheSize = 100_000
	metricsPrefix          = "vigil_connector_wechat_oa"
)

// Reasons this channel adds to inbound.CommonReasons.
const (
	// ReasonModeMismatch: the push is in another mode than the configured
	// one (for example plaintext while the account is set to Secure).
	ReasonModeMismatch = "mode_mismatch"
	// ReasonPlaintextMismatch: in compatible mode the plaintext copy does
	// not say what the encrypted content says.
	ReasonPlaintextMismatch = "plaintext_mismatch"
)

// Reasons are the rejection reasons the channel counts beside inbound.CommonReasons.
var Reasons = []string{inbound.ReasonDecrypt, inbound.ReasonWrongReceiver, ReasonModeMismatch, ReasonPlaintextMismatch}

// Mode is the account's message encryption mode (明文, 兼容, 安全).
type Mode = v1alpha1.WeChatMessageMode

// The modes.
const (
	ModePlaintext  = v1alpha1.WeChatModePlaintext
	ModeCompatible = v1alpha1.WeChatModeCompatible
	ModeSecure     = v1alpha1.WeChatModeSecure
)

// Channel receives one Official Account's pushes.
type Channel struct {
	// Capture happens in the handler; Run only waits.
	connector.PushOnly
	token   string
	appID   string
	mode    Mode
	crypter *wxcrypt.Crypter // nil in plaintext mode
	window  time.Duration
	replay  *inbound.ReplayCache
	seen    *inbound.SeenCache
	metrics *inbound.Metrics
	log     logr.Logger
	now     func() time.Time
}

var _ connector.WebhookChannel = (*Channel)(nil)

// Factory builds the channel from an account's Secret and settings.
func Factory(p connector.ChannelParams) (connector.Channel, error) {
	return New(p)
}

// New builds the channel. ExternalID is the account's appid: encrypted
// pushes addressed to another appid are refused.
func New(p connector.ChannelParams) (*Channel, error) {
	token := strings.TrimSpace(string(p.Credentials[cc.KeyToken]))
	if token == "" {
		return nil, fmt.Errorf("wechat official account: credential %q is missing", cc.KeyToken)
	}
	mode, err := parseMode(p.Settings[cc.SettingMessageMode])
	if err != nil {
		return nil, err
	}
	c := &Channel{token: token, appID: p.ExternalID, mode: mode, log: p.Logger, now: time.Now, window: DefaultWindow}
	if mode != ModePlaintext {
		if p.ExternalID == "" {
			return nil, errors.New("wechat official account: the account's externalID (appid) is required in compatible and secure mode")
		}
		key := strings.TrimSpace(string(p.Credentials[cc.KeyEncodingAESKey]))
		if key == "" {
			return nil, fmt.Errorf("wechat official account: credential %q is required in %s mode", cc.KeyEncodingAESKey, mode)
		}
		if c.crypter, err = wxcrypt.New(token, key, p.ExternalID); err != nil {
			return nil, fmt.Errorf("wechat official account: credential %q: %w", cc.KeyEncodingAESKey, err)
		}
	}
	if c.window, err = connector.DurationSetting(p.Settings, SettingFreshnessWindow, c.window); err != nil {
		return nil, fmt.Errorf("wechat official account: %w", err)
	}
	replaySize, err := connector.PositiveIntSetting(p.Settings, SettingReplayCacheSize, defaultReplayCacheSize)
	if err != nil {
		return nil, err
	}
	seenSize, err := connector.PositiveIntSetting(p.Settings, SettingDedupeCacheSize, defaultDedupeCacheSize)
	if err != nil {
		return nil, err
	}
	// A timestamp up to one window in the future stays fresh for two windows,
	// so the replay entries must live that long.
	c.replay = inbound.NewReplayCache(2*c.window, replaySize)
	c.seen = inbound.NewSeenCache(seenSize)
	if c.metrics, err = inbound.NewMetrics(p.Registerer, metricsPrefix, ChannelName, Reasons...); err != nil {
		return nil, fmt.Errorf("wechat official account: %w", err)
	}
	return c, nil
}

func parseMode(s string) (Mode, error) {
	switch Mode(s) {
	case "":
		return ModeSecure, nil
	case ModePlaintext, ModeCompatible, ModeSecure:
		return Mode(s), nil
	}
	return "", fmt.Errorf("wechat official account: setting %s must be %s, %s or %s, got %q",
		cc.SettingMessageMode, ModePlaintext, ModeCompatible, ModeSecure, s)
}

// Name implements connector.Channel.
func (c *Channel) Name() string { return ChannelName }

// Mode is the configured message mode.
func (c *Channel) Mode() Mode { return c.mode }

// WebhookPath implements connector.WebhookChannel.
func (c *Channel) WebhookPath() string { return Path }

// WebhookHandler implements connector.WebhookChannel.
func (c *Channel) WebhookHandler(sink connector.Sink) http.Handler {
	return &handler{ch: c, sink: sink}
}

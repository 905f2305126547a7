package wecomarchive

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	"github.com/vigil-operator/vigil/internal/channel/wecom/qyapi"
	"github.com/vigil-operator/vigil/internal/connector"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

// Path is where the connector mounts the msgaudit_notify callback; set the
// archive app's callback URL to it.
const Path = "/wecom/archive/callback"

// Defaults of the channel's settings and options.
const (
	DefaultPollInterval    = time.Minute
	DefaultPullLimit       = MaxPullLimit
	DefaultRatePerMinute   = 600
	DefaultCheckpointEvery = time.Hour
	DefaultPermitListEvery = time.Hour
	minPollInterval        = time.Second
)

// Options are what tests and tools may set beyond ChannelParams; zero
// values take the defaults.
type Options struct {
	// SDK replaces the SDK the settings name (sdkMode/sdkBridgeURL).
	SDK ArchiveSDK
	// HTTPClient is used for the WeCom API and the SDK bridge.
	HTTPClient *http.Client
	// Now is the clock.
	Now func() time.Time
	// RatePerMinute bounds GetChatData calls (default 600).
	RatePerMinute int
	// CheckpointEvery is the least time between capture_checkpoint records
	// (default 1 h).
	CheckpointEvery time.Duration
	// MaxMediaBytes is the largest media file downloaded (default 100 MiB).
	MaxMediaBytes int64
	// RetryInitial and RetryMax bound the backoff after failed pulls
	// (default 1 s and 5 min); MediaRetryGap is the wait between media
	// attempts (default 1 s).
	RetryInitial, RetryMax, MediaRetryGap time.Duration
	// PermitListEvery is how often get_permit_user_list is called (default
	// 1 h); negative disables the msgaudit HTTP APIs entirely.
	PermitListEvery time.Duration
}

// Channel pulls one corp's chat archive.
type Channel struct {
	corpID       string
	sdk          ArchiveSDK
	ring         *wxcrypt.KeyRing
	store        *cursorStore
	audit        *msgAudit
	media        *downloader
	limiter      *limiter
	metrics      *metrics
	log          logr.Logger
	now          func() time.Time
	pollInterval time.Duration
	pullLimit    int
	checkpoint   time.Duration
	permitEvery  time.Duration
	retry        backoff
	notify       chan struct{}
	params       connector.ChannelParams

	// callback is set when the optional callback credentials are present.
	callbackToken, callbackAESKey string
	webhookOnce                   sync.Once
	webhook                       http.Handler

	state         cursorState // owned by Run
	cursor        atomic.Uint64
	expiredAt     uint64 // cursor of the last data_expired gap recorded
	expiredMarked bool
}

var _ connector.WebhookChannel = (*Channel)(nil)

// Factory builds the channel from an account's Secret and settings.
func Factory(p connector.ChannelParams) (connector.Channel, error) {
	return New(p)
}

// New builds the channel with default options.
func New(p connector.ChannelParams) (*Channel, error) {
	return NewWithOptions(p, Options{})
}

// NewWithOptions builds the channel. It checks the credentials and
// settings, parses the key ring and loads the persisted cursor.
func NewWithOptions(p connector.ChannelParams, o Options) (*Channel, error) {
	if p.ExternalID == "" {
		return nil, errors.New("wecom archive: externalID must be the corp id")
	}
	secret := strings.TrimSpace(string(p.Credentials[cc.KeyCorpSecret]))
	if secret == "" {
		return nil, fmt.Errorf("wecom archive: credential %q is required", cc.KeyCorpSecret)
	}
	ring, err := wxcrypt.ParseKeyRing(p.Credentials[cc.KeyPrivateKeys])
	if err != nil {
		return nil, fmt.Errorf("wecom archive: credential %q: %w", cc.KeyPrivateKeys, err)
	}
	if ring.Len() == 0 {
		return nil, fmt.Errorf("wecom archive: credential %q holds no RSA private key", cc.KeyPrivateKeys)
	}
	poll, limit, err := parseSettings(p.Settings)
	if err != nil {
		return nil, err
	}
	applyDefaults(&o)
	token := strings.TrimSpace(string(p.Credentials[cc.KeyCallbackToken]))
	aesKey := strings.TrimSpace(string(p.Credentials[cc.KeyEncodingAESKey]))
	if (token == "") != (aesKey == "") {
		return nil, fmt.Errorf("wecom archive: credentials %q and %q go together", cc.KeyCallbackToken, cc.KeyEncodingAESKey)
	}
	if token != "" {
		if _, err := wxcrypt.New(token, aesKey, p.ExternalID); err != nil {
			return nil, fmt.Errorf("wecom archive: callback credentials: %w", err)
		}
	}
	store, err := newCursorStore(p.StateDir)
	if err != nil {
		return nil, fmt.Errorf("wecom archive: %w", err)
	}
	state, err := store.load()
	if err != nil {
		return nil, fmt.Errorf("wecom archive: %w", err)
	}
	start := o.Now()
	if !state.CaughtUpAt.IsZero() {
		start = state.CaughtUpAt
	}
	m, err := newMetrics(p.Registerer, o.Now, start)
	if err != nil {
		return nil, fmt.Errorf("wecom archive: %w", err)
	}
	m.cursor.Set(float64(state.Seq))
	sdk := o.SDK
	if sdk == nil {
		if sdk, err = openSDK(p, secret, o.HTTPClient); err != nil {
			return nil, err
		}
	}
	c := &Channel{
		corpID:         p.ExternalID,
		sdk:            sdk,
		ring:           ring,
		store:          store,
		limiter:        newLimiter(o.RatePerMinute, time.Now), // real time: it sleeps on real timers
		metrics:        m,
		log:            p.Logger,
		now:            o.Now,
		pollInterval:   poll,
		pullLimit:      limit,
		checkpoint:     o.CheckpointEvery,
		permitEvery:    o.PermitListEvery,
		retry:          backoff{initial: o.RetryInitial, max: o.RetryMax},
		notify:         make(chan struct{}, 1),
		params:         p,
		callbackToken:  token,
		callbackAESKey: aesKey,
		state:          state,
	}
	c.cursor.Store(state.Seq)
	c.media = &downloader{sdk: sdk, maxBytes: o.MaxMediaBytes, retryGap: o.MediaRetryGap, onBytes: func(n int) { m.mediaBytes.Add(float64(n)) }}
	if o.PermitListEvery >= 0 {
		api := qyapi.New(p.Settings[cc.SettingAPIBaseURL], p.ExternalID, secret, o.HTTPClient)
		c.audit = newMsgAudit(api, p.Logger, m, o.Now)
	}
	return c, nil
}

func applyDefaults(o *Options) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RatePerMinute <= 0 {
		o.RatePerMinute = DefaultRatePerMinute
	}
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = DefaultCheckpointEvery
	}
	if o.MaxMediaBytes <= 0 {
		o.MaxMediaBytes = DefaultMaxMediaBytes
	}
	if o.RetryInitial <= 0 {
		o.RetryInitial = time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 5 * time.Minute
	}
	if o.MediaRetryGap <= 0 {
		o.MediaRetryGap = time.Second
	}
	if o.PermitListEvery == 0 {
		o.PermitListEvery = DefaultPermitListEvery
	}
}

func parseSettings(s map[string]string) (time.Duration, int, error) {
	poll, err := connector.DurationSetting(s, cc.SettingPollInterval, DefaultPollInterval)
	if err == nil && poll < minPollInterval {
		err = fmt.Errorf("setting %s must be at least %v, got %v", cc.SettingPollInterval, minPollInterval, poll)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("wecom archive: %w", err)
	}
	limit, err := connector.PositiveIntSetting(s, cc.SettingPullLimit, DefaultPullLimit)
	if err == nil && limit > MaxPullLimit {
		err = fmt.Errorf("setting %s must be at most %d, got %d", cc.SettingPullLimit, MaxPullLimit, limit)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("wecom archive: %w", err)
	}
	return poll, limit, nil
}

// openSDK reaches the Finance SDK the way sdkMode says.
func openSDK(p connector.ChannelParams, secret string, hc *http.Client) (ArchiveSDK, error) {
	mode := v1alpha1.WeComSDKMode(p.Settings[cc.SettingSDKMode])
	if mode == "" {
		mode = v1alpha1.WeComSDKNative
	}
	switch mode {
	case v1alpha1.WeComSDKNative:
		sdk, err := NewNativeSDK(p.ExternalID, secret, "", "")
		if err != nil {
			return nil, fmt.Errorf("wecom archive: %w", err)
		}
		return sdk, nil
	case v1alpha1.WeComSDKBridge:
		u := p.Settings[cc.SettingSDKBridgeURL]
		if u == "" {
			return nil, fmt.Errorf("wecom archive: setting %s is required when %s is Bridge", cc.SettingSDKBridgeURL, cc.SettingSDKMode)
		}
		b, err := NewBridgeClient(u, hc)
		if err != nil {
			return nil, fmt.Errorf("wecom archive: %w", err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("wecom archive: setting %s must be Native or Bridge, got %q", cc.SettingSDKMode, mode)
}

// Name implements connector.Channel.
func (c *Channel) Name() string { return ChannelName }

// Notify wakes the puller now (a msgaudit_notify callback arrived). It
// never blocks.
func (c *Channel) Notify() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// Cursor is the persisted seq: everything up to it is in the spool.
func (c *Channel) Cursor() uint64 { return c.cursor.Load() }

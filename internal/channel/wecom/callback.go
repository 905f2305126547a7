package wecom

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/channel/inbound"
	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

// Defaults of CallbackConfig.
const (
	// DefaultWindow is how far a callback's signed timestamp may be from the
	// connector's clock. WeCom gives no rule; retries come within minutes.
	DefaultWindow = 10 * time.Minute
	// DefaultMaxBodyBytes bounds a callback body; WeCom's are a few KiB.
	DefaultMaxBodyBytes = 256 << 10
	// DefaultReplayCacheSize bounds remembered (timestamp, nonce, signature).
	DefaultReplayCacheSize = 200_000
	// DefaultDedupeCacheSize bounds remembered MsgIds and event identities.
	DefaultDedupeCacheSize = 100_000
)

// ReasonKfNotConfigured counts kf_msg_or_event callbacks refused because no
// customer-service secret is configured to sync them.
const ReasonKfNotConfigured = "kf_not_configured"

// Reasons are the rejected_total reasons a callback handler adds to
// inbound.CommonReasons; pass them to inbound.NewMetrics so every series
// starts at zero.
var Reasons = []string{inbound.ReasonDecrypt, inbound.ReasonWrongReceiver, ReasonKfNotConfigured}

// replyOK is the body that tells WeCom a callback was taken.
const replyOK = "success"

// CallbackConfig configures NewCallbackHandler.
type CallbackConfig struct {
	// Token and EncodingAESKey are the callback settings of the app in the
	// admin console; ReceiveID is the corp id messages must be addressed to.
	Token          string
	EncodingAESKey string
	ReceiveID      string

	Sink    connector.Sink
	Metrics *inbound.Metrics
	Log     logr.Logger

	// RecordChannel is capture.Record.Channel (default ChannelName); Tenant
	// is capture.Record.Tenant (default ReceiveID).
	RecordChannel string
	Tenant        string

	// Window is the freshness window (default DefaultWindow), checked after
	// the signature. Zero values of the sizes take the defaults above.
	Window          time.Duration
	MaxBodyBytes    int64
	ReplayCacheSize int
	DedupeCacheSize int
	// Now is the clock (default time.Now); tests inject one.
	Now func() time.Time

	// OnArchiveNotify, when set, is called for msgaudit_notify events instead
	// of capturing them. It must return quickly (WeCom waits at most 5 s):
	// wake a puller, do not pull.
	OnArchiveNotify func()
	// OnKfEvent, when set, is called for kf_msg_or_event with the event's
	// OpenKfId and sync Token; it must return quickly. An error refuses the
	// callback (a *inbound.Rejection keeps its status and reason), so WeCom
	// retries. When nil, kf events are refused with ReasonKfNotConfigured.
	OnKfEvent func(openKfID, token string) error
}

// CallbackHandler serves a WeCom callback URL: GET is the URL verification,
// POST a pushed message or event.
type CallbackHandler struct {
	cfg     CallbackConfig
	crypter *wxcrypt.Crypter
	replay  *inbound.ReplayCache
	dedupe  *inbound.SeenCache
}

// NewCallbackHandler checks the configuration and builds the handler.
func NewCallbackHandler(cfg CallbackConfig) (*CallbackHandler, error) {
	switch {
	case cfg.Token == "":
		return nil, errors.New("wecom callback: the callback token is empty")
	case cfg.ReceiveID == "":
		return nil, errors.New("wecom callback: the receive id (corp id) is empty")
	case cfg.Sink == nil || cfg.Metrics == nil:
		return nil, errors.New("wecom callback: a sink and metrics are required")
	}
	c, err := wxcrypt.New(cfg.Token, cfg.EncodingAESKey, cfg.ReceiveID)
	if err != nil {
		return nil, fmt.Errorf("wecom callback: %w", err)
	}
	if cfg.RecordChannel == "" {
		cfg.RecordChannel = ChannelName
	}
	if cfg.Tenant == "" {
		cfg.Tenant = cfg.ReceiveID
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.ReplayCacheSize <= 0 {
		cfg.ReplayCacheSize = DefaultReplayCacheSize
	}
	if cfg.DedupeCacheSize <= 0 {
		cfg.DedupeCacheSize = DefaultDedupeCacheSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &CallbackHandler{
		cfg:     cfg,
		crypter: c,
		// A timestamp up to one window in the future stays acceptable for
		// two windows, so its entry must live that long.
		replay: inbound.NewReplayCache(2*cfg.Window, cfg.ReplayCacheSize),
		dedupe: inbound.NewSeenCache(cfg.DedupeCacheSize),
	}, nil
}

func (h *CallbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var rej *inbound.Rejection
	switch r.Method {
	case http.MethodGet:
		rej = h.verifyURL(w, r)
	case http.MethodPost:
		rej = h.receive(w, r)
	default:
		rej = inbound.MethodNotAllowed(w, "GET, POST")
	}
	if rej != nil {
		h.cfg.Metrics.Refuse(w, h.cfg.Log, rej)
	}
}

// signedQuery is the signature part of a callback URL. r.URL.Query() has
// already URL-decoded each value once, as the vendor requires.
type signedQuery struct {
	signature, timestamp, nonce string
}

func readSignedQuery(r *http.Request) (signedQuery, string, *inbound.Rejection) {
	q := r.URL.Query()
	s := signedQuery{signature: q.Get("msg_signature"), timestamp: q.Get("timestamp"), nonce: q.Get("nonce")}
	if s.signature == "" || s.timestamp == "" || s.nonce == "" {
		return s, "", inbound.Unauthorized(inbound.ReasonMissingSignature,
			errors.New("msg_signature, timestamp and nonce are required"))
	}
	return s, q.Get("echostr"), nil
}

// authenticate checks msg_signature over the ciphertext exactly as
// received, then the timestamp's freshness.
func (h *CallbackHandler) authenticate(s signedQuery, encrypted string, now time.Time) *inbound.Rejection {
	if err := wxcrypt.VerifySignature(s.signature, h.cfg.Token, s.timestamp, s.nonce, encrypted); err != nil {
		return inbound.Unauthorized(inbound.ReasonBadSignature, errors.New("msg_signature does not verify"))
	}
	ts, err := inbound.ParseUnixSeconds(s.timestamp)
	if err != nil {
		return inbound.Malformed("%v", err)
	}
	return inbound.CheckFresh(ts, now, h.cfg.Window)
}

// decrypt opens the ciphertext, telling a wrong receive id from damage.
func (h *CallbackHandler) decrypt(encrypted string) ([]byte, *inbound.Rejection) {
	plain, _, err := h.crypter.Decrypt(encrypted)
	switch {
	case err == nil:
		return plain, nil
	case errors.Is(err, wxcrypt.ErrValidateReceiver):
		return nil, inbound.Unauthorized(inbound.ReasonWrongReceiver,
			errors.New("the message is addressed to another corp id"))
	}
	var coded *wxcrypt.Error
	code := 0
	if errors.As(err, &coded) {
		code = coded.Code
	}
	return nil, inbound.Refuse(http.StatusBadRequest, inbound.ReasonDecrypt, fmt.Errorf("the message does not decrypt (%d)", code))
}

// verifyURL answers the admin console's URL check with the decrypted
// echostr, exactly: 200, text/plain, no newline.
func (h *CallbackHandler) verifyURL(w http.ResponseWriter, r *http.Request) *inbound.Rejection {
	s, echostr, rej := readSignedQuery(r)
	if rej != nil {
		return rej
	}
	if echostr == "" {
		return inbound.Malformed("echostr is required")
	}
	if rej := h.authenticate(s, echostr, h.cfg.Now()); rej != nil {
		return rej
	}
	plain, rej := h.decrypt(echostr)
	if rej != nil {
		return rej
	}
	h.cfg.Log.Info("WeCom callback URL verified")
	inbound.WriteText(w, http.StatusOK, string(plain))
	return nil
}

// receive handles one pushed message or event.
func (h *CallbackHandler) receive(w http.ResponseWriter, r *http.Request) *inbound.Rejection {
	body, rej := inbound.ReadBody(w, r, h.cfg.MaxBodyBytes)
	if rej != nil {
		return rej
	}
	s, _, rej := readSignedQuery(r)
	if rej != nil {
		return rej
	}
	env, err := wxcrypt.ParseEnvelope(body)
	if err != nil {
		return inbound.Malformed("envelope: %v", err)
	}
	now := h.cfg.Now()
	if rej := h.authenticate(s, env.Encrypt, now); rej != nil {
		return rej
	}
	replayKey := inbound.Key(s.timestamp, s.nonce, strings.ToLower(s.signature))
	if rej := h.replay.ReserveOrRefuse(replayKey, now); rej != nil {
		return rej
	}
	if rej := h.handleAuthentic(w, r, env.Encrypt, now); rej != nil {
		// Not taken, so WeCom's retry of this very request must be accepted.
		h.replay.Release(replayKey)
		return rej
	}
	return nil
}

// handleAuthentic decrypts, dedupes and dispatches a verified callback.
func (h *CallbackHandler) handleAuthentic(w http.ResponseWriter, r *http.Request, encrypted string, now time.Time) *inbound.Rejection {
	plain, rej := h.decrypt(encrypted)
	if rej != nil {
		return rej
	}
	meta := recordMeta{channel: h.cfg.RecordChannel, tenant: h.cfg.Tenant, receivedAt: now}
	m, err := parseAppMessage(plain)
	if err != nil {
		// Authentic but unreadable: kept whole rather than lost.
		h.cfg.Log.Info("WeCom callback message could not be parsed; kept as an unparsed record", "bytes", len(plain))
		sum := sha256.Sum256(plain)
		return h.once(w, "raw\x00"+string(sum[:]), func() *inbound.Rejection {
			return h.store(w, r, unparsedRecord(plain, meta))
		})
	}
	return h.once(w, m.dedupeKey(), func() *inbound.Rejection {
		return h.dispatch(w, r, m, plain, meta)
	})
}

// once runs take unless key was already taken, and remembers key once take
// succeeds. A duplicate is answered as a success.
func (h *CallbackHandler) once(w http.ResponseWriter, key string, take func() *inbound.Rejection) *inbound.Rejection {
	if h.dedupe.Seen(key) {
		h.cfg.Metrics.Duplicates.Inc()
		inbound.WriteText(w, http.StatusOK, replyOK)
		return nil
	}
	if rej := take(); rej != nil {
		return rej
	}
	h.dedupe.Add(key)
	inbound.WriteText(w, http.StatusOK, replyOK)
	return nil
}

// dispatch routes a parsed callback: archive notifications and kf sync
// triggers go to their hooks, everything else is captured.
func (h *CallbackHandler) dispatch(w http.ResponseWriter, r *http.Request, m *appMessage, plain []byte, meta recordMeta) *inbound.Rejection {
	if string(m.MsgType) == msgTypeEvent {
		switch string(m.Event) {
		case eventMsgAuditNotify:
			if h.cfg.OnArchiveNotify != nil {
				h.cfg.OnArchiveNotify()
				return nil
			}
		case eventKfMsgOrEvent:
			return h.kfEvent(w, r, m, plain, meta)
		}
	}
	return h.store(w, r, appRecord(m, plain, meta))
}

func (h *CallbackHandler) kfEvent(w http.ResponseWriter, r *http.Request, m *appMessage, plain []byte, meta recordMeta) *inbound.Rejection {
	if h.cfg.OnKfEvent == nil {
		// Refusing would only make WeCom retry and then drop the event; the
		// messages it announces cannot be synced without the secret, so the
		// hole is recorded in the archive, where an auditor sees it.
		h.cfg.Log.Info("WeChat Customer Service messages cannot be synced: no customer-service secret is configured; recording the gap",
			"credential", "corpSecret", "reason", ReasonKfNotConfigured)
		h.cfg.Metrics.Rejected.WithLabelValues(ReasonKfNotConfigured).Inc()
		return h.store(w, r, kfGapRecord(m, plain, meta))
	}
	if m.OpenKfID == "" {
		return inbound.Malformed("kf_msg_or_event without OpenKfId")
	}
	if err := h.cfg.OnKfEvent(string(m.OpenKfID), string(m.Token)); err != nil {
		var rej *inbound.Rejection
		if errors.As(err, &rej) {
			return rej
		}
		return inbound.Refuse(http.StatusServiceUnavailable, inbound.ReasonInternal, errors.New("customer-service sync could not be scheduled; retry later"))
	}
	return nil
}

// store hands one record to the sink.
func (h *CallbackHandler) store(w http.ResponseWriter, r *http.Request, rec *capture.Record) *inbound.Rejection {
	if rej := inbound.Capture(r.Context(), w, h.cfg.Log, h.cfg.Sink, []*capture.Record{rec}); rej != nil {
		return rej
	}
	h.cfg.Metrics.Accepted.Inc()
	return nil
}

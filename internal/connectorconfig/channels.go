package connectorconfig

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

// Credential keys, shared by the channels that read them and the controller
// that checks them. docs/channels/<channel>.md documents each.
const (
	KeyHMACSecret     = "hmacSecret"
	KeyCallbackToken  = "callbackToken"
	KeyEncodingAESKey = "encodingAESKey"
	KeyCorpSecret     = "corpSecret"
	KeyPrivateKeys    = "privateKeys"
	KeyToken          = "token"
	KeyAppSecret      = "appSecret"
	KeyVerifyToken    = "verifyToken"
	KeySigningSecret  = "signingSecret"
	KeySecretToken    = "secretToken"
	KeyChannelSecret  = "channelSecret"
)

// CredentialKey is one key of a channel's credentials Secret.
type CredentialKey struct {
	Name string
	// Optional keys enable a feature when present (for example WeCom archive
	// pull notifications) and are checked only then.
	Optional bool
	// Check returns what is wrong with a value, or ""; it never quotes it.
	Check func(value []byte) string
}

// minSharedSecretBytes is the shortest HMAC secret of our own webhook: keys
// shorter than the hash output weaken HMAC-SHA256.
const minSharedSecretBytes = 32

var (
	telegramSecretToken = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
	wechatToken         = regexp.MustCompile(`^[A-Za-z0-9]{3,32}$`)
)

// The WeChat-family channels trim surrounding whitespace from tokens and
// keys (their alphabets have none), so a Secret made from a file with a
// trailing newline works; the checks agree with them.
func checkEncodingAESKey(v []byte) string {
	if _, err := wxcrypt.DecodeKey(strings.TrimSpace(string(v))); err != nil {
		return "must be the 43-character EncodingAESKey from the admin console"
	}
	return ""
}

func checkWeChatToken(v []byte) string {
	if !wechatToken.MatchString(strings.TrimSpace(string(v))) {
		return "must be 3 to 32 letters or digits, as the admin console allows"
	}
	return ""
}

func checkPrivateKeys(v []byte) string {
	ring, err := wxcrypt.ParseKeyRing(v)
	if err != nil {
		return err.Error()
	}
	if ring.Len() == 0 {
		return "holds no RSA private key"
	}
	return ""
}

func minLength(n int) func([]byte) string {
	return func(v []byte) string {
		if len(v) < n {
			return fmt.Sprintf("is %d bytes; use at least %d random bytes", len(v), n)
		}
		return ""
	}
}

// channelCredentials lists, per channel, the keys of its credentials Secret.
var channelCredentials = map[v1alpha1.Channel][]CredentialKey{
	v1alpha1.ChannelWeComArchive: {
		{Name: KeyCorpSecret},
		{Name: KeyPrivateKeys, Check: checkPrivateKeys},
		{Name: KeyCallbackToken, Optional: true, Check: checkWeChatToken},
		{Name: KeyEncodingAESKey, Optional: true, Check: checkEncodingAESKey},
	},
	v1alpha1.ChannelWeComCallback: {
		{Name: KeyCallbackToken, Check: checkWeChatToken},
		{Name: KeyEncodingAESKey, Check: checkEncodingAESKey},
		// The customer-service secret, needed to sync 微信客服 messages.
		{Name: KeyCorpSecret, Optional: true},
	},
	v1alpha1.ChannelWeChatOfficialAccount: {
		{Name: KeyToken, Check: checkWeChatToken},
		// Required unless the account's mode is Plaintext; see
		// CredentialKeysFor.
		{Name: KeyEncodingAESKey, Optional: true, Check: checkEncodingAESKey},
	},
	v1alpha1.ChannelWhatsApp: {
		{Name: KeyAppSecret},
		{Name: KeyVerifyToken},
	},
	v1alpha1.ChannelSlack: {{Name: KeySigningSecret}},
	v1alpha1.ChannelTelegram: {{Name: KeySecretToken, Check: func(v []byte) string {
		if !telegramSecretToken.Match(v) {
			return "must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -, as setWebhook requires"
		}
		return ""
	}}},
	v1alpha1.ChannelLINE:      {{Name: KeyChannelSecret}},
	v1alpha1.ChannelWebhook:   {{Name: KeyHMACSecret, Check: minLength(minSharedSecretBytes)}},
	v1alpha1.ChannelSimulator: nil,
}

// CredentialKeysFor returns the keys an account's channel reads, with the
// ones its settings make mandatory marked as required.
func CredentialKeysFor(spec *v1alpha1.MonitoredAccountSpec) []CredentialKey {
	keys := append([]CredentialKey(nil), channelCredentials[spec.Channel]...)
	if spec.Channel == v1alpha1.ChannelWeChatOfficialAccount &&
		(spec.WeChatOfficialAccount == nil || spec.WeChatOfficialAccount.Mode != v1alpha1.WeChatModePlaintext) {
		for i := range keys {
			if keys[i].Name == KeyEncodingAESKey {
				keys[i].Optional = false
			}
		}
	}
	return keys
}

// RequiredCredentialKeys returns the names of the keys an account's Secret
// must hold; nil when the channel needs no credentials.
func RequiredCredentialKeys(spec *v1alpha1.MonitoredAccountSpec) []string {
	var names []string
	for _, k := range CredentialKeysFor(spec) {
		if !k.Optional {
			names = append(names, k.Name)
		}
	}
	return names
}

// CredentialKeyNames returns every key the channel may read, so the pod
// mounts all of them.
func CredentialKeyNames(spec *v1alpha1.MonitoredAccountSpec) []string {
	var names []string
	for _, k := range CredentialKeysFor(spec) {
		names = append(names, k.Name)
	}
	return names
}

// NeedsCredentials reports whether a channel reads a credentials Secret.
func NeedsCredentials(ch v1alpha1.Channel) bool {
	return len(channelCredentials[ch]) > 0
}

// ReceivesWebhooks reports whether the channel's connector takes inbound HTTP
// from the channel (and so needs its Service reachable from an ingress).
func ReceivesWebhooks(ch v1alpha1.Channel) bool {
	return ch != v1alpha1.ChannelSimulator
}

// Channel setting keys: the typed settings of config.json become these
// string settings of connector.ChannelParams.
const (
	SettingAPIBaseURL   = "apiBaseURL"
	SettingSDKMode      = "sdkMode"
	SettingSDKBridgeURL = "sdkBridgeURL"
	SettingPollInterval = "pollInterval"
	SettingPullLimit    = "pullLimit"
	SettingMessageMode  = "messageMode"
)

// Settings flattens a config file's channel settings.
func Settings(f *File) map[string]string {
	s := map[string]string{}
	if w := f.WeCom; w != nil {
		set := func(k, v string) {
			if v != "" {
				s[k] = v
			}
		}
		set(SettingAPIBaseURL, w.APIBaseURL)
		set(SettingSDKMode, string(w.SDKMode))
		set(SettingSDKBridgeURL, w.SDKBridgeURL)
		if w.PollInterval != nil {
			set(SettingPollInterval, w.PollInterval.Duration.String())
		}
		if w.PullLimit > 0 {
			set(SettingPullLimit, fmt.Sprint(w.PullLimit))
		}
	}
	if o := f.WeChatOfficialAccount; o != nil && o.Mode != "" {
		s[SettingMessageMode] = string(o.Mode)
	}
	return s
}

// DefaultWeComAPIBaseURL is WeCom's server API.
const DefaultWeComAPIBaseURL = "https://qyapi.weixin.qq.com"

// VendorEgressPorts lists the TCP ports a channel's connector must reach
// outside the cluster: the vendor's API (WeCom access tokens, msgaudit and
// customer-service sync; the native Finance SDK also talks to it) and the
// SDK bridge. Push-only channels need none: providers call them. The
// NetworkPolicy cannot name hosts, so these ports are opened to any address.
func VendorEgressPorts(spec *v1alpha1.MonitoredAccountSpec) []int32 {
	if spec.Channel != v1alpha1.ChannelWeComArchive && spec.Channel != v1alpha1.ChannelWeComCallback {
		return nil
	}
	urls := []string{DefaultWeComAPIBaseURL}
	if w := spec.WeCom; w != nil {
		if w.APIBaseURL != "" {
			urls[0] = w.APIBaseURL
		}
		if spec.Channel == v1alpha1.ChannelWeComArchive && w.SDKMode == v1alpha1.WeComSDKBridge && w.SDKBridgeURL != "" {
			urls = append(urls, w.SDKBridgeURL)
		}
	}
	var ports []int32
	for _, raw := range urls {
		p := urlPort(raw)
		if p != 0 && !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports
}

// urlPort is a URL's explicit port, or its scheme's default; 0 if unparsable.
func urlPort(raw string) int32 {
	u, err := url.Parse(raw)
	if err != nil {
		return 0
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return 0
		}
		return int32(n)
	}
	switch u.Scheme {
	case "https":
		return 443
	case "http":
		return 80
	}
	return 0
}

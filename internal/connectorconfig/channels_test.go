package connectorconfig

import (
	"crypto/rand"
	"crypto/rsa"
	"slices"
	"strings"
	"testing"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

func TestEveryChannelHasCredentialRules(t *testing.T) {
	for _, ch := range []v1alpha1.Channel{
		v1alpha1.ChannelWeComArchive, v1alpha1.ChannelWeComCallback, v1alpha1.ChannelWeChatOfficialAccount,
		v1alpha1.ChannelWhatsApp, v1alpha1.ChannelSlack, v1alpha1.ChannelTelegram, v1alpha1.ChannelLINE, v1alpha1.ChannelWebhook,
	} {
		if !NeedsCredentials(ch) || len(RequiredCredentialKeys(&v1alpha1.MonitoredAccountSpec{Channel: ch})) == 0 {
			t.Errorf("%s: needs credentials but requires no key", ch)
		}
		if !ReceivesWebhooks(ch) {
			t.Errorf("%s: receives provider pushes", ch)
		}
	}
	if NeedsCredentials(v1alpha1.ChannelSimulator) || ReceivesWebhooks(v1alpha1.ChannelSimulator) {
		t.Error("the simulator needs neither credentials nor a webhook")
	}
}

func TestOfficialAccountKeyDependsOnMode(t *testing.T) {
	secure := &v1alpha1.MonitoredAccountSpec{Channel: v1alpha1.ChannelWeChatOfficialAccount}
	plain := &v1alpha1.MonitoredAccountSpec{Channel: v1alpha1.ChannelWeChatOfficialAccount,
		WeChatOfficialAccount: &v1alpha1.WeChatOfficialAccountSpec{Mode: v1alpha1.WeChatModePlaintext}}
	if got := RequiredCredentialKeys(secure); !slices.Equal(got, []string{KeyToken, KeyEncodingAESKey}) {
		t.Errorf("secure mode requires %v", got)
	}
	if got := RequiredCredentialKeys(plain); !slices.Equal(got, []string{KeyToken}) {
		t.Errorf("plaintext mode requires %v", got)
	}
	if got := CredentialKeyNames(plain); !slices.Contains(got, KeyEncodingAESKey) {
		t.Errorf("the optional key is still read when present: %v", got)
	}
}

func check(t *testing.T, ch v1alpha1.Channel, key string, value []byte) string {
	t.Helper()
	for _, k := range CredentialKeysFor(&v1alpha1.MonitoredAccountSpec{Channel: ch}) {
		if k.Name == key {
			if k.Check == nil {
				return ""
			}
			return k.Check(value)
		}
	}
	t.Fatalf("%s has no key %s", ch, key)
	return ""
}

func TestCredentialShapeChecks(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		ch     v1alpha1.Channel
		key    string
		value  string
		wantOK bool
	}{
		{"official AES key", v1alpha1.ChannelWeComCallback, KeyEncodingAESKey, "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", true},
		{"AES key one short", v1alpha1.ChannelWeComCallback, KeyEncodingAESKey, "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2", false},
		{"AES key with a trailing newline", v1alpha1.ChannelWeComCallback, KeyEncodingAESKey, "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C\n", true},
		{"callback token", v1alpha1.ChannelWeComCallback, KeyCallbackToken, "QDG6eK", true},
		{"callback token with symbols", v1alpha1.ChannelWeComCallback, KeyCallbackToken, "to-ken!", false},
		{"telegram token", v1alpha1.ChannelTelegram, KeySecretToken, "abc_DEF-123", true},
		{"telegram token with a newline (the channel compares it exactly)", v1alpha1.ChannelTelegram, KeySecretToken, "abc_DEF-123\n", false},
		{"telegram token with a space", v1alpha1.ChannelTelegram, KeySecretToken, "abc def", false},
		{"archive key ring", v1alpha1.ChannelWeComArchive, KeyPrivateKeys, string(wxcrypt.EncodeKey(3, key)), true},
		{"archive key without version", v1alpha1.ChannelWeComArchive, KeyPrivateKeys,
			strings.Replace(string(wxcrypt.EncodeKey(3, key)), wxcrypt.HeaderKeyVersion+": 3\n", "", 1), false},
		{"archive key ring not PEM", v1alpha1.ChannelWeComArchive, KeyPrivateKeys, "hello", false},
		{"short webhook secret", v1alpha1.ChannelWebhook, KeyHMACSecret, "short", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := check(t, tc.ch, tc.key, []byte(tc.value))
			if (msg == "") != tc.wantOK {
				t.Fatalf("check = %q, want ok=%v", msg, tc.wantOK)
			}
			if msg != "" && len(tc.value) > 4 && strings.Contains(msg, tc.value) {
				t.Fatalf("the message quotes the value: %q", msg)
			}
		})
	}
}

func TestVendorEgressPorts(t *testing.T) {
	tests := []struct {
		name string
		spec v1alpha1.MonitoredAccountSpec
		want []int32
	}{
		{"push channel calls nobody", v1alpha1.MonitoredAccountSpec{Channel: v1alpha1.ChannelSlack}, nil},
		{"archive reaches WeCom's API", v1alpha1.MonitoredAccountSpec{Channel: v1alpha1.ChannelWeComArchive}, []int32{443}},
		{"archive through a bridge", v1alpha1.MonitoredAccountSpec{Channel: v1alpha1.ChannelWeComArchive,
			WeCom: &v1alpha1.WeComSpec{SDKMode: v1alpha1.WeComSDKBridge, SDKBridgeURL: "http://wecom-sdk-bridge.vigil-system:9000"}}, []int32{443, 9000}},
		{"callback with a private API gateway", v1alpha1.MonitoredAccountSpec{Channel: v1alpha1.ChannelWeComCallback,
			WeCom: &v1alpha1.WeComSpec{APIBaseURL: "http://qyapi-proxy.internal"}}, []int32{80}},
		{"bridge URL ignored on the callback channel", v1alpha1.MonitoredAccountSpec{Channel: v1alpha1.ChannelWeComCallback,
			WeCom: &v1alpha1.WeComSpec{SDKMode: v1alpha1.WeComSDKBridge, SDKBridgeURL: "http://b:9000"}}, []int32{443}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := VendorEgressPorts(&tc.spec); !slices.Equal(got, tc.want) {
				t.Fatalf("ports = %v, want %v", got, tc.want)
			}
		})
	}
}

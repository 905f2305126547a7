package wecomarchive_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigil-operator/vigil/internal/channel/wecomarchive"
	"github.com/vigil-operator/vigil/internal/connector"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
)

func TestFactoryChecksConfiguration(t *testing.T) {
	cases := map[string]struct {
		edit func(p *connector.ChannelParams)
		want string
	}{
		"no corp id":          {func(p *connector.ChannelParams) { p.ExternalID = "" }, "corp id"},
		"no secret":           {func(p *connector.ChannelParams) { delete(p.Credentials, cc.KeyCorpSecret) }, cc.KeyCorpSecret},
		"bad keys":            {func(p *connector.ChannelParams) { p.Credentials[cc.KeyPrivateKeys] = []byte("nope") }, cc.KeyPrivateKeys},
		"empty keys":          {func(p *connector.ChannelParams) { p.Credentials[cc.KeyPrivateKeys] = nil }, "no RSA private key"},
		"poll too short":      {func(p *connector.ChannelParams) { p.Settings[cc.SettingPollInterval] = "10ms" }, cc.SettingPollInterval},
		"poll not a duration": {func(p *connector.ChannelParams) { p.Settings[cc.SettingPollInterval] = "often" }, cc.SettingPollInterval},
		"limit too big":       {func(p *connector.ChannelParams) { p.Settings[cc.SettingPullLimit] = "1001" }, cc.SettingPullLimit},
		"bridge without url":  {func(p *connector.ChannelParams) { p.Settings[cc.SettingSDKMode] = "Bridge" }, cc.SettingSDKBridgeURL},
		"unknown mode":        {func(p *connector.ChannelParams) { p.Settings[cc.SettingSDKMode] = "Magic" }, cc.SettingSDKMode},
		"token without key":   {func(p *connector.ChannelParams) { p.Credentials[cc.KeyCallbackToken] = []byte(cbToken) }, cc.KeyEncodingAESKey},
		"bad aes key": {func(p *connector.ChannelParams) {
			p.Credentials[cc.KeyCallbackToken] = []byte(cbToken)
			p.Credentials[cc.KeyEncodingAESKey] = []byte("short")
		}, "callback"},
		"no state dir": {func(p *connector.ChannelParams) { p.StateDir = "" }, "state directory"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := params(t, t.TempDir(), 1)
			p.Settings[cc.SettingSDKMode] = "Bridge"
			p.Settings[cc.SettingSDKBridgeURL] = "http://127.0.0.1:1"
			tc.edit(&p)
			if tc.want == cc.SettingSDKBridgeURL {
				delete(p.Settings, cc.SettingSDKBridgeURL)
			}
			_, err := wecomarchive.Factory(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "archive-secret") {
				t.Fatal("error leaks the secret")
			}
		})
	}
}

func TestFactoryModes(t *testing.T) {
	p := params(t, t.TempDir(), 1)
	p.Settings[cc.SettingSDKMode] = "Bridge"
	p.Settings[cc.SettingSDKBridgeURL] = "http://127.0.0.1:1"
	ch, err := wecomarchive.Factory(p)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Name() != "wecom_archive" {
		t.Fatalf("name %q", ch.Name())
	}
	// Without callback credentials the callback path answers 404.
	wc := ch.(connector.WebhookChannel)
	rec := httptest.NewRecorder()
	wc.WebhookHandler(nil).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, wecomarchive.Path, nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("unconfigured callback: %d", rec.Code)
	}
}

//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

// The channel tests sign traffic from the vendors' specifications here, not
// with the channels' own helpers, so that a mistake shared by a channel and
// its helper cannot pass.
const (
	channelsNS    = "e2e-channels"
	wecomToken    = "QDG6eK"
	wecomAESKey   = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	wecomCorpID   = "wwe2e0000000000001"
	oaToken       = "AAAAA"
	oaAESKey      = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	oaAppID       = "wxe2e00000000000a1"
	waAppSecret   = "e2e-whatsapp-app-secret"
	waPhoneID     = "106540352242922"
	slackSecret   = "8f742231b10e8888abcd99yyyzzz85a5"
	slackTeam     = "T1DC2JH3J"
	tgSecretToken = "e2e_telegram-secret"
	lineSecret    = "testchannelsecret"
	lineBotID     = "U4af4980629e2e00000000000000000a1"
	// insiderText makes every channel's message fire the channels policy.
	insiderText = "内幕消息: 明天公告收购, 先买入"
)

// channelCase is one channel's end-to-end check: an account with its
// Secret, and official-format signed traffic of records messages.
type channelCase struct {
	name, channel, externalID string
	secret                    map[string]string
	extraSpec                 string
	// send posts the traffic to the connector at base and returns how many
	// records the archive must end up with.
	send func(t *testing.T, base string) int64
}

func channelCases() []channelCase {
	return []channelCase{
		{name: "wecom-callback", channel: "WeComCallback", externalID: wecomCorpID,
			secret: map[string]string{"callbackToken": wecomToken, "encodingAESKey": wecomAESKey}, send: sendWeComCallback},
		{name: "wechat-oa", channel: "WeChatOfficialAccount", externalID: oaAppID,
			secret: map[string]string{"token": oaToken, "encodingAESKey": oaAESKey}, extraSpec: "  wechatOfficialAccount: {mode: Secure}\n",
			send: sendWeChatOA},
		{name: "whatsapp", channel: "WhatsApp", externalID: waPhoneID,
			secret: map[string]string{"appSecret": waAppSecret, "verifyToken": "e2e-verify"}, send: sendWhatsApp},
		{name: "slack", channel: "Slack", externalID: slackTeam, secret: map[string]string{"signingSecret": slackSecret}, send: sendSlack},
		{name: "telegram", channel: "Telegram", externalID: "7000000001", secret: map[string]string{"secretToken": tgSecretToken}, send: sendTelegram},
		{name: "line", channel: "LINE", externalID: lineBotID, secret: map[string]string{"channelSecret": lineSecret}, send: sendLINE},
	}
}

// testChannels enrols one account per channel, sends each its vendor's
// signed traffic and checks the archive counts the records and their
// findings, and that a forged request is refused and stores nothing.
func testChannels(t *testing.T, d *devSystem) {
	ctx := context.Background()
	var docs strings.Builder
	fmt.Fprintf(&docs, `apiVersion: v1
kind: Namespace
metadata:
  name: %[1]s
  labels: {pod-security.kubernetes.io/enforce: restricted}
---
apiVersion: compliance.vigil.dev/v1alpha1
kind: CompliancePolicy
metadata: {name: channels-insider, namespace: %[1]s}
spec:
  accountSelector: {matchLabels: {desk: channels}}
  rules:
  - {name: insider-zh, category: InsiderTrading, severity: High, keywords: {terms: [内幕消息]}}
`, channelsNS)
	cases := channelCases()
	for _, c := range cases {
		fmt.Fprintf(&docs, "---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s-creds, namespace: %s}\nstringData:\n", c.name, channelsNS)
		for k, v := range c.secret {
			fmt.Fprintf(&docs, "  %s: %q\n", k, v)
		}
		fmt.Fprintf(&docs, `---
apiVersion: compliance.vigil.dev/v1alpha1
kind: MonitoredAccount
metadata: {name: %[1]s, namespace: %[2]s, labels: {desk: channels}}
spec:
  channel: %[3]s
  externalID: %[4]q
  custodian: {name: Chen Jing}
  credentialsSecretRef: {name: %[1]s-creds}
%[5]s`, c.name, channelsNS, c.channel, c.externalID, c.extraSpec)
	}
	applyYAML(t, d.k8s, docs.String())

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			acct := &v1alpha1.MonitoredAccount{}
			waitFor(t, 5*time.Minute, c.name+" to be Ready with its policy", func() (bool, error) {
				if err := d.k8s.Get(ctx, client.ObjectKey{Namespace: channelsNS, Name: c.name}, acct); err != nil {
					return false, client.IgnoreNotFound(err)
				}
				return meta.IsStatusConditionTrue(acct.Status.Conditions, v1alpha1.ConditionReady) && len(acct.Status.AttachedPolicies) == 1, nil
			})
			pod := &corev1.Pod{}
			if err := d.k8s.Get(ctx, client.ObjectKey{Namespace: channelsNS, Name: c.name + "-connector-0"}, pod); err != nil {
				t.Fatal(err)
			}
			base := fmt.Sprintf("http://%s:8080", pod.Status.PodIP)
			want := c.send(t, base)
			waitFor(t, 2*time.Minute, fmt.Sprintf("%s to archive %d records with a finding", c.name, want), func() (bool, error) {
				if err := d.k8s.Get(ctx, client.ObjectKey{Namespace: channelsNS, Name: c.name}, acct); err != nil {
					return false, err
				}
				return acct.Status.Capture.MessagesCaptured == want && acct.Status.Findings.Total >= 1, nil
			})
		})
	}
}

// do sends a request and returns the status and body.
func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func expect(t *testing.T, what string, got, want int, body string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: status %d, want %d (%.200s)", what, got, want, body)
	}
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

func sendWeComCallback(t *testing.T, base string) int64 {
	c, err := wxcrypt.New(wecomToken, wecomAESKey, wecomCorpID)
	if err != nil {
		t.Fatal(err)
	}
	ts, nonce := strconv.FormatInt(time.Now().Unix(), 10), "e2e-nonce"
	// URL verification: the plaintext of echostr comes back verbatim.
	echo, echoSig, _ := c.EncryptMessage([]byte("8861284395672108"), ts, nonce)
	q := url.Values{"msg_signature": {echoSig}, "timestamp": {ts}, "nonce": {nonce}, "echostr": {echo}}
	code, body := do(t, mustRequest(t, http.MethodGet, base+"/wecom/callback?"+q.Encode(), nil))
	if code != http.StatusOK || body != "8861284395672108" {
		t.Fatalf("URL verification = %d %q", code, body)
	}
	msg := fmt.Sprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[chen.jing]]></FromUserName><CreateTime>%s</CreateTime>"+
		"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>7314982650001</MsgId><AgentID>1000002</AgentID></xml>", wecomCorpID, ts, insiderText)
	enc, sig, _ := c.EncryptMessage([]byte(msg), ts, nonce+"2")
	env := fmt.Sprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName><Encrypt><![CDATA[%s]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>", wecomCorpID, enc)
	post := func(sig string) (int, string) {
		q := url.Values{"msg_signature": {sig}, "timestamp": {ts}, "nonce": {nonce + "2"}}
		return do(t, mustRequest(t, http.MethodPost, base+"/wecom/callback?"+q.Encode(), []byte(env)))
	}
	code, body = post(strings.Repeat("0", 40))
	expect(t, "forged signature", code, http.StatusUnauthorized, body)
	code, body = post(sig)
	expect(t, "signed message", code, http.StatusOK, body)
	return 1
}

func sendWeChatOA(t *testing.T, base string) int64 {
	c, err := wxcrypt.New(oaToken, oaAESKey, oaAppID)
	if err != nil {
		t.Fatal(err)
	}
	ts, nonce := strconv.FormatInt(time.Now().Unix(), 10), "415670741"
	msg := fmt.Sprintf("<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName><FromUserName><![CDATA[o9AgO5Kd5ggOC-bXrbNODIiE3bGY]]></FromUserName>"+
		"<CreateTime>%s</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>24512345678901</MsgId></xml>", ts, insiderText)
	enc, msgSig, _ := c.EncryptMessage([]byte(msg), ts, nonce)
	body := []byte(fmt.Sprintf("<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName><Encrypt><![CDATA[%s]]></Encrypt></xml>", enc))
	q := url.Values{"signature": {wxcrypt.Signature(oaToken, ts, nonce)}, "timestamp": {ts}, "nonce": {nonce},
		"openid": {"o9AgO5Kd5ggOC-bXrbNODIiE3bGY"}, "encrypt_type": {"aes"}, "msg_signature": {msgSig}}
	// A plaintext push to a Secure account is a downgrade and is refused.
	plain := url.Values{"signature": {wxcrypt.Signature(oaToken, ts, nonce)}, "timestamp": {ts}, "nonce": {nonce}}
	code, resp := do(t, mustRequest(t, http.MethodPost, base+"/wechat/official-account?"+plain.Encode(), []byte(msg)))
	if code < 400 {
		t.Fatalf("plaintext push to a Secure account = %d %q, want a refusal", code, resp)
	}
	code, resp = do(t, mustRequest(t, http.MethodPost, base+"/wechat/official-account?"+q.Encode(), body))
	expect(t, "secure-mode push", code, http.StatusOK, resp)
	return 1
}

func sendWhatsApp(t *testing.T, base string) int64 {
	now := time.Now().Unix()
	body := []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp",`+
		`"metadata":{"display_phone_number":"15550783881","phone_number_id":"%s"},"contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],`+
		`"messages":[{"from":"16505551234","id":"wamid.E2E0001","timestamp":"%d","type":"text","text":{"body":"%s"}},`+
		`{"from":"16505551234","id":"wamid.E2E0002","timestamp":"%d","type":"text","text":{"body":"Does it come in another color?"}}]},"field":"messages"}]}]}`,
		waPhoneID, now, insiderText, now))
	forgedThenSigned(t, base+"/whatsapp", body, "not-the-app-secret", waAppSecret, func(secret string) map[string]string {
		return map[string]string{"X-Hub-Signature-256": "sha256=" + hex.EncodeToString(hmacSHA256([]byte(secret), body))}
	})
	return 2
}

func sendSlack(t *testing.T, base string) int64 {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	body := []byte(fmt.Sprintf(`{"token":"x","team_id":"%s","api_app_id":"A0E2E","type":"event_callback","event_id":"Ev0E2E0001","event_time":%s,`+
		`"event":{"type":"message","channel":"C0E2E","user":"U2CERLKJA","text":"%s","ts":"%s.000100","team":"%s","channel_type":"channel"}}`,
		slackTeam, ts, insiderText, ts, slackTeam))
	forgedThenSigned(t, base+"/slack/events", body, "wrong-signing-secret", slackSecret, func(secret string) map[string]string {
		return map[string]string{"X-Slack-Request-Timestamp": ts,
			"X-Slack-Signature": "v0=" + hex.EncodeToString(hmacSHA256([]byte(secret), []byte("v0:"+ts+":"+string(body))))}
	})
	return 1
}

func sendTelegram(t *testing.T, base string) int64 {
	body := []byte(fmt.Sprintf(`{"update_id":910000001,"message":{"message_id":42,"from":{"id":123456789,"is_bot":false,"first_name":"Chen"},`+
		`"chat":{"id":-1001234567890,"title":"Desk","type":"supergroup"},"date":%d,"text":"%s"}}`, time.Now().Unix(), insiderText))
	forgedThenSigned(t, base+"/telegram", body, "wrong-token", tgSecretToken, func(token string) map[string]string {
		return map[string]string{"X-Telegram-Bot-Api-Secret-Token": token}
	})
	return 1
}

func sendLINE(t *testing.T, base string) int64 {
	ms := time.Now().UnixMilli()
	body := []byte(fmt.Sprintf(`{"destination":"%s","events":[{"type":"message","mode":"active","timestamp":%d,`+
		`"source":{"type":"user","userId":"U4af4980629e2e0000000000000000001"},"webhookEventId":"01HE2E0000000000000000001",`+
		`"deliveryContext":{"isRedelivery":false},"replyToken":"b60d432864f44d079f6d8efe86cf404b",`+
		`"message":{"id":"444573844083572737","type":"text","quoteToken":"q3Plxr4AgKd","text":"%s"}}]}`, lineBotID, ms, insiderText))
	forgedThenSigned(t, base+"/line", body, "wrong-channel-secret", lineSecret, func(secret string) map[string]string {
		return map[string]string{"X-Line-Signature": base64.StdEncoding.EncodeToString(hmacSHA256([]byte(secret), body))}
	})
	return 1
}

// forgedThenSigned posts a JSON body twice: with the headers a wrong secret
// makes, which must be refused with 401, then with the account's secret,
// which must be accepted with 200.
func forgedThenSigned(t *testing.T, url string, body []byte, wrong, right string, headers func(secret string) map[string]string) {
	t.Helper()
	send := func(secret string) (int, string) {
		req := mustRequest(t, http.MethodPost, url, body)
		req.Header.Set("Content-Type", "application/json")
		for k, v := range headers(secret) {
			req.Header.Set(k, v)
		}
		return do(t, req)
	}
	code, resp := send(wrong)
	expect(t, "forged request", code, http.StatusUnauthorized, resp)
	code, resp = send(right)
	expect(t, "signed request", code, http.StatusOK, resp)
}

func mustRequest(t *testing.T, method, u string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

package wechatoa

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

// This file builds requests exactly as WeChat's servers send them, for
// end-to-end tests and for replaying a push by hand.

// VerifyQuery is the query of the admin console's URL verification (GET).
func VerifyQuery(token, timestamp, nonce, echostr string) url.Values {
	return url.Values{
		ParamSignature: {wxcrypt.Signature(token, timestamp, nonce)},
		ParamTimestamp: {timestamp}, ParamNonce: {nonce}, ParamEchostr: {echostr},
	}
}

// NewVerifyRequest builds the URL verification GET to target (the
// connector's base URL joined with Path).
func NewVerifyRequest(target, token, timestamp, nonce, echostr string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodGet, target+"?"+VerifyQuery(token, timestamp, nonce, echostr).Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("building verify request: %w", err)
	}
	return req, nil
}

// BuildPush returns the query and body WeChat sends for msg (a plaintext
// message in XML or JSON) in the given mode. Compatible and Secure need a
// crypter for the account's appid; Plaintext ignores it.
func BuildPush(mode Mode, token string, crypter *wxcrypt.Crypter, timestamp, nonce string, msg []byte) (url.Values, []byte, error) {
	m, err := parseMessage(msg)
	if err != nil {
		return nil, nil, fmt.Errorf("building push: %w", err)
	}
	q := url.Values{
		ParamSignature: {wxcrypt.Signature(token, timestamp, nonce)},
		ParamTimestamp: {timestamp}, ParamNonce: {nonce}, ParamOpenID: {m.FromUserName},
	}
	if mode == ModePlaintext {
		return q, msg, nil
	}
	if crypter == nil {
		return nil, nil, fmt.Errorf("building push: %s mode needs a crypter", mode)
	}
	enc, msgSig, err := crypter.EncryptMessage(msg, timestamp, nonce)
	if err != nil {
		return nil, nil, fmt.Errorf("building push: %w", err)
	}
	q.Set(ParamEncryptType, encryptTypeAES)
	q.Set(ParamMsgSignature, msgSig)
	var body []byte
	switch {
	case mode == ModeSecure && m.format == wxcrypt.FormatXML:
		body = []byte("<xml><ToUserName><![CDATA[" + m.ToUserName + "]]></ToUserName><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>")
	case mode == ModeSecure:
		body, err = json.Marshal(struct {
			ToUserName string
			Encrypt    string
		}{m.ToUserName, enc})
	case mode == ModeCompatible && m.format == wxcrypt.FormatXML:
		// The plaintext fields with Encrypt added before </xml>.
		i := bytes.LastIndex(msg, []byte("</xml>"))
		if i < 0 {
			return nil, nil, fmt.Errorf("building push: message has no </xml>")
		}
		body = append(append(append([]byte(nil), msg[:i]...), "<Encrypt><![CDATA["+enc+"]]></Encrypt>"...), msg[i:]...)
	case mode == ModeCompatible:
		var obj map[string]json.RawMessage
		if err = json.Unmarshal(msg, &obj); err == nil {
			obj["Encrypt"], _ = json.Marshal(enc)
			body, err = json.Marshal(obj)
		}
	default:
		return nil, nil, fmt.Errorf("building push: unknown mode %q", mode)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("building push: %w", err)
	}
	return q, body, nil
}

// NewPushRequest builds the signed POST that BuildPush describes.
func NewPushRequest(target string, mode Mode, token string, crypter *wxcrypt.Crypter, timestamp, nonce string, msg []byte) (*http.Request, error) {
	q, body, err := BuildPush(mode, token, crypter, timestamp, nonce, msg)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, target+"?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building push request: %w", err)
	}
	ct := "text/xml"
	if strings.HasPrefix(strings.TrimSpace(string(body)), "{") {
		ct = "application/json"
	}
	req.Header.Set("Content-Type", ct)
	return req, nil
}

package wecom

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-operator/vigil/internal/wxcrypt"
)

// SignedCallback builds the POST WeCom would send to callbackURL for msg
// (the plaintext XML or JSON message): encrypted for receiveID, wrapped in
// the XML or JSON envelope, signed with msg_signature, timestamp now and a
// random nonce. It is for end-to-end tests and for checking a deployment.
func SignedCallback(callbackURL, token, encodingAESKey, receiveID string, msg []byte, format wxcrypt.Format, now time.Time) (*http.Request, error) {
	c, err := wxcrypt.New(token, encodingAESKey, receiveID)
	if err != nil {
		return nil, fmt.Errorf("signing a callback: %w", err)
	}
	ts, nonce, err := stampAndNonce(now)
	if err != nil {
		return nil, err
	}
	encrypted, sig, err := c.EncryptMessage(msg, ts, nonce)
	if err != nil {
		return nil, fmt.Errorf("signing a callback: %w", err)
	}
	var body []byte
	contentType := "text/xml"
	switch format {
	case wxcrypt.FormatXML:
		if strings.Contains(receiveID, "]]>") {
			return nil, fmt.Errorf("signing a callback: receive id cannot be put in CDATA")
		}
		body = []byte("<xml><ToUserName><![CDATA[" + receiveID + "]]></ToUserName><Encrypt><![CDATA[" + encrypted + "]]></Encrypt></xml>")
	case wxcrypt.FormatJSON:
		contentType = "application/json"
		if body, err = json.Marshal(map[string]string{"tousername": receiveID, "encrypt": encrypted}); err != nil {
			return nil, fmt.Errorf("signing a callback: %w", err)
		}
	default:
		return nil, fmt.Errorf("signing a callback: unknown envelope format %d", format)
	}
	u, err := withQuery(callbackURL, url.Values{"msg_signature": {sig}, "timestamp": {ts}, "nonce": {nonce}})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("signing a callback: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	return req, nil
}

// SignedVerifyURL builds the GET the admin console sends when the callback
// URL is saved: echo encrypted as echostr; the handler must answer echo.
func SignedVerifyURL(callbackURL, token, encodingAESKey, receiveID, echo string, now time.Time) (*http.Request, error) {
	c, err := wxcrypt.New(token, encodingAESKey, receiveID)
	if err != nil {
		return nil, fmt.Errorf("signing a URL verification: %w", err)
	}
	ts, nonce, err := stampAndNonce(now)
	if err != nil {
		return nil, err
	}
	encrypted, sig, err := c.EncryptMessage([]byte(echo), ts, nonce)
	if err != nil {
		return nil, fmt.Errorf("signing a URL verification: %w", err)
	}
	u, err := withQuery(callbackURL, url.Values{"msg_signature": {sig}, "timestamp": {ts}, "nonce": {nonce}, "echostr": {encrypted}})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("signing a URL verification: %w", err)
	}
	return req, nil
}

// stampAndNonce returns now in unix seconds and a random decimal nonce, as
// WeCom sends them.
func stampAndNonce(now time.Time) (string, string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000_000))
	if err != nil {
		return "", "", fmt.Errorf("generating a nonce: %w", err)
	}
	return strconv.FormatInt(now.Unix(), 10), n.String(), nil
}

func withQuery(raw string, q url.Values) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("callback URL: %w", err)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

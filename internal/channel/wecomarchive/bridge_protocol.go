package wecomarchive

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The SDK bridge protocol lets the connector reach the vendor's Finance SDK
// over HTTP, so that the native library can run in a sidecar (or the fake in
// `vigil dev`). Every call is a POST of a JSON object:
//
//	POST /v1/GetChatData  {"seq":196,"limit":1000,"timeout":10}
//	  200 -> the SDK's GetChatData JSON, byte for byte
//	POST /v1/DecryptData  {"encrypt_key":"<base64 of the unwrapped key>","encrypt_msg":"<encrypt_chat_msg>"}
//	  200 -> the decrypted message bytes (application/octet-stream)
//	POST /v1/GetMediaData {"indexbuf":"","sdkfileid":"...","timeout":10}
//	  200 -> {"outindexbuf":"...","data":"<base64 chunk>","is_finish":false}
//
// A non-zero SDK return code is HTTP 422 with {"sdk_error":<code>}; a
// malformed request is HTTP 400 with {"sdk_error":10000}. Any other non-2xx
// answer, or no answer, is a transport failure and is retried.
const (
	BridgePathGetChatData  = "/v1/GetChatData"
	BridgePathDecryptData  = "/v1/DecryptData"
	BridgePathGetMediaData = "/v1/GetMediaData"
)

// Bridge limits: the largest request the handler reads and the largest
// answers the client reads.
const (
	maxBridgeRequestBytes = 8 << 20
	maxChatDataBytes      = 64 << 20
	maxDecryptedBytes     = 16 << 20
	maxMediaAnswerBytes   = 2 << 20
	defaultSDKTimeout     = 10 * time.Second
	maxSDKTimeout         = 5 * time.Minute
)

type bridgeChatDataRequest struct {
	Seq     uint64 `json:"seq"`
	Limit   int    `json:"limit"`
	Timeout int    `json:"timeout,omitempty"`
}

type bridgeDecryptRequest struct {
	EncryptKey []byte `json:"encrypt_key"` // base64 in JSON
	EncryptMsg string `json:"encrypt_msg"`
}

type bridgeMediaRequest struct {
	IndexBuf  string `json:"indexbuf"`
	SDKFileID string `json:"sdkfileid"`
	Timeout   int    `json:"timeout,omitempty"`
}

type bridgeMediaResponse struct {
	OutIndexBuf string `json:"outindexbuf"`
	Data        []byte `json:"data"` // base64 in JSON
	IsFinish    bool   `json:"is_finish"`
}

type bridgeError struct {
	SDKError int `json:"sdk_error"`
}

// decodeStrict decodes one JSON object and refuses trailing data.
func decodeStrict(body []byte, v any) error {
	if len(body) == 0 {
		return errors.New("empty body")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("not the expected JSON object: %w", err)
	}
	return nil
}

func decodeChatDataRequest(body []byte) (bridgeChatDataRequest, error) {
	var r bridgeChatDataRequest
	if err := decodeStrict(body, &r); err != nil {
		return r, err
	}
	if r.Limit < 1 || r.Limit > MaxPullLimit {
		return r, fmt.Errorf("limit must be 1 to %d", MaxPullLimit)
	}
	if r.Timeout < 0 {
		return r, errors.New("timeout must not be negative")
	}
	return r, nil
}

func decodeDecryptRequest(body []byte) (bridgeDecryptRequest, error) {
	var r bridgeDecryptRequest
	if err := decodeStrict(body, &r); err != nil {
		return r, err
	}
	if len(r.EncryptKey) == 0 || r.EncryptMsg == "" {
		return r, errors.New("encrypt_key and encrypt_msg are required")
	}
	return r, nil
}

func decodeMediaRequest(body []byte) (bridgeMediaRequest, error) {
	var r bridgeMediaRequest
	if err := decodeStrict(body, &r); err != nil {
		return r, err
	}
	if r.SDKFileID == "" {
		return r, errors.New("sdkfileid is required")
	}
	if r.Timeout < 0 {
		return r, errors.New("timeout must not be negative")
	}
	return r, nil
}

func decodeMediaResponse(body []byte) (MediaChunk, error) {
	var r bridgeMediaResponse
	if err := decodeStrict(body, &r); err != nil {
		return MediaChunk{}, err
	}
	if len(r.Data) > MediaChunkBytes {
		return MediaChunk{}, fmt.Errorf("media chunk of %d bytes exceeds %d", len(r.Data), MediaChunkBytes)
	}
	if !r.IsFinish && r.OutIndexBuf == "" {
		return MediaChunk{}, errors.New("unfinished media chunk without outindexbuf")
	}
	return MediaChunk{OutIndexBuf: r.OutIndexBuf, Data: r.Data, Finished: r.IsFinish}, nil
}

// decodeBridgeError reads {"sdk_error":N}; ok is false for anything else.
func decodeBridgeError(body []byte) (int, bool) {
	var e bridgeError
	if json.Unmarshal(body, &e) != nil || e.SDKError == 0 {
		return 0, false
	}
	return e.SDKError, true
}

// timeoutFor turns a request's timeout seconds into a duration, bounded.
func timeoutFor(seconds int) time.Duration {
	if seconds <= 0 {
		return defaultSDKTimeout
	}
	d := time.Duration(seconds) * time.Second
	if d > maxSDKTimeout {
		return maxSDKTimeout
	}
	return d
}

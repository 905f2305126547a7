package wecomarchive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// BridgeClient implements ArchiveSDK over the SDK bridge protocol.
type BridgeClient struct {
	base string
	hc   *http.Client
}

var _ ArchiveSDK = (*BridgeClient)(nil)

// NewBridgeClient calls the bridge at baseURL; hc nil means a client with a
// timeout a little over the SDK's.
func NewBridgeClient(baseURL string, hc *http.Client) (*BridgeClient, error) {
	if !strings.HasPrefix(baseURL, "http://") && !strings.HasPrefix(baseURL, "https://") {
		return nil, fmt.Errorf("sdk bridge URL must be http:// or https://")
	}
	if hc == nil {
		hc = &http.Client{Timeout: defaultSDKTimeout + 5*time.Second}
	}
	return &BridgeClient{base: strings.TrimRight(baseURL, "/"), hc: hc}, nil
}

// sdkTimeout is the SDK timeout to ask for, within the context's deadline.
func sdkTimeout(ctx context.Context) int {
	if d, ok := ctx.Deadline(); ok {
		s := int(time.Until(d) / time.Second)
		if s < 1 {
			s = 1
		}
		return s
	}
	return int(defaultSDKTimeout / time.Second)
}

// GetChatData implements ArchiveSDK.
func (b *BridgeClient) GetChatData(ctx context.Context, seq uint64, limit int) ([]byte, error) {
	body, err := b.post(ctx, BridgePathGetChatData, bridgeChatDataRequest{Seq: seq, Limit: limit, Timeout: sdkTimeout(ctx)}, maxChatDataBytes)
	if err != nil {
		return nil, fmt.Errorf("bridge GetChatData: %w", err)
	}
	return body, nil
}

// DecryptData implements ArchiveSDK.
func (b *BridgeClient) DecryptData(encryptKey []byte, encryptMsg string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), defaultSDKTimeout)
	defer cancel()
	body, err := b.post(ctx, BridgePathDecryptData, bridgeDecryptRequest{EncryptKey: encryptKey, EncryptMsg: encryptMsg}, maxDecryptedBytes)
	if err != nil {
		return nil, fmt.Errorf("bridge DecryptData: %w", err)
	}
	return body, nil
}

// GetMediaData implements ArchiveSDK.
func (b *BridgeClient) GetMediaData(ctx context.Context, indexBuf, sdkFileID string) (MediaChunk, error) {
	body, err := b.post(ctx, BridgePathGetMediaData, bridgeMediaRequest{IndexBuf: indexBuf, SDKFileID: sdkFileID, Timeout: sdkTimeout(ctx)}, maxMediaAnswerBytes)
	if err != nil {
		return MediaChunk{}, fmt.Errorf("bridge GetMediaData: %w", err)
	}
	chunk, err := decodeMediaResponse(body)
	if err != nil {
		return MediaChunk{}, fmt.Errorf("bridge GetMediaData: %w", err)
	}
	return chunk, nil
}

// Close implements ArchiveSDK; the bridge owns the native SDK.
func (b *BridgeClient) Close() error {
	b.hc.CloseIdleConnections()
	return nil
}

func (b *BridgeClient) post(ctx context.Context, path string, reqBody any, limit int64) ([]byte, error) {
	raw, err := json.Marshal(reqBody)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.base+path, bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := b.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &transportError{err: errors.Unwrap(err)}
	}
	defer func() { _ = res.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
	if err != nil {
		return nil, &transportError{err: fmt.Errorf("read answer: %w", err)}
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("answer exceeds %d bytes", limit)
	}
	if res.StatusCode/100 != 2 {
		if code, ok := decodeBridgeError(body); ok {
			return nil, &SDKError{Code: code}
		}
		return nil, &transportError{err: fmt.Errorf("HTTP %d", res.StatusCode)}
	}
	return body, nil
}

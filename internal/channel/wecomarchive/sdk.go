package wecomarchive

import (
	"context"
	"errors"
	"fmt"
)

// ArchiveSDK mirrors the vendor's C Finance SDK (WeWorkFinanceSdk_C.h).
type ArchiveSDK interface {
	// GetChatData returns the SDK's JSON answer verbatim: messages from
	// seq+1, at most limit (≤ 1000) of them.
	GetChatData(ctx context.Context, seq uint64, limit int) ([]byte, error)
	// DecryptData decrypts a chatdata element's encrypt_chat_msg with the
	// encrypt_key unwrapped from its encrypt_random_key.
	DecryptData(encryptKey []byte, encryptMsg string) ([]byte, error)
	// GetMediaData returns one chunk (≤ 512 KB) of a media file: start with
	// indexBuf "" and pass back OutIndexBuf until Finished.
	GetMediaData(ctx context.Context, indexBuf, sdkFileID string) (MediaChunk, error)
	// Close releases the SDK.
	Close() error
}

// MediaChunk is one GetMediaData answer.
type MediaChunk struct {
	OutIndexBuf string
	Data        []byte
	Finished    bool
}

// MaxPullLimit is the largest limit GetChatData accepts.
const MaxPullLimit = 1000

// MediaChunkBytes is the most GetMediaData returns in one call.
const MediaChunkBytes = 512 << 10

// Finance SDK return codes, from the header's documentation.
const (
	SDKErrParams        = 10000 // bad parameters
	SDKErrNetwork       = 10001 // network error (retryable)
	SDKErrParse         = 10002 // response parse failure (retryable)
	SDKErrSystem        = 10003 // system failure (retryable)
	SDKErrKey           = 10004 // key error, encryption failed
	SDKErrFileID        = 10005 // bad sdkfileid
	SDKErrDecrypt       = 10006 // decryption failed
	SDKErrNoKeyVersion  = 10007 // no private key for this publickey_ver
	SDKErrEncryptKey    = 10008 // bad encrypt_key
	SDKErrIPNotAllowed  = 10009 // caller's IP not on the allow list
	SDKErrDataExpired   = 10010 // data older than the source window
	SDKErrCertification = 10011 // certificate error
)

var sdkErrText = map[int]string{
	SDKErrParams:        "bad parameters",
	SDKErrNetwork:       "network error",
	SDKErrParse:         "response parse failure",
	SDKErrSystem:        "system failure",
	SDKErrKey:           "key error",
	SDKErrFileID:        "bad sdkfileid",
	SDKErrDecrypt:       "decryption failed",
	SDKErrNoKeyVersion:  "no private key for this publickey_ver",
	SDKErrEncryptKey:    "bad encrypt_key",
	SDKErrIPNotAllowed:  "IP not allowed",
	SDKErrDataExpired:   "data expired",
	SDKErrCertification: "certificate error",
}

// SDKError is a non-zero Finance SDK return code.
type SDKError struct {
	Code int
}

func (e *SDKError) Error() string {
	if t, ok := sdkErrText[e.Code]; ok {
		return fmt.Sprintf("finance sdk error %d (%s)", e.Code, t)
	}
	return fmt.Sprintf("finance sdk error %d", e.Code)
}

// Retryable reports whether the vendor calls the failure transient.
func (e *SDKError) Retryable() bool {
	return e.Code == SDKErrNetwork || e.Code == SDKErrParse || e.Code == SDKErrSystem
}

// SDKErrorCode returns the SDK code wrapped in err, or 0.
func SDKErrorCode(err error) int {
	var se *SDKError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// IsRetryable reports whether err is a transient SDK error, or a transport
// failure to reach it (bridge mode), worth retrying soon.
func IsRetryable(err error) bool {
	var se *SDKError
	if errors.As(err, &se) {
		return se.Retryable()
	}
	var te *transportError
	return errors.As(err, &te)
}

// transportError is a failure to reach the SDK bridge at all.
type transportError struct{ err error }

func (e *transportError) Error() string { return "sdk bridge unreachable: " + e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

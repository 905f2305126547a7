package wxcrypt

import "fmt"

// Error is a failure with the vendor's official error code, so that logs and
// metrics speak the same language as WeCom's documentation.
type Error struct {
	Code   int
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("wxcrypt %d: %s", e.Code, e.Reason) }

// Is matches errors by code, so errors.Is(err, ErrValidateSignature) works on
// wrapped copies that carry more detail.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// The official error codes (WXBizMsgCrypt).
var (
	ErrValidateSignature = &Error{-40001, "signature does not verify"}
	ErrParseXML          = &Error{-40002, "envelope is not valid XML"}
	ErrComputeSignature  = &Error{-40003, "signature could not be computed"}
	ErrIllegalAESKey     = &Error{-40004, "EncodingAESKey must be 43 characters of [A-Za-z0-9] decoding to 32 bytes"}
	ErrValidateReceiver  = &Error{-40005, "message is addressed to another receive id"}
	ErrEncryptAES        = &Error{-40006, "encryption failed"}
	ErrDecryptAES        = &Error{-40007, "ciphertext does not decrypt (length or padding)"}
	ErrIllegalBuffer     = &Error{-40008, "decrypted buffer is malformed"}
	ErrEncodeBase64      = &Error{-40009, "base64 encoding failed"}
	ErrDecodeBase64      = &Error{-40010, "ciphertext is not base64"}
	ErrGenReturnXML      = &Error{-40011, "reply could not be built"}
	ErrParseJSON         = &Error{-40012, "envelope is not valid JSON"}
	ErrGenJSON           = &Error{-40013, "JSON reply could not be built"}
	ErrIllegalProtocol   = &Error{-40014, "envelope is neither XML nor JSON"}
)

// detail wraps a coded error with context while keeping errors.Is working.
func detail(base *Error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{base}, args...)...)
}

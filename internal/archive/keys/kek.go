package keys

import (
	"context"
	"fmt"
	"regexp"
)

// KEK is a key-encryption key: the root of the hierarchy. LocalKEK keeps the
// key in process memory; a cloud KMS (AWS KMS Encrypt/Decrypt with the aad as
// encryption context, GCP KMS additional_authenticated_data) or Vault Transit
// (associated_data) can implement the same three methods so that the root key
// never leaves the KMS.
//
// Wrap must authenticate aad: Unwrap with different aad must fail. Wrapped
// bytes are opaque here; the KeyRing frames them with a version byte and the
// KEK's id. Implementations return errors that wrap ErrTampered when
// authentication fails and never include key material in any error.
type KEK interface {
	// ID names the key for as long as any DEK is wrapped under it, e.g.
	// "vigil-kek-2026-11" or a KMS key ARN. See ValidateKEKID.
	ID() string
	Wrap(ctx context.Context, plaintextDEK, aad []byte) ([]byte, error)
	Unwrap(ctx context.Context, wrapped, aad []byte) ([]byte, error)
}

// kekIDPattern admits names, KMS ARNs and Vault paths: they are written into
// every wrapped DEK, so they must be short and unambiguous.
var kekIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:/@+=-]{1,255}$`)

// ValidateKEKID checks that id fits the wrapped format: 1 to 255 bytes of
// letters, digits and . _ : / @ + = -.
func ValidateKEKID(id string) error {
	if !kekIDPattern.MatchString(id) {
		return fmt.Errorf("%w: KEK id %q must be 1 to 255 bytes of letters, digits and . _ : / @ + = -", ErrInvalid, truncate(id))
	}
	return nil
}

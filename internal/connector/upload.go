package connector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
)

// Uploader sends a batch of envelopes to the archive for an account. A nil
// error means the archive has made the batch durable; inserted plus duplicates
// is then normally len(envs). Errors are either a *RejectedError (the batch is
// bad; retrying cannot help) or anything else (retry later).
type Uploader interface {
	Upload(ctx context.Context, account string, envs []capture.Envelope) (inserted, duplicates int, err error)
}

// RejectedError means the archive refused the batch as bad (HTTP 4xx other
// than 408 and 429). The shipper moves such a batch to the dead-letter
// directory instead of retrying it forever.
type RejectedError struct {
	StatusCode int
	// Message is the start of the archive's explanation, for the operator.
	Message string
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("archive rejected the batch with HTTP %d: %s", e.StatusCode, e.Message)
}

// RetryableError is a failure that may pass: 5xx, 408, 429, or no answer.
type RetryableError struct {
	// StatusCode is 0 when there was no HTTP answer.
	StatusCode int
	// RetryAfter is the archive's Retry-After hint, zero when absent.
	RetryAfter time.Duration
	Err        error
}

func (e *RetryableError) Error() string {
	if e.StatusCode == 0 {
		return fmt.Sprintf("archive unreachable: %v", e.Err)
	}
	return fmt.Sprintf("archive answered HTTP %d: %v", e.StatusCode, e.Err)
}

func (e *RetryableError) Unwrap() error { return e.Err }

// IsRejected reports whether err says the batch itself is bad.
func IsRejected(err error) bool {
	var r *RejectedError
	return errors.As(err, &r)
}

// retryAfter extracts the archive's Retry-After hint from err, if any.
func retryAfter(err error) time.Duration {
	var r *RetryableError
	if errors.As(err, &r) {
		return r.RetryAfter
	}
	return 0
}

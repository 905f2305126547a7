package inbound

import (
	"errors"
	"fmt"
	"net/http"
)

// Reasons are the label values of a channel's rejected_total counter. Every
// channel registers the common ones up front so dashboards see zeros, not gaps.
const (
	ReasonMethod           = "method"
	ReasonTooLarge         = "too_large"
	ReasonMissingSignature = "missing_signature"
	ReasonBadSignature     = "bad_signature"
	ReasonStaleTimestamp   = "stale_timestamp"
	ReasonReplay           = "replay"
	ReasonReplayCacheFull  = "replay_cache_full"
	ReasonMalformed        = "malformed"
	ReasonDecrypt          = "decrypt"
	ReasonWrongReceiver    = "wrong_receiver"
	ReasonSpoolFull        = "spool_full"
	ReasonInternal         = "internal"
)

// CommonReasons are the reasons every push channel can produce; NewMetrics
// registers them for every channel.
var CommonReasons = []string{
	ReasonMethod, ReasonTooLarge, ReasonMissingSignature, ReasonBadSignature, ReasonStaleTimestamp,
	ReasonReplay, ReasonReplayCacheFull, ReasonMalformed, ReasonSpoolFull, ReasonInternal,
}

// Rejection is a refused request: the HTTP status, the metric reason and an
// error whose text is safe to return to the caller (it never quotes secrets
// or message content).
type Rejection struct {
	Status int
	Reason string
	Err    error
}

func (r *Rejection) Error() string { return r.Err.Error() }

// Unwrap lets errors.Is see the cause.
func (r *Rejection) Unwrap() error { return r.Err }

// Refuse builds a Rejection.
func Refuse(status int, reason string, err error) *Rejection {
	return &Rejection{Status: status, Reason: reason, Err: err}
}

// Unauthorized is a 401 with the given reason.
func Unauthorized(reason string, err error) *Rejection {
	return Refuse(http.StatusUnauthorized, reason, err)
}

// Malformed is a 400 for input that is authentic but cannot be understood.
func Malformed(format string, args ...any) *Rejection {
	return Refuse(http.StatusBadRequest, ReasonMalformed, fmt.Errorf(format, args...))
}

// MethodNotAllowed is a 405 naming the allowed methods.
func MethodNotAllowed(w http.ResponseWriter, allowed string) *Rejection {
	w.Header().Set("Allow", allowed)
	return Refuse(http.StatusMethodNotAllowed, ReasonMethod, errors.New("only "+allowed+" is accepted"))
}

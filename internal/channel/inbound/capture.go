package inbound

import (
	"context"
	"errors"
	"net/http"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/connector"
	"github.com/vigil-operator/vigil/internal/connector/spool"
)

// Capture hands records to the sink and turns its error into the answer that
// makes the provider do the right thing: a full spool is 503 with
// Retry-After (the provider retries later and nothing is lost), an invalid
// record is 400, anything else is 500 (the provider retries).
func Capture(ctx context.Context, w http.ResponseWriter, log logr.Logger, sink connector.Sink, recs []*capture.Record) *Rejection {
	if len(recs) == 0 {
		return nil
	}
	err := sink.Capture(ctx, recs)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, spool.ErrSpoolFull):
		w.Header().Set("Retry-After", "5")
		return Refuse(http.StatusServiceUnavailable, ReasonSpoolFull, errors.New("the connector's spool is full; retry later"))
	case errors.Is(err, capture.ErrInvalid):
		return Refuse(http.StatusBadRequest, ReasonMalformed, err)
	default:
		log.Error(err, "capture failed", "records", len(recs))
		return Refuse(http.StatusInternalServerError, ReasonInternal, errors.New("the request could not be stored; retry later"))
	}
}

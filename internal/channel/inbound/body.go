package inbound

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ReadBody reads at most limit bytes; a larger body is refused whole rather
// than truncated, so nothing is ever half-captured.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *Rejection) {
	tooLarge := Refuse(http.StatusRequestEntityTooLarge, ReasonTooLarge, fmt.Errorf("body is over %d bytes", limit))
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, tooLarge
		}
		return nil, Malformed("while reading body: %v", err)
	}
	return body, nil
}

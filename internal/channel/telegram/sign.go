package telegram

import (
	"bytes"
	"fmt"
	"net/http"
)

// NewUpdateRequest builds the POST Telegram sends for one update (the JSON
// body) to target (the connector's base URL joined with Path), with the
// secret token header; for end-to-end tests.
func NewUpdateRequest(target, secretToken string, update []byte) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(update))
	if err != nil {
		return nil, fmt.Errorf("building telegram update request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderSecretToken, secretToken)
	return req, nil
}

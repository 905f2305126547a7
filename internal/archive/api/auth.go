package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// Identity is an authenticated caller.
type Identity struct {
	Username string
	Groups   []string
}

// Authenticator turns a bearer token into an identity. It returns
// ErrUnauthenticated for a token it refuses and another error when it cannot
// decide (the API server is unreachable), which the server answers with 503 so
// callers retry instead of dropping data.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (Identity, error)
}

// ErrUnauthenticated means the token was checked and refused.
var ErrUnauthenticated = errors.New("unauthenticated")

// maxTokenBytes bounds a bearer token; ServiceAccount tokens are about 1 KiB.
const maxTokenBytes = 16 << 10

// bearerToken extracts the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	if token == "" || len(token) > maxTokenBytes {
		return "", false
	}
	return token, true
}

package api

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"os"
	"strings"
)

// StaticTokenAuthenticator accepts tokens listed in a file, one
// "token,username" a line ('#' starts a comment). It is for single-machine
// use without a Kubernetes API server (tests, an archive run by hand); in a
// cluster the archive uses TokenReview.
type StaticTokenAuthenticator struct {
	tokens map[[32]byte]string
}

// LoadStaticTokens reads a token file.
func LoadStaticTokens(path string) (*StaticTokenAuthenticator, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("while opening the token file: %w", err)
	}
	defer f.Close()
	a := &StaticTokenAuthenticator{tokens: map[[32]byte]string{}}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		token, user, ok := strings.Cut(line, ",")
		token, user = strings.TrimSpace(token), strings.TrimSpace(user)
		if !ok || len(token) < 16 || user == "" {
			// The line holds a secret: name it by number only.
			return nil, fmt.Errorf("token file line %d: want \"token,username\" with a token of at least 16 characters", n)
		}
		a.tokens[sha256.Sum256([]byte(token))] = user
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("while reading the token file: %w", err)
	}
	if len(a.tokens) == 0 {
		return nil, fmt.Errorf("token file %s lists no tokens", path)
	}
	return a, nil
}

// Authenticate implements Authenticator. Tokens are compared by digest in
// constant time, so timing does not reveal how much of a guess was right.
func (a *StaticTokenAuthenticator) Authenticate(_ context.Context, token string) (Identity, error) {
	sum := sha256.Sum256([]byte(token))
	for k, user := range a.tokens {
		if subtle.ConstantTimeCompare(k[:], sum[:]) == 1 {
			return Identity{Username: user}, nil
		}
	}
	return Identity{}, ErrUnauthenticated
}

// NewStaticTokens builds an authenticator from token → username.
func NewStaticTokens(tokens map[string]string) *StaticTokenAuthenticator {
	a := &StaticTokenAuthenticator{tokens: map[[32]byte]string{}}
	for token, user := range tokens {
		a.tokens[sha256.Sum256([]byte(token))] = user
	}
	return a
}

package api

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// TokenReviewAuthenticator checks tokens with the Kubernetes TokenReview API
// for one audience, so only tokens minted for the archive (projected
// ServiceAccount tokens with audience vigil-archive) are accepted: a token a
// pod holds for the API server cannot be replayed here.
type TokenReviewAuthenticator struct {
	client   kubernetes.Interface
	audience string
	now      func() time.Time

	mu    sync.Mutex
	cache map[[32]byte]cachedReview
}

type cachedReview struct {
	id      Identity
	ok      bool
	expires time.Time
}

const (
	// Accepted tokens are trusted for a short while so that every connector
	// batch does not cost a TokenReview; refusals are remembered more
	// briefly, which bounds the load a caller with a bad token can cause.
	acceptedTTL   = time.Minute
	refusedTTL    = 10 * time.Second
	maxCacheItems = 4096
)

// NewTokenReviewAuthenticator builds an authenticator for audience.
func NewTokenReviewAuthenticator(client kubernetes.Interface, audience string) *TokenReviewAuthenticator {
	return &TokenReviewAuthenticator{client: client, audience: audience, now: time.Now, cache: map[[32]byte]cachedReview{}}
}

// Authenticate implements Authenticator.
func (a *TokenReviewAuthenticator) Authenticate(ctx context.Context, token string) (Identity, error) {
	key := sha256.Sum256([]byte(token))
	now := a.now()
	a.mu.Lock()
	c, found := a.cache[key]
	a.mu.Unlock()
	if found && now.Before(c.expires) {
		if !c.ok {
			return Identity{}, ErrUnauthenticated
		}
		return c.id, nil
	}
	review, err := a.client.AuthenticationV1().TokenReviews().Create(ctx, &authnv1.TokenReview{
		Spec: authnv1.TokenReviewSpec{Token: token, Audiences: []string{a.audience}},
	}, metav1.CreateOptions{})
	if err != nil {
		return Identity{}, fmt.Errorf("while reviewing a token: %w", err)
	}
	st := review.Status
	ok := st.Authenticated && st.Error == "" && slices.Contains(st.Audiences, a.audience)
	entry := cachedReview{ok: ok, expires: now.Add(refusedTTL)}
	if ok {
		entry.id = Identity{Username: st.User.Username, Groups: st.User.Groups}
		entry.expires = now.Add(acceptedTTL)
	}
	a.mu.Lock()
	if len(a.cache) >= maxCacheItems {
		for k, v := range a.cache {
			if !now.Before(v.expires) {
				delete(a.cache, k)
			}
		}
		if len(a.cache) >= maxCacheItems {
			clear(a.cache)
		}
	}
	a.cache[key] = entry
	a.mu.Unlock()
	if !ok {
		return Identity{}, ErrUnauthenticated
	}
	return entry.id, nil
}

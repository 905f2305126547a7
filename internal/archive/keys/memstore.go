package keys

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// MemoryStore is a Store in process memory, for tests and as the reference
// the conformance suite is checked against. It erases by dropping the slice;
// Go gives no guarantee the bytes are overwritten before reuse.
type MemoryStore struct {
	mu      sync.Mutex
	byID    map[string]WrappedDEK
	byScope map[Scope]string
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{byID: map[string]WrappedDEK{}, byScope: map[Scope]string{}}
}

// CreateIfAbsent implements Store.
func (s *MemoryStore) CreateIfAbsent(ctx context.Context, dek WrappedDEK) (WrappedDEK, bool, error) {
	if err := ctx.Err(); err != nil {
		return WrappedDEK{}, false, err
	}
	if err := ValidateNewDEK(dek); err != nil {
		return WrappedDEK{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.byScope[dek.Scope]; ok {
		return clone(s.byID[id]), false, nil
	}
	if _, dup := s.byID[dek.ID]; dup {
		return WrappedDEK{}, false, fmt.Errorf("%w: DEK id %s already names another scope", ErrConflict, dek.ID)
	}
	dek = clone(dek)
	s.byID[dek.ID] = dek
	s.byScope[dek.Scope] = dek.ID
	return clone(dek), true, nil
}

// ValidateNewDEK is what every backend checks before inserting a DEK.
func ValidateNewDEK(dek WrappedDEK) error {
	switch {
	case !strings.HasPrefix(dek.ID, dekIDPrefix):
		return fmt.Errorf("%w: DEK id %q lacks the %q prefix", ErrInvalid, truncate(dek.ID), dekIDPrefix)
	case len(dek.Wrapped) == 0 || dek.Destroyed():
		return fmt.Errorf("%w: a new DEK must be live and wrapped", ErrInvalid)
	}
	if err := ValidateKEKID(dek.KEKID); err != nil {
		return err
	}
	return dek.Scope.Validate()
}

// Get implements Store.
func (s *MemoryStore) Get(ctx context.Context, id string) (WrappedDEK, error) {
	if err := ctx.Err(); err != nil {
		return WrappedDEK{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dek, ok := s.byID[id]
	if !ok {
		return WrappedDEK{}, fmt.Errorf("DEK %s: %w", truncate(id), ErrKeyNotFound)
	}
	return clone(dek), nil
}

// Lookup implements Store.
func (s *MemoryStore) Lookup(ctx context.Context, scope Scope) (WrappedDEK, error) {
	if err := ctx.Err(); err != nil {
		return WrappedDEK{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.byScope[scope]
	if !ok {
		return WrappedDEK{}, fmt.Errorf("DEK for %s: %w", scope, ErrKeyNotFound)
	}
	return clone(s.byID[id]), nil
}

// Destroy implements Store.
func (s *MemoryStore) Destroy(ctx context.Context, id string, at time.Time) (WrappedDEK, error) {
	if err := ctx.Err(); err != nil {
		return WrappedDEK{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dek, ok := s.byID[id]
	if !ok {
		return WrappedDEK{}, fmt.Errorf("DEK %s: %w", truncate(id), ErrKeyNotFound)
	}
	tomb := dek.Tombstone(at)
	clear(dek.Wrapped) // best effort: this map owns the slice
	s.byID[id] = tomb
	return clone(tomb), nil
}

// Rewrap implements Store.
func (s *MemoryStore) Rewrap(ctx context.Context, id string, old, rewrapped []byte, kekID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := ValidateKEKID(kekID); err != nil {
		return err
	}
	if len(rewrapped) == 0 {
		return fmt.Errorf("%w: rewrapped key is empty", ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dek, ok := s.byID[id]
	switch {
	case !ok:
		return fmt.Errorf("DEK %s: %w", truncate(id), ErrKeyNotFound)
	case dek.Destroyed():
		return fmt.Errorf("DEK %s: %w", id, ErrShredded)
	case !bytes.Equal(dek.Wrapped, old):
		return fmt.Errorf("DEK %s was rewrapped by someone else: %w", id, ErrConflict)
	}
	dek.Wrapped = bytes.Clone(rewrapped)
	dek.KEKID = kekID
	s.byID[id] = dek
	return nil
}

// List implements Store.
func (s *MemoryStore) List(ctx context.Context, q ListQuery) ([]WrappedDEK, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []WrappedDEK
	for _, dek := range s.byID {
		if dek.ID > q.After && (q.Bucket.IsZero() || dek.Scope.Bucket == q.Bucket) {
			out = append(out, dek)
		}
	}
	slices.SortFunc(out, func(a, b WrappedDEK) int { return strings.Compare(a.ID, b.ID) })
	out = out[:min(len(out), q.Limit)]
	for i := range out {
		out[i] = clone(out[i])
	}
	return out, nil
}

func clone(d WrappedDEK) WrappedDEK {
	d.Wrapped = bytes.Clone(d.Wrapped)
	return d
}

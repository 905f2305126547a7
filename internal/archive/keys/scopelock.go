package keys

import (
	"context"
	"sync"
)

// scopeLocks is one mutex per scope, created on demand and dropped when no
// one holds or waits for it. Loading, creating and destroying a scope's DEK
// all happen under its lock: that makes creation single-flight per process
// (Store.CreateIfAbsent makes it so across replicas) and keeps a load from
// racing a destroy.
type scopeLocks struct {
	mu    sync.Mutex
	locks map[Scope]*scopeLock
}

type scopeLock struct {
	held chan struct{} // capacity 1: full while held
	refs int
}

func newScopeLocks() *scopeLocks { return &scopeLocks{locks: map[Scope]*scopeLock{}} }

// lock waits for the scope's lock or for ctx to end, and returns the unlock.
func (s *scopeLocks) lock(ctx context.Context, scope Scope) (func(), error) {
	s.mu.Lock()
	l := s.locks[scope]
	if l == nil {
		l = &scopeLock{held: make(chan struct{}, 1)}
		s.locks[scope] = l
	}
	l.refs++
	s.mu.Unlock()

	select {
	case l.held <- struct{}{}:
		return func() { <-l.held; s.release(scope, l) }, nil
	case <-ctx.Done():
		s.release(scope, l)
		return nil, ctx.Err()
	}
}

func (s *scopeLocks) release(scope Scope, l *scopeLock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l.refs--
	if l.refs == 0 {
		delete(s.locks, scope)
	}
}

func (s *scopeLocks) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.locks)
}

package policy

import (
	"sync/atomic"
)

// Holder publishes the current Engine. A new bundle compiles off the hot
// path and is swapped in atomically: messages in flight finish on the Engine
// they started with, the next ones see the new one, and nothing restarts.
type Holder struct {
	current atomic.Pointer[Engine]
}

// NewHolder holds e (which may be nil until the first bundle is compiled).
func NewHolder(e *Engine) *Holder {
	h := &Holder{}
	if e != nil {
		h.current.Store(e)
	}
	return h
}

// Load returns the current Engine, or nil before the first Store.
func (h *Holder) Load() *Engine { return h.current.Load() }

// Store replaces the current Engine.
func (h *Holder) Store(e *Engine) { h.current.Store(e) }

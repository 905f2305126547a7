package keys

import (
	"container/list"
	"sync"
)

// keyCache is a bounded LRU of unwrapped DEKs, indexed by id (Open) and by
// scope (Seal). Evicted keys are returned to the caller to retire outside
// the cache lock: retiring waits for running operations, and the cache lock
// must never wait on a large Seal.
type keyCache struct {
	mu       sync.Mutex
	capacity int
	lru      *list.List // of *DataKey, most recent first
	byID     map[string]*list.Element
	byScope  map[Scope]*list.Element
}

func newKeyCache(capacity int) *keyCache {
	return &keyCache{capacity: capacity, lru: list.New(), byID: map[string]*list.Element{}, byScope: map[Scope]*list.Element{}}
}

func (c *keyCache) getByScope(s Scope) *DataKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.touch(c.byScope[s])
}

func (c *keyCache) getByID(id string) *DataKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.touch(c.byID[id])
}

func (c *keyCache) touch(e *list.Element) *DataKey {
	if e == nil {
		return nil
	}
	c.lru.MoveToFront(e)
	return e.Value.(*DataKey)
}

// put inserts k, replacing a cached key of the same scope, and returns the
// keys pushed out.
func (c *keyCache) put(k *DataKey) (evicted []*DataKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.byScope[k.scope]; old != nil {
		evicted = append(evicted, c.unlink(old))
	}
	if old := c.byID[k.id]; old != nil {
		evicted = append(evicted, c.unlink(old))
	}
	e := c.lru.PushFront(k)
	c.byID[k.id], c.byScope[k.scope] = e, e
	for c.lru.Len() > c.capacity {
		evicted = append(evicted, c.unlink(c.lru.Back()))
	}
	return evicted
}

// removeScope drops the key of a scope and returns it, or nil.
func (c *keyCache) removeScope(s Scope) *DataKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.byScope[s]; e != nil {
		return c.unlink(e)
	}
	return nil
}

// removeAll empties the cache and returns what it held.
func (c *keyCache) removeAll() []*DataKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*DataKey
	for c.lru.Len() > 0 {
		out = append(out, c.unlink(c.lru.Back()))
	}
	return out
}

func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

func (c *keyCache) unlink(e *list.Element) *DataKey {
	k := c.lru.Remove(e).(*DataKey)
	delete(c.byID, k.id)
	delete(c.byScope, k.scope)
	return k
}

package telegram

import "sync"

// connections remembers which user each business connection belongs to, as
// business_connection updates announce it. It lives in memory: after a
// restart a connection is unknown until Telegram sends its next
// business_connection update, and business messages are attributed by the
// private-chat rule instead (see mapper.business). Past capacity the oldest
// connection is forgotten.
type connections struct {
	mu    sync.Mutex
	users map[string]int64
	ring  []string
	next  int
}

func newConnections(capacity int) *connections {
	return &connections{users: make(map[string]int64), ring: make([]string, capacity)}
}

// User returns the business user of a connection, if known.
func (c *connections) User(id string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.users[id]
	return u, ok
}

// Put records a connection's user.
func (c *connections) Put(id string, user int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.users[id]; !ok {
		if old := c.ring[c.next]; old != "" {
			delete(c.users, old)
		}
		c.ring[c.next] = id
		c.next = (c.next + 1) % len(c.ring)
	}
	c.users[id] = user
}

package telegram

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/vigil-operator/vigil/internal/connector"
)

// connectionsFile keeps the known business connections in the channel's
// state directory, so a restart does not forget who owns which connection.
const connectionsFile = "telegram-business-connections.json"

// maxConnectionsFileBytes bounds what load reads.
const maxConnectionsFileBytes = 16 << 20

// connections remembers which user each business connection belongs to, as
// business_connection updates announce it, and saves them in the state
// directory when one changes (they change rarely). A connection not yet
// announced is attributed by the private-chat rule (see mapper.business).
// Past capacity the oldest connection is forgotten.
type connections struct {
	mu    sync.Mutex
	users map[string]int64
	ring  []string
	next  int
	path  string
}

type savedConnection struct {
	ID   string `json:"id"`
	User int64  `json:"user"`
}

// newConnections loads saved connections from dir ("" keeps them in memory
// only, as tests do).
func newConnections(capacity int, dir string) (*connections, error) {
	c := &connections{users: make(map[string]int64), ring: make([]string, capacity)}
	if dir == "" {
		return c, nil
	}
	c.path = filepath.Join(dir, connectionsFile)
	st, err := os.Stat(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("while reading the business connections: %w", err)
	}
	if st.Size() > maxConnectionsFileBytes {
		return nil, fmt.Errorf("%s is %d bytes; the limit is %d", c.path, st.Size(), maxConnectionsFileBytes)
	}
	b, err := os.ReadFile(c.path)
	if err != nil {
		return nil, fmt.Errorf("while reading the business connections: %w", err)
	}
	var saved []savedConnection
	if err := json.Unmarshal(b, &saved); err != nil {
		return nil, fmt.Errorf("%s is corrupt; remove it and connections are learned again from Telegram's updates: %w", c.path, err)
	}
	for _, s := range saved {
		c.put(s.ID, s.User)
	}
	return c, nil
}

// User returns the business user of a connection, if known.
func (c *connections) User(id string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.users[id]
	return u, ok
}

// Put records a connection's user and saves the set when it changed.
func (c *connections) Put(id string, user int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.users[id]; ok && old == user {
		return nil
	}
	c.put(id, user)
	if c.path == "" {
		return nil
	}
	saved := make([]savedConnection, 0, len(c.users))
	for i := range c.ring {
		// Oldest first, so a reload keeps the same eviction order.
		cid := c.ring[(c.next+i)%len(c.ring)]
		if cid != "" {
			saved = append(saved, savedConnection{ID: cid, User: c.users[cid]})
		}
	}
	b, err := json.Marshal(saved)
	if err != nil {
		return fmt.Errorf("while encoding the business connections: %w", err)
	}
	return connector.WriteStateFile(c.path, b)
}

func (c *connections) put(id string, user int64) {
	if _, ok := c.users[id]; !ok {
		if old := c.ring[c.next]; old != "" {
			delete(c.users, old)
		}
		c.ring[c.next] = id
		c.next = (c.next + 1) % len(c.ring)
	}
	c.users[id] = user
}

package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-operator/vigil/internal/archive/store"
)

// pingAfter is how long a connection may sit idle before it is pinged
// ahead of use: a connection the server dropped (a restart, a failover)
// shows only when used, and a query on it would fail.
const pingAfter = time.Second

// connPool is a small fixed-size pool of connections. pgxpool would do,
// but it needs github.com/jackc/puddle/v2 in go.mod, and the archive needs
// little of it: a handful of reader connections, each replaced when the
// server drops it.
type connPool struct {
	cfg *pgx.ConnConfig
	// slots holds a token per connection open or being opened, so at most
	// cap(slots) exist at once.
	slots chan struct{}
	idle  chan idleConn

	mu     sync.Mutex
	closed bool
}

func newConnPool(cfg *pgx.ConnConfig, size int) *connPool {
	return &connPool{cfg: cfg, slots: make(chan struct{}, size), idle: make(chan idleConn, size)}
}

type idleConn struct {
	conn  *pgx.Conn
	since time.Time
}

// alive checks, if it sat idle for a while, that the server still answers
// on c.
func alive(ctx context.Context, c *pgx.Conn, since time.Time) bool {
	if c.IsClosed() {
		return false
	}
	return time.Since(since) < pingAfter || c.Ping(ctx) == nil
}

// acquire returns an idle connection, else opens one if the pool has room,
// else waits for one to be released.
func (p *connPool) acquire(ctx context.Context) (*pgx.Conn, error) {
	for {
		if p.isClosed() {
			return nil, store.ErrClosed
		}
		c, err := p.next(ctx)
		if err != nil || c != nil {
			return c, err
		}
	}
}

// next is one attempt of acquire: nil, nil when it found a connection the
// server had dropped while idle (it is closed and its slot freed).
func (p *connPool) next(ctx context.Context) (*pgx.Conn, error) {
	var ic idleConn
	select {
	case ic = <-p.idle:
	default:
		select {
		case ic = <-p.idle:
		case p.slots <- struct{}{}:
			conn, err := pgx.ConnectConfig(ctx, p.cfg)
			if err != nil {
				<-p.slots
				return nil, fmt.Errorf("while connecting to PostgreSQL: %w", err)
			}
			return conn, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if !alive(ctx, ic.conn, ic.since) {
		_ = ic.conn.Close(context.Background())
		<-p.slots
		return nil, ctx.Err()
	}
	return ic.conn, nil
}

func (p *connPool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// release returns a connection to the pool; one that is broken, or left
// inside a transaction, is closed instead.
func (p *connPool) release(c *pgx.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || c.IsClosed() || c.PgConn().TxStatus() != 'I' {
		_ = c.Close(context.Background())
		<-p.slots
		return
	}
	// Never blocks: idle has room for every connection the slots allow.
	p.idle <- idleConn{conn: c, since: time.Now()}
}

// with runs fn on a pooled connection.
func (p *connPool) with(ctx context.Context, fn func(c *pgx.Conn) error) error {
	c, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	defer p.release(c)
	return fn(c)
}

// close closes the idle connections; those in use are closed on release.
func (p *connPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for {
		select {
		case ic := <-p.idle:
			_ = ic.conn.Close(context.Background())
			<-p.slots
		default:
			return
		}
	}
}

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"sync"
	"time"
)

// The writer runs with wal_autocheckpoint off: copying the WAL back into the
// database file would otherwise happen inside a commit, on the writer, one
// commit in so many. A connection of its own does it instead, PASSIVE (it
// never waits for or blocks the writer or readers), every walCheckpointEvery.
// It runs only checkpoints, never a write transaction, so the single-writer
// rule holds.

// walCheckpointEvery is how often the WAL is copied back.
const walCheckpointEvery = time.Second

// walCheckpointer copies the WAL into the database file in the background.
type walCheckpointer struct {
	db   *sql.DB
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func startWALCheckpointer(path string) (*walCheckpointer, error) {
	pragmas := url.Values{}
	pragmas.Add("_pragma", "busy_timeout(10000)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+pragmas.Encode())
	if err != nil {
		return nil, fmt.Errorf("while opening the WAL checkpointer: %w", err)
	}
	db.SetMaxOpenConns(1)
	c := &walCheckpointer{db: db, stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c, nil
}

func (c *walCheckpointer) loop() {
	defer close(c.done)
	tick := time.NewTicker(walCheckpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
			// A failed passive checkpoint is retried next tick; the WAL
			// only grows meanwhile.
			_, _ = c.db.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

// close stops the loop and copies back what is left; closing again does
// nothing (a Store may be closed twice).
func (c *walCheckpointer) close() error {
	var err error
	c.once.Do(func() {
		close(c.stop)
		<-c.done
		_, err = c.db.ExecContext(context.Background(), `PRAGMA wal_checkpoint(TRUNCATE)`)
		if cerr := c.db.Close(); err == nil {
			err = cerr
		}
	})
	return err
}

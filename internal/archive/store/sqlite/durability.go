package sqlite

import (
	"errors"
	"fmt"
	"sync"

	"github.com/vigil-operator/vigil/internal/archive/tlog"
	"github.com/vigil-operator/vigil/internal/fsync"
)

// The writer commits with synchronous=NORMAL: SQLite writes a transaction's
// WAL frames but does not fsync them, and the writer goes on to the next
// group while the syncer makes the last one durable. The syncer fsyncs the
// WAL and only then, in commit order, puts each commit's leaves into the
// tree and answers its callers. So nothing is acknowledged, signed into a
// checkpoint or proven before it is on disk, as with synchronous=FULL; what
// changes is that the writer no longer sits idle through each fsync, and one
// fsync covers every commit that queued behind it.
//
// A power loss can take commits the syncer had not yet synced: SQLite's
// recovery drops them whole (WAL frames are checksummed), and none of them
// was acknowledged, signed or proven, so the callers retry and the log has no
// fork. A failed fsync is not retried (after a failure, the kernel may have
// dropped the dirty pages and a second fsync may succeed without them): the
// commits behind it fail and the store refuses all further writes until it
// is reopened, which recovers what is durable.

// syncItem is one committed transaction waiting to be durable.
type syncItem struct {
	leaves []tlog.Hash
	acks   []chan error
}

type syncer struct {
	// fsync makes the WAL durable (fsync.Path); tests replace it.
	fsync   func() error
	walPath string
	publish func([]tlog.Hash)
	items   chan syncItem
	stopped chan struct{}
	once    sync.Once

	// mu guards fsync (tests swap it) and failed.
	mu sync.Mutex
	// failed is the fsync error that broke durability; every later commit
	// fails with it.
	failed error
}

// syncQueue bounds the commits in flight: the writer blocks (and so callers
// queue) rather than run far ahead of the disk.
const syncQueue = 64

func startSyncer(dbPath string, publish func([]tlog.Hash)) *syncer {
	sy := &syncer{walPath: dbPath + "-wal", publish: publish, items: make(chan syncItem, syncQueue), stopped: make(chan struct{})}
	sy.fsync = func() error { return fsync.Path(sy.walPath) }
	go sy.loop()
	return sy
}

// enqueue hands over a committed transaction; its acks are answered once it
// is durable. Writer only.
func (sy *syncer) enqueue(leaves []tlog.Hash, acks ...chan error) {
	sy.items <- syncItem{leaves: leaves, acks: acks}
}

// wait enqueues a committed transaction and waits until it is durable.
func (sy *syncer) wait(leaves []tlog.Hash) error {
	ack := make(chan error, 1)
	sy.enqueue(leaves, ack)
	return <-ack
}

func (sy *syncer) loop() {
	defer close(sy.stopped)
	for item := range sy.items {
		batch := []syncItem{item}
	drain:
		for {
			select {
			case next, ok := <-sy.items:
				if !ok {
					break drain
				}
				batch = append(batch, next)
			default:
				break drain
			}
		}
		err := sy.sync()
		for _, it := range batch {
			if err == nil {
				sy.publish(it.leaves)
			}
			for _, ack := range it.acks {
				ack <- err
			}
		}
	}
}

// sync makes every commit handed over so far durable, or fails for good.
// The lock is not held through the fsync, so writers that check err are
// not held up by the disk. Only the syncer's loop calls it.
func (sy *syncer) sync() error {
	sy.mu.Lock()
	failed, fsync := sy.failed, sy.fsync
	sy.mu.Unlock()
	if failed != nil {
		return failed
	}
	if err := fsync(); err != nil {
		sy.mu.Lock()
		defer sy.mu.Unlock()
		sy.failed = fmt.Errorf("%w: while syncing the write-ahead log: %v; reopen the archive to recover what is durable", errNotDurable, err)
		return sy.failed
	}
	return nil
}

// err is the failure that stopped durability, if any.
func (sy *syncer) err() error {
	sy.mu.Lock()
	defer sy.mu.Unlock()
	return sy.failed
}

// close answers everything queued, then stops; closing again does nothing
// (a Store may be closed twice). The writer must have stopped.
func (sy *syncer) close() {
	sy.once.Do(func() {
		close(sy.items)
		<-sy.stopped
	})
}

// errNotDurable fails writes once an fsync has failed.
var errNotDurable = errors.New("the archive can no longer make writes durable")

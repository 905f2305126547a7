package postgres

import (
	"context"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/store"
)

// writeJob is one unit of work for the writer: an ingest (which may share a
// transaction with other ingests), a checkpoint, or an exclusive function.
type writeJob struct {
	ingest *ingestJob
	// checkpoint asks for a checkpoint of the log as it is now.
	checkpoint bool
	exclusive  func(ctx context.Context, t *txn) error
	ctx        context.Context
	done       chan error
}

// submit hands a job to the writer and waits for its outcome.
func (s *Store) submit(ctx context.Context, job *writeJob) error {
	job.ctx = ctx
	job.done = make(chan error, 1)
	// The read lock orders queueing against Close: once Close holds the
	// lock no job can be queued, so the writer's final drain sees them all.
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return store.ErrClosed
	}
	select {
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	case s.jobs <- job:
	}
	s.mu.RUnlock()
	// Once queued, the job's outcome is awaited even if ctx ends: the caller
	// must not be told "failed" about a write that then commits.
	return <-job.done
}

// exclusive runs fn alone in a write transaction on the writer.
func (s *Store) exclusive(ctx context.Context, fn func(ctx context.Context, t *txn) error) error {
	return s.submit(ctx, &writeJob{exclusive: fn})
}

// writeLoop is the replica's only writer. It drains queued ingests into one
// transaction and checkpoints the log on a timer.
func (s *Store) writeLoop() {
	defer close(s.stopped)
	tick := time.NewTicker(s.checkpointEvery)
	defer tick.Stop()
	for {
		var job *writeJob
		select {
		case job = <-s.jobs:
		case <-tick.C:
			s.checkpointOrLog()
			continue
		case <-s.closing:
			// Finish what was queued before Close, checkpoint, then stop.
			for {
				select {
				case job = <-s.jobs:
					s.run(job, nil)
				default:
					s.checkpointOrLog()
					return
				}
			}
		}
		s.run(job, s.jobs)
	}
}

// checkpointOrLog checkpoints a grown log; a failure is retried next tick.
func (s *Store) checkpointOrLog() {
	if err := s.checkpoint(context.Background()); err != nil {
		s.log.Error(err, "Could not checkpoint the log; retrying")
	}
}

// run executes a job; for an ingest it first gathers every ingest already
// queued (up to maxGroupRecords), stopping at the first other job, which
// then runs alone after the group.
func (s *Store) run(job *writeJob, queue chan *writeJob) {
	if job.checkpoint {
		job.done <- s.checkpoint(job.ctx)
		return
	}
	if job.exclusive != nil {
		job.done <- s.inTx(job.ctx, job.exclusive)
		return
	}
	group := []*writeJob{job}
	records := len(job.ingest.envs)
	var next *writeJob
gather:
	for queue != nil && records < maxGroupRecords {
		select {
		case j := <-queue:
			if j.ingest == nil {
				next = j
				break gather
			}
			group = append(group, j)
			records += len(j.ingest.envs)
		default:
			break gather
		}
	}
	s.commitIngests(group)
	if s.seq.checkpointSize == 0 {
		// A new archive's first leaves are signed at once, so even one
		// stopped within its first second leaves a signed log behind.
		s.checkpointOrLog()
	}
	if next != nil {
		s.run(next, nil)
	}
}

// commitIngests writes a group of ingests in one transaction. If the group
// fails, each ingest is retried alone, so one caller's bad batch never fails
// another's. The group's transaction is not bound to any caller's context:
// one caller giving up must not fail the others.
func (s *Store) commitIngests(group []*writeJob) {
	jobs := make([]*ingestJob, len(group))
	for i, j := range group {
		jobs[i] = j.ingest
	}
	err := s.inTx(context.Background(), func(ctx context.Context, t *txn) error {
		return s.applyIngests(ctx, t, jobs)
	})
	if err == nil || len(group) == 1 {
		for _, j := range group {
			j.done <- err
		}
		return
	}
	for _, j := range group {
		j.ingest.result = store.IngestResult{}
		j.done <- s.inTx(context.Background(), func(ctx context.Context, t *txn) error {
			return s.applyIngests(ctx, t, []*ingestJob{j.ingest})
		})
	}
}

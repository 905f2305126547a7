package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-operator/vigil/internal/archive/store/sealing"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/capture"
)

const (
	benchBatch = 100
	// benchConnectors is how many batches are in flight at once, as in the
	// SQLite benchmark (RunParallel with parallelism 4 on 2 CPUs).
	benchConnectors = 8
)

var benchSeq atomic.Int64

// benchBatchOf builds a batch of records with fresh dedupe keys: a
// connector's shipment of mixed-language chat, the SQLite benchmark's rows.
func benchBatchOf() []capture.Envelope {
	envs := make([]capture.Envelope, benchBatch)
	for i := range envs {
		n := benchSeq.Add(1)
		envs[i] = storetest.Envelope(fmt.Sprintf("bench-%d", n), day, fmt.Sprintf("早晨, 今日开盘前我哋倾下 order %d, guaranteed returns?", n), 0)
	}
	return envs
}

// BenchmarkPostgresIngest is durable ingest through the store: concurrent
// connectors' batches, sealed, group-committed, each record with its log
// leaf and the batch's audit leaf, committed before Ingest returns.
func BenchmarkPostgresIngest(b *testing.B) {
	env := newPgEnv(b)
	s := open(b, env.database(b), newTestKeys(b), Options{})
	records := runConcurrently(b, func() error {
		_, err := s.Ingest(context.Background(), "desk/a", "A", "bench", benchBatchOf())
		return err
	})
	b.ReportMetric(records, "records/s")
}

// BenchmarkPostgresRawBaseline is the baseline: the same rows, with their
// search terms, inserted straight into the records table by one connection,
// 100 a statement and 1,000 a transaction, with the same durability, and
// without encryption, statistics, audit or log.
func BenchmarkPostgresRawBaseline(b *testing.B) {
	env := newPgEnv(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, env.database(b))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, migrations[0]); err != nil {
		b.Fatal(err)
	}
	var tx pgx.Tx
	rows := 0
	start := time.Now()
	for b.Loop() {
		if tx == nil {
			if tx, err = conn.Begin(ctx); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := tx.Exec(ctx, insertRecordsSQL, rawArgs(benchBatchOf())...); err != nil {
			b.Fatal(err)
		}
		if rows += benchBatch; rows%1000 == 0 {
			if err := tx.Commit(ctx); err != nil {
				b.Fatal(err)
			}
			tx = nil
		}
	}
	if tx != nil {
		if err := tx.Commit(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "records/s")
}

// rawArgs are insertRecordsSQL's arguments for plaintext rows.
func rawArgs(envs []capture.Envelope) []any {
	j := &ingestJob{account: "desk/a", custodian: "A", envs: envs}
	for _, env := range envs {
		body, _ := json.Marshal(env.Record)
		j.sealed = append(j.sealed, sealing.Record{SealedBody: body})
		j.terms = append(j.terms, indexTerms(env.Record.Text))
	}
	return j.insertArgs(nanos(time.Now()))
}

// runConcurrently runs op from benchConnectors goroutines until b.Loop
// ends, and returns the records per second, counted to the last batch's
// return rather than b.Loop's last call.
func runConcurrently(b *testing.B, op func() error) float64 {
	work := make(chan struct{})
	var wg sync.WaitGroup
	var batches atomic.Int64
	for range benchConnectors {
		wg.Go(func() {
			for range work {
				if err := op(); err != nil {
					b.Error(err)
				}
				batches.Add(1)
			}
		})
	}
	start := time.Now()
	for b.Loop() {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	return float64(batches.Load()*benchBatch) / time.Since(start).Seconds()
}

package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/capture"
)

const benchBatch = 100

var benchSeq atomic.Int64

// benchBatchOf builds a batch of records with fresh dedupe keys: a connector's
// shipment of mixed-language chat.
func benchBatchOf() []capture.Envelope {
	envs := make([]capture.Envelope, benchBatch)
	for i := range envs {
		n := benchSeq.Add(1)
		envs[i] = storetest.Envelope(fmt.Sprintf("bench-%d", n), day, fmt.Sprintf("早晨, 今日开盘前我哋倾下 order %d, guaranteed returns?", n), 0)
	}
	return envs
}

// BenchmarkIngest is durable ingest through the store: concurrent
// connectors' batches, group-committed, each record with its log leaf and
// the batch's audit leaf, fsynced before Ingest returns. Group commit pays
// off with concurrency (more batches are queued while one group commits), so
// it runs at several numbers of connectors sending at once: a small
// deployment, and a bank's hundreds of monitored accounts.
func BenchmarkIngest(b *testing.B) {
	for _, connectors := range []int{8, 32, 128} {
		b.Run(fmt.Sprintf("connectors=%d", connectors), func(b *testing.B) {
			s, err := Open(context.Background(), b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range connectors {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						if _, err := s.Ingest(context.Background(), "desk/a", "A", "bench", benchBatchOf()); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkIngestRawBaseline is the baseline: the same rows inserted straight
// into SQLite with the same durability settings, 1,000 rows a transaction,
// without statistics, audit or log.
func BenchmarkIngestRawBaseline(b *testing.B) {
	pragmas := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)"} {
		pragmas.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "raw.db")+"?"+pragmas.Encode())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(migrations[0]); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	rows := 0
	var tx *sql.Tx
	var stmt *sql.Stmt
	for i := 0; i < b.N; i++ {
		for _, env := range benchBatchOf() {
			if tx == nil {
				if tx, err = db.Begin(); err != nil {
					b.Fatal(err)
				}
				if stmt, err = tx.Prepare(`INSERT INTO records (id, account, custodian, dedup_key, sent_at, ingested_at, text, record, findings, findings_count)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 0)`); err != nil {
					b.Fatal(err)
				}
			}
			r := env.Record
			body, _ := json.Marshal(r)
			if _, err := stmt.Exec(r.ID, "desk/a", "A", r.DedupKey, nanos(r.SentAt), nanos(r.CapturedAt), r.Text, body); err != nil {
				b.Fatal(err)
			}
			if rows++; rows%1000 == 0 {
				stmt.Close()
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
				tx = nil
			}
		}
	}
	if tx != nil {
		stmt.Close()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "records/s")
}

package search

import (
	"bytes"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// benchFragments are pieces of the chat the archive sees: Simplified,
// Traditional, Cantonese, English and mixed.
var benchFragments = []string{
	"明天去香港开会", "聽日得唔得閒", "我哋讨论下内幕交易嘅问题", "保证收益百分之二十", "请转到私人账户",
	"今晚食飯未", "Guaranteed returns of 20% per month", "please check case-42 before Friday",
	"提现cash到我的账户", "收到利益分配", "客户要求撤单", "The client wants to cancel the order",
	"好嘅，等阵再倾", "ＡＢＣ公司的股票", "USD100 transfer pending", "會議改到下星期三",
	"ok 冇问题", "交易所明日公布业绩", "see you at the office", "唔该晒",
}

// benchMessage builds a message of 1 to 4 fragments.
func benchMessage(rng *rand.Rand) string {
	n := 1 + rng.IntN(4)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = benchFragments[rng.IntN(len(benchFragments))]
	}
	return strings.Join(parts, " ")
}

func benchCorpus(n int) []string {
	rng := rand.New(rand.NewPCG(42, 17))
	out := make([]string, n)
	for i := range out {
		out[i] = benchMessage(rng)
	}
	return out
}

func corpusBytes(corpus []string) int64 {
	var n int64
	for _, m := range corpus {
		n += int64(len(m))
	}
	return n
}

func BenchmarkAnalyze(b *testing.B) {
	corpus := benchCorpus(10_000)
	size := corpusBytes(corpus)
	b.Run("analyze", func(b *testing.B) {
		b.SetBytes(size)
		tokens := 0
		for b.Loop() {
			for _, m := range corpus {
				tokens += len(Analyze(m))
			}
		}
		b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
	})
	b.Run("index-terms", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			for _, m := range corpus {
				_ = IndexTerms(m)
			}
		}
	})
	// The baseline is the cheapest tokenizer there is, which cannot search
	// Chinese at all: how much the analyzer costs over splitting on spaces.
	b.Run("baseline-fields-lower", func(b *testing.B) {
		b.SetBytes(size)
		tokens := 0
		for b.Loop() {
			for _, m := range corpus {
				tokens += len(strings.Fields(string(bytes.ToLower([]byte(m)))))
			}
		}
		b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
	})
}

// benchRecords is the size of BenchmarkFTS5Query's archive:
// VIGIL_SEARCH_BENCH_RECORDS=1000000 for the large run.
func benchRecords(b *testing.B) int {
	if v := os.Getenv("VIGIL_SEARCH_BENCH_RECORDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("VIGIL_SEARCH_BENCH_RECORDS=%q: want a positive count", v)
		}
		return n
	}
	return 100_000
}

var benchDB struct {
	once sync.Once
	db   *sql.DB
	err  error
}

// openBenchDB builds, once per process, an FTS5 index and a plain table of
// the same generated messages.
func openBenchDB(b *testing.B, n int) *sql.DB {
	benchDB.once.Do(func() {
		benchDB.db, benchDB.err = buildBenchDB(n)
	})
	if benchDB.err != nil {
		b.Fatal(benchDB.err)
	}
	return benchDB.db
}

func buildBenchDB(n int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file::memory:")
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	db.SetMaxOpenConns(1)
	for _, stmt := range []string{
		`CREATE VIRTUAL TABLE message_fts USING fts5(terms, tokenize='unicode61')`,
		`CREATE TABLE message (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			return nil, fmt.Errorf("%s: %w", stmt, err)
		}
	}
	tx, err := db.Begin()
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	ftsInsert, err := tx.Prepare(`INSERT INTO message_fts(rowid, terms) VALUES (?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("prepare fts insert: %w", err)
	}
	plainInsert, err := tx.Prepare(`INSERT INTO message(id, body) VALUES (?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("prepare insert: %w", err)
	}
	rng := rand.New(rand.NewPCG(42, 17))
	for id := 1; id <= n; id++ {
		m := benchMessage(rng)
		if _, err := ftsInsert.Exec(id, IndexTerms(m)); err != nil {
			return nil, fmt.Errorf("insert fts %d: %w", id, err)
		}
		if _, err := plainInsert.Exec(id, m); err != nil {
			return nil, fmt.Errorf("insert %d: %w", id, err)
		}
	}
	return db, tx.Commit()
}

// BenchmarkFTS5Query measures a two-character Chinese query (香港) over
// the FTS5 index beside the only way to answer it without one, LIKE over
// every row, and reports latency percentiles for each. Both return every
// matching id, gathered inside SQLite (group_concat), so the figures are the
// engines' and not database/sql's per-row cost, which is the same for both.
func BenchmarkFTS5Query(b *testing.B) {
	n := benchRecords(b)
	start := time.Now()
	db := openBenchDB(b, n)
	b.Logf("built %d records in %v", n, time.Since(start))
	q, err := Parse("香港")
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name, sql, arg string
	}{
		{"fts5", `SELECT count(*), coalesce(group_concat(rowid), '') FROM message_fts WHERE message_fts MATCH ?`, q.FTS5()},
		{"baseline-like-scan", `SELECT count(*), coalesce(group_concat(id), '') FROM message WHERE body LIKE ?`, "%香港%"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var latencies []time.Duration
			hits := 0
			for b.Loop() {
				t0 := time.Now()
				var ids string
				if err := db.QueryRow(tc.sql, tc.arg).Scan(&hits, &ids); err != nil {
					b.Fatal(err)
				}
				latencies = append(latencies, time.Since(t0))
				if got := strings.Count(ids, ",") + 1; hits > 0 && got != hits {
					b.Fatalf("%d ids for %d hits", got, hits)
				}
			}
			slices.Sort(latencies)
			b.ReportMetric(float64(percentile(latencies, 50).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(percentile(latencies, 95).Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(hits), "hits")
			b.ReportMetric(float64(n), "records")
		})
	}
}

// percentile of sorted durations.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[(len(sorted)-1)*p/100]
}

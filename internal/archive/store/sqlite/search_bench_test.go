package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/search"
	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/capture"
)

// storeSearchFragments is mixed-language chat; one in eight mentions 香港.
var storeSearchFragments = []string{
	"明天去香港开会", "聽日得唔得閒", "我哋讨论下内幕交易嘅问题", "保证收益百分之二十",
	"请转到私人账户", "Guaranteed returns of 20% per month", "客户要求撤单", "ok 冇问题",
}

// BenchmarkStoreSearch is a reviewer's search through the store: the first
// page (50) of records matching a two-character Chinese query, from the
// index, decrypted and checked. The baseline answers the same question the
// only way an encrypted archive without an index can: open every record in
// id order and match its text until the page is full. Records:
// VIGIL_STORE_SEARCH_BENCH_RECORDS (default 20,000).
func BenchmarkStoreSearch(b *testing.B) {
	n := 20_000
	if v := os.Getenv("VIGIL_STORE_SEARCH_BENCH_RECORDS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("VIGIL_STORE_SEARCH_BENCH_RECORDS=%q: want a positive count", v)
		}
	}
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(7, 11))
	start := time.Now()
	for i := 0; i < n; i += 1000 {
		envs := make([]capture.Envelope, 0, 1000)
		for j := i; j < min(n, i+1000); j++ {
			// 香港 only in the newest eighth, so the page is not found in
			// the first rows a scan reads.
			text := storeSearchFragments[1+rng.IntN(len(storeSearchFragments)-1)]
			if j >= n-n/8 {
				text = storeSearchFragments[0] + " " + text
			}
			envs = append(envs, storetest.Envelope(fmt.Sprintf("s-%d", j), day.Add(time.Duration(j)*time.Second), text, 0))
		}
		if _, err := s.Ingest(ctx, "desk/a", "A", "bench", envs); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("ingested %d records in %v", n, time.Since(start))
	query, err := search.Parse("香港")
	if err != nil {
		b.Fatal(err)
	}
	const page = 50
	measure := func(b *testing.B, run func() int) {
		var latencies []time.Duration
		found := 0
		for b.Loop() {
			t0 := time.Now()
			found = run()
			latencies = append(latencies, time.Since(t0))
		}
		if found != page {
			b.Fatalf("found %d records, want a full page of %d", found, page)
		}
		slices.Sort(latencies)
		b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(latencies[(len(latencies)-1)*95/100].Microseconds())/1000, "p95-ms")
		b.ReportMetric(float64(n), "records")
	}
	b.Run("index", func(b *testing.B) {
		measure(b, func() int {
			got, _, err := s.List(ctx, store.Query{Account: "desk/a", Text: "香港", Limit: page})
			if err != nil {
				b.Fatal(err)
			}
			return len(got)
		})
	})
	b.Run("baseline-decrypt-scan", func(b *testing.B) {
		measure(b, func() int {
			found, after := 0, ""
			for found < page {
				got, next, err := s.List(ctx, store.Query{Account: "desk/a", Limit: store.MaxListLimit, After: after})
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range got {
					if found < page && query.Match(r.Record.Text) {
						found++
					}
				}
				if next == "" {
					break
				}
				after = next
			}
			return found
		})
	})
}

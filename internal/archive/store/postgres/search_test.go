package postgres

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/sqlite"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/capture"
)

// searchCorpus mixes Simplified and Traditional Chinese, Cantonese and
// English, as a trading desk's chat does.
var searchCorpus = []string{
	"今天有內幕消息嗎 佢哋話",
	"今天有内幕消息吗",
	"呢个消息唔好讲出去",
	"聽日開會討論香港大學嘅項目",
	"听日开会讨论香港大学的项目",
	"明天香港开市前买入",
	"香港。港大同学聚会",
	"insider trading is a crime",
	"trading on insider information",
	"guaranteed returns, 保证收益",
	"唔該幫我提现cash",
	"提現 cash 100 USD100",
	"refund for the test order",
	"refund approved",
	"我哋今晚食飯",
	"我们今晚吃饭",
	"洗 钱 的 风险",
	"帳戶 账户 户口",
	"regular chat",
	"內幕交易 is insider dealing",
	"内幕 and 交易 apart",
	"「唔該」晒",
	"case-42 closed",
	"case 17 and 42",
}

// searchQueries cover docs/search.md: two-character Chinese, either script,
// phrases, exclusions and OR.
var searchQueries = []string{
	"消息", "内幕消息", "內幕消息", "聽日", "听日", "香港", "香港 大学", "港大", "飯", "饭",
	"提现cash", "\"insider trading\"", "insider trading", "“内幕交易”", "内幕交易", "「唔該」", "唔該",
	"聽日 OR 明天", "chat OR 佢哋", "refund -test", "消息 -佢哋", "香港 -\"香港 大学\"", "洗钱", "账户",
	"case-42", "\"case-42\"", "usd100", "保證", "佢哋", "内幕 -\"内幕交易\"", "crime OR dealing",
}

// testSearchAgreesWithSQLite stores one corpus in both backends and checks
// that every query, and every hold query, selects the same records.
func testSearchAgreesWithSQLite(t *testing.T, env *pgEnv) {
	ctx := context.Background()
	pg := env.fresh(t)
	lite, err := sqlite.Open(ctx, t.TempDir(), sqlite.Options{Logger: logr.Discard()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lite.Close() })
	var envs []capture.Envelope
	for i, text := range searchCorpus {
		envs = append(envs, storetest.Envelope(fmt.Sprintf("s%02d", i), day.Add(time.Duration(i)*time.Minute), text, 0))
	}
	for _, s := range []store.Store{pg, lite} {
		if _, err := s.Ingest(ctx, "desk/a", "A", "t", envs); err != nil {
			t.Fatal(err)
		}
	}
	found := 0
	for _, q := range searchQueries {
		want, got := listIDs(t, lite, q), listIDs(t, pg, q)
		if !slices.Equal(got, want) {
			t.Errorf("query %q: PostgreSQL finds %v, SQLite %v", q, got, want)
		}
		if len(want) > 0 {
			found++
		}
	}
	if found < len(searchQueries)-2 {
		t.Fatalf("only %d of %d queries found anything: the corpus does not exercise them", found, len(searchQueries))
	}
	compareHolds(t, pg, lite)
}

// listIDs pages through a query's hits, three at a time, so the paging and
// the phrase verification loop run too.
func listIDs(t *testing.T, s store.Store, text string) []string {
	t.Helper()
	var ids []string
	after := ""
	for {
		page, next, err := s.List(context.Background(), store.Query{Account: "desk/a", Text: text, Limit: 3, After: after})
		if err != nil {
			t.Fatalf("query %q: %v", text, err)
		}
		for _, r := range page {
			ids = append(ids, r.Record.ID)
		}
		if next == "" {
			return ids
		}
		after = next
	}
}

// compareHolds places the same holds on both backends and compares what
// each holds.
func compareHolds(t *testing.T, pg, lite store.Store) {
	t.Helper()
	ctx := context.Background()
	for i, q := range []string{"消息", "香港 -\"香港 大学\"", "\"insider trading\"", "聽日 OR 明天", "refund -test"} {
		h := store.Hold{ID: fmt.Sprintf("desk/h%d", i), Accounts: []store.AccountKey{"desk/a"}, Query: q, Reason: "inquiry", Actor: "legal"}
		a, err := pg.PutHold(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		b, err := lite.PutHold(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		if a.RecordsHeld != b.RecordsHeld || a.RecordsHeld == 0 {
			t.Errorf("hold query %q: PostgreSQL holds %d, SQLite %d", q, a.RecordsHeld, b.RecordsHeld)
		}
	}
}

// Package storetest is the conformance suite every archive backend passes.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/capture"
)

// Factory opens a fresh, empty store for one test.
type Factory func(t *testing.T) store.Store

// Run runs the suite.
func Run(t *testing.T, open Factory) {
	tests := map[string]func(*testing.T, store.Store){
		"ingest is idempotent on dedupKey":                               testIngestIdempotent,
		"ingest is all or nothing":                                       testIngestAllOrNothing,
		"concurrent ingests are each counted once":                       testConcurrentIngest,
		"stats follow ingest and purge":                                  testStats,
		"purge spares holds and the young":                               testPurgeSparesHolds,
		"purge respects maxRecords and dry runs":                         testPurgeLimits,
		"holds are released on record":                                   testHoldRelease,
		"list pages and searches Chinese":                                testList,
		"list filters by custodian, conversation, category and severity": testFilters,
		"every change is audited":                                        testAudit,
		"property: nothing young or held is purged":                      testPurgeProperty,
		"invalid requests are refused":                                   testInvalid,
		"the log commits to records and actions":                         testLog,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			fn(t, s)
		})
	}
}

const acctA store.AccountKey = "desk/alice"
const acctB store.AccountKey = "desk/bob"

var base = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Envelope builds a valid envelope; native ids make dedupe keys.
func Envelope(native string, sentAt time.Time, text string, findings int) capture.Envelope {
	r := &capture.Record{
		SchemaVersion: capture.SchemaVersion,
		ID:            capture.NewID(sentAt),
		Channel:       "webhook",
		NativeID:      native,
		Kind:          capture.KindMessage,
		Conversation:  capture.Conversation{ID: "room"},
		Sender:        capture.Participant{ID: "alice"},
		Text:          text,
		SentAt:        sentAt,
		CapturedAt:    sentAt,
	}
	r.SetDedupKey()
	env := capture.Envelope{Record: r}
	for i := range findings {
		env.Findings = append(env.Findings, capture.Finding{Policy: "p", Rule: fmt.Sprintf("r%d", i), Category: "InsiderTrading",
			Severity: "High", Confidence: 90, Start: 0, End: 3, Evidence: "内***"})
	}
	return env
}

func ingest(t *testing.T, s store.Store, acct store.AccountKey, custodian string, envs ...capture.Envelope) store.IngestResult {
	t.Helper()
	res, err := s.Ingest(context.Background(), acct, custodian, "test", envs)
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	return res
}

func testIngestIdempotent(t *testing.T, s store.Store) {
	e1, e2 := Envelope("m1", base, "一", 0), Envelope("m2", base, "二", 0)
	if r := ingest(t, s, acctA, "Alice", e1, e2); r.Inserted != 2 || r.Duplicates != 0 {
		t.Fatalf("first ingest = %+v", r)
	}
	// The same events again, even under new ids (a connector crash before the
	// ack re-ships with the same dedupe keys): nothing new is stored.
	again := Envelope("m1", base, "一", 0)
	if r := ingest(t, s, acctA, "Alice", again, e2); r.Inserted != 0 || r.Duplicates != 2 {
		t.Fatalf("second ingest = %+v", r)
	}
	// The same native id for another account is another record.
	if r := ingest(t, s, acctB, "Bob", Envelope("m1", base, "一", 0)); r.Inserted != 1 {
		t.Fatalf("other account = %+v", r)
	}
	st, _ := s.Stats(context.Background(), acctA)
	if st.MessagesCaptured != 2 {
		t.Fatalf("messages = %d, want 2", st.MessagesCaptured)
	}
}

func testIngestAllOrNothing(t *testing.T, s store.Store) {
	bad := Envelope("m2", base, "x", 0)
	bad.Record.DedupKey = "forged"
	_, err := s.Ingest(context.Background(), acctA, "Alice", "test", []capture.Envelope{Envelope("m1", base, "x", 0), bad})
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("want ErrInvalid, got %v", err)
	}
	st, _ := s.Stats(context.Background(), acctA)
	if st.MessagesCaptured != 0 {
		t.Fatalf("a refused batch stored %d records", st.MessagesCaptured)
	}
}

func testConcurrentIngest(t *testing.T, s store.Store) {
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var envs []capture.Envelope
			for i := range 50 {
				// Half the workers send the same events as another worker.
				envs = append(envs, Envelope(fmt.Sprintf("w%d-m%d", w%8, i), base.Add(time.Duration(i)*time.Second), "并发", 0))
			}
			if _, err := s.Ingest(context.Background(), acctA, "Alice", "test", envs); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st, _ := s.Stats(context.Background(), acctA)
	if st.MessagesCaptured != 8*50 {
		t.Fatalf("messages = %d, want %d", st.MessagesCaptured, 8*50)
	}
}

func testStats(t *testing.T, s store.Store) {
	ctx := context.Background()
	st, err := s.Stats(ctx, acctA)
	if err != nil || st.MessagesCaptured != 0 || st.LastMessageTime != nil {
		t.Fatalf("empty account stats = %+v, %v", st, err)
	}
	ingest(t, s, acctA, "Alice", Envelope("m1", base, "a", 2), Envelope("m2", base.Add(time.Hour), "b", 1))
	st, _ = s.Stats(ctx, acctA)
	if st.MessagesCaptured != 2 || st.FindingsTotal != 3 || st.FindingsOpen != 3 || !st.LastMessageTime.Equal(base.Add(time.Hour)) || st.LastCaptureTime == nil {
		t.Fatalf("stats = %+v", st)
	}
	_, err = s.Purge(ctx, store.PurgeRequest{Accounts: []store.AccountKey{acctA}, Cutoff: base.Add(time.Minute), MaxRecords: 10, Rule: "desk/r", Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	st, _ = s.Stats(ctx, acctA)
	if st.MessagesCaptured != 1 || st.FindingsTotal != 1 || !st.LastMessageTime.Equal(base.Add(time.Hour)) {
		t.Fatalf("stats after purge = %+v", st)
	}

	// A system record (a capture checkpoint) proves capture is alive: it
	// moves the capture time, never the message count or last message.
	before := *st.LastCaptureTime
	checkpoint := Envelope("checkpoint-1", base.Add(48*time.Hour), "capture checkpoint", 0)
	checkpoint.Record.Kind = capture.KindSystem
	checkpoint.Record.SetDedupKey()
	ingest(t, s, acctA, "Alice", checkpoint)
	st, _ = s.Stats(ctx, acctA)
	if st.MessagesCaptured != 1 || !st.LastMessageTime.Equal(base.Add(time.Hour)) || st.LastCaptureTime.Before(before) {
		t.Fatalf("stats after a system record = %+v", st)
	}
	// Purging it leaves the message count alone too.
	if _, err := s.Purge(ctx, store.PurgeRequest{Accounts: []store.AccountKey{acctA}, Cutoff: base.Add(72 * time.Hour), MaxRecords: 10, Rule: "desk/r", Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	if st, _ = s.Stats(ctx, acctA); st.MessagesCaptured != 0 || st.LastMessageTime != nil {
		t.Fatalf("stats after purging everything = %+v", st)
	}
}

func testPurgeSparesHolds(t *testing.T, s store.Store) {
	ctx := context.Background()
	ingest(t, s, acctA, "Alice",
		Envelope("old-1", base, "普通消息", 0),
		Envelope("old-2", base.Add(time.Minute), "关于 case-9 的内幕消息", 0),
		Envelope("new-1", base.Add(48*time.Hour), "case-9 新消息", 0))
	ingest(t, s, acctB, "Bob", Envelope("old-b", base, "bob 的旧消息", 0))
	// Alice's case-9 records, and everything of custodian Bob before day 2.
	to := base.Add(24 * time.Hour)
	if _, err := s.PutHold(ctx, store.Hold{ID: "desk/case-9", Accounts: []store.AccountKey{acctA}, Query: "case-9", Reason: "inquiry", Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	hs, err := s.PutHold(ctx, store.Hold{ID: "desk/bob", Custodians: []string{"Bob"}, To: &to, Reason: "litigation", Actor: "test"})
	if err != nil || hs.RecordsHeld != 1 || !hs.Active {
		t.Fatalf("custodian hold = %+v, %v", hs, err)
	}
	rep, err := s.Purge(ctx, store.PurgeRequest{Accounts: []store.AccountKey{acctA, acctB}, Cutoff: base.Add(time.Hour), MaxRecords: 100, Rule: "desk/r", Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Eligible != 3 || rep.Purged != 1 || rep.HeldBack != 2 || len(rep.CertificateSHA256) != 64 {
		t.Fatalf("report = %+v", rep)
	}
	recs, _, _ := s.List(ctx, store.Query{Account: acctA})
	if len(recs) != 2 {
		t.Fatalf("alice has %d records, want the held one and the young one", len(recs))
	}
}

func testPurgeLimits(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i := range 10 {
		ingest(t, s, acctA, "Alice", Envelope(fmt.Sprintf("m%d", i), base.Add(time.Duration(i)*time.Second), "x", 0))
	}
	req := store.PurgeRequest{Accounts: []store.AccountKey{acctA}, Cutoff: base.Add(time.Hour), MaxRecords: 4, Rule: "desk/r", Actor: "test", DryRun: true}
	rep, err := s.Purge(ctx, req)
	if err != nil || rep.Purged != 4 || rep.Eligible != 10 || !rep.DryRun {
		t.Fatalf("dry run = %+v, %v", rep, err)
	}
	if st, _ := s.Stats(ctx, acctA); st.MessagesCaptured != 10 {
		t.Fatal("a dry run deleted records")
	}
	req.DryRun = false
	if rep, _ = s.Purge(ctx, req); rep.Purged != 4 {
		t.Fatalf("purge = %+v", rep)
	}
	if st, _ := s.Stats(ctx, acctA); st.MessagesCaptured != 6 {
		t.Fatalf("messages = %d, want 6", st.MessagesCaptured)
	}
}

func testHoldRelease(t *testing.T, s store.Store) {
	ctx := context.Background()
	ingest(t, s, acctA, "Alice", Envelope("m1", base, "x", 0))
	if _, err := s.PutHold(ctx, store.Hold{ID: "desk/h", Accounts: []store.AccountKey{acctA}, Reason: "r", Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	req := store.PurgeRequest{Accounts: []store.AccountKey{acctA}, Cutoff: base.Add(time.Hour), MaxRecords: 10, Rule: "desk/r", Actor: "test"}
	if rep, _ := s.Purge(ctx, req); rep.Purged != 0 || rep.HeldBack != 1 {
		t.Fatalf("held purge = %+v", rep)
	}
	hs, err := s.ReleaseHold(ctx, "desk/h", "case closed", "test")
	if err != nil || hs.Active || hs.ReleasedAt == nil || hs.ReleaseReason != "case closed" {
		t.Fatalf("release = %+v, %v", hs, err)
	}
	if _, err := s.PutHold(ctx, store.Hold{ID: "desk/h", Accounts: []store.AccountKey{acctA}, Reason: "r", Actor: "test"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("re-placing a released hold must be refused, got %v", err)
	}
	if _, err := s.ReleaseHold(ctx, "desk/missing", "x", "test"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("releasing an unknown hold = %v", err)
	}
	if rep, _ := s.Purge(ctx, req); rep.Purged != 1 {
		t.Fatalf("purge after release = %+v", rep)
	}
}

func testList(t *testing.T, s store.Store) {
	ctx := context.Background()
	var envs []capture.Envelope
	for i := range 25 {
		text := "regular chat"
		if i%5 == 0 {
			text = "今天有內幕消息嗎 佢哋話"
		}
		envs = append(envs, Envelope(fmt.Sprintf("m%02d", i), base.Add(time.Duration(i)*time.Minute), text, 0))
	}
	ingest(t, s, acctA, "Alice", envs...)
	var all []store.StoredRecord
	after := ""
	for {
		page, next, err := s.List(ctx, store.Query{Account: acctA, Limit: 10, After: after})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		after = next
	}
	if len(all) != 25 {
		t.Fatalf("paged %d records, want 25", len(all))
	}
	for query, want := range map[string]int{
		"消息":               5, // a two-character word inside a sentence
		"内幕消息":             5, // Simplified finds Traditional
		"消息 -佢哋":           0, // every hit also says 佢哋
		"\"regular chat\"": 20,
		"chat OR 佢哋":       25,
		"內幕交易":             0,
	} {
		hits, _, err := s.List(ctx, store.Query{Account: acctA, Text: query})
		if err != nil || len(hits) != want {
			t.Fatalf("query %q found %d (%v), want %d", query, len(hits), err, want)
		}
	}
	if _, _, err := s.List(ctx, store.Query{Account: acctA, Text: "-chat"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("a query of exclusions only: %v", err)
	}
	from := base.Add(10 * time.Minute)
	ranged, _, _ := s.List(ctx, store.Query{Account: acctA, From: &from})
	if len(ranged) != 15 {
		t.Fatalf("time range found %d, want 15", len(ranged))
	}
}

func testFilters(t *testing.T, s store.Store) {
	ctx := context.Background()
	mk := func(native, conversation, category, severity string) capture.Envelope {
		env := Envelope(native, base, "報價 quote", 0)
		env.Record.Conversation.ID = conversation
		env.Record.SetDedupKey()
		if category != "" {
			env.Findings = []capture.Finding{{Policy: "p", Rule: "r", Category: category, Severity: severity, Confidence: 90, Start: 0, End: 3}}
		}
		return env
	}
	ingest(t, s, acctA, "Alice", mk("f1", "room-1", "InsiderTrading", "High"), mk("f2", "room-1", "", ""), mk("f3", "room-2", "Fraud", "Low"))
	ingest(t, s, acctA, "Bob", mk("f4", "room-2", "InsiderTrading", "Critical"))
	for name, tc := range map[string]struct {
		q    store.Query
		want int
	}{
		"custodian":              {store.Query{Custodian: "Bob"}, 1},
		"conversation":           {store.Query{Conversation: "room-1"}, 2},
		"category":               {store.Query{Category: "InsiderTrading"}, 2},
		"a category's prefix":    {store.Query{Category: "Insider"}, 0},
		"at least High":          {store.Query{MinSeverity: "High"}, 2},
		"at least Low":           {store.Query{MinSeverity: "Low"}, 3},
		"combined with text":     {store.Query{Text: "報價", Conversation: "room-2", MinSeverity: "Critical"}, 1},
		"custodian and category": {store.Query{Custodian: "Alice", Category: "Fraud"}, 1},
	} {
		tc.q.Account = acctA
		got, _, err := s.List(ctx, tc.q)
		if err != nil || len(got) != tc.want {
			t.Fatalf("%s: %d records (%v), want %d", name, len(got), err, tc.want)
		}
	}
	for _, bad := range []store.Query{{Account: acctA, MinSeverity: "Severe"}, {Account: acctA, Category: "a,b"}} {
		if _, _, err := s.List(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("filter %+v: %v, want ErrInvalid", bad, err)
		}
	}
}

func testAudit(t *testing.T, s store.Store) {
	ctx := context.Background()
	ingest(t, s, acctA, "Alice", Envelope("m1", base, "x", 0))
	_, _ = s.PutHold(ctx, store.Hold{ID: "desk/h", Accounts: []store.AccountKey{acctA}, Reason: "r", Actor: "lawyer"})
	_, _ = s.ReleaseHold(ctx, "desk/h", "done", "lawyer")
	_, _ = s.Purge(ctx, store.PurgeRequest{Accounts: []store.AccountKey{acctA}, Cutoff: base.Add(time.Hour), MaxRecords: 1, Rule: "desk/r", Actor: "manager"})
	if err := s.RecordAccess(ctx, "reviewer", store.AuditRead, string(acctA), "q=x"); err != nil {
		t.Fatal(err)
	}
	events, last, err := s.Audit(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	want := []string{store.AuditIngest, store.AuditHoldPut, store.AuditHoldRelease, store.AuditPurge, store.AuditRead}
	if fmt.Sprint(actions) != fmt.Sprint(want) {
		t.Fatalf("audit actions = %v, want %v", actions, want)
	}
	if read := events[len(events)-1]; read.Actor != "reviewer" || read.Subject != string(acctA) || read.Detail != "q=x" {
		t.Fatalf("the read was audited as %+v", read)
	}
	if more, _, _ := s.Audit(ctx, last, 100); len(more) != 0 {
		t.Fatal("reading after the last sequence must return nothing")
	}
}

// testPurgeProperty checks, over random histories, the archive's central
// promise: a purge never removes a record younger than the cutoff or covered
// by an active hold, and removes every other eligible record (up to the cap).
func testPurgeProperty(t *testing.T, s store.Store) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(42, 2026))
	accounts := []store.AccountKey{"p/a0", "p/a1", "p/a2"}
	custodians := []string{"c0", "c1"}
	words := []string{"alpha", "内幕", "beta", "保证"}
	type rec struct {
		acct      store.AccountKey
		custodian string
		sent      time.Time
		text      string
	}
	live := map[string]rec{}
	// model is the test's own account of which holds are active, the oracle
	// the store's purges are checked against.
	model := map[string]*modelHold{}
	n := 0
	for round := range 30 {
		for range 1 + rng.IntN(20) {
			r := rec{acct: accounts[rng.IntN(3)], custodian: custodians[rng.IntN(2)],
				sent: base.Add(time.Duration(rng.IntN(1000)) * time.Hour), text: words[rng.IntN(4)] + " " + words[rng.IntN(4)]}
			n++
			env := Envelope(fmt.Sprintf("n%d", n), r.sent, r.text, 0)
			if _, err := s.Ingest(ctx, r.acct, r.custodian, "prop", []capture.Envelope{env}); err != nil {
				t.Fatal(err)
			}
			live[env.Record.ID] = r
		}
		holdID := fmt.Sprintf("p/h%d", rng.IntN(4))
		if rng.IntN(3) == 0 {
			if _, err := s.ReleaseHold(ctx, holdID, "done", "prop"); err == nil && model[holdID] != nil {
				model[holdID].released = true
			}
		} else {
			h := store.Hold{ID: holdID, Reason: "prop", Actor: "prop"}
			if rng.IntN(2) == 0 {
				h.Accounts = []store.AccountKey{accounts[rng.IntN(3)]}
			} else {
				h.Custodians = []string{custodians[rng.IntN(2)]}
			}
			if rng.IntN(2) == 0 {
				h.Query = words[rng.IntN(4)]
			}
			if rng.IntN(2) == 0 {
				from := base.Add(time.Duration(rng.IntN(500)) * time.Hour)
				to := from.Add(time.Duration(rng.IntN(500)) * time.Hour)
				h.From, h.To = &from, &to
			}
			_, err := s.PutHold(ctx, h)
			switch {
			case err == nil:
				model[holdID] = &modelHold{hold: h}
			case model[holdID] == nil || !model[holdID].released:
				t.Fatalf("round %d: placing hold %s: %v", round, holdID, err)
			}
		}
		cutoff := base.Add(time.Duration(rng.IntN(1000)) * time.Hour)
		before, _ := listAll(ctx, t, s, accounts)
		rep, err := s.Purge(ctx, store.PurgeRequest{Accounts: accounts, Cutoff: cutoff, MaxRecords: 1 + rng.IntN(50), Rule: "p/r", Actor: "prop"})
		if err != nil {
			t.Fatal(err)
		}
		after, _ := listAll(ctx, t, s, accounts)
		purged, eligibleFree := 0, 0
		for id := range before {
			r := live[id]
			held := false
			for _, m := range model {
				held = held || m.covers(r.acct, r.custodian, r.sent, r.text)
			}
			if r.sent.Before(cutoff) && !held {
				eligibleFree++
			}
			if _, still := after[id]; still {
				continue
			}
			purged++
			if !r.sent.Before(cutoff) {
				t.Fatalf("round %d: purged %s sent %v, not before cutoff %v", round, id, r.sent, cutoff)
			}
			if held {
				t.Fatalf("round %d: purged %s which an active hold covers", round, id)
			}
			delete(live, id)
		}
		if int64(purged) != rep.Purged {
			t.Fatalf("round %d: report says %d purged, %d disappeared", round, rep.Purged, purged)
		}
		if want := min(eligibleFree, int(rep.Purged)); purged < want || (purged < eligibleFree && purged == 0) {
			t.Fatalf("round %d: purged %d of %d unheld eligible records", round, purged, eligibleFree)
		}
	}
}

type modelHold struct {
	hold     store.Hold
	released bool
}

func (m *modelHold) covers(acct store.AccountKey, custodian string, sent time.Time, text string) bool {
	if m.released {
		return false
	}
	scoped := false
	for _, a := range m.hold.Accounts {
		scoped = scoped || a == acct
	}
	for _, c := range m.hold.Custodians {
		scoped = scoped || c == custodian
	}
	return scoped &&
		(m.hold.From == nil || !sent.Before(*m.hold.From)) &&
		(m.hold.To == nil || !sent.After(*m.hold.To)) &&
		(m.hold.Query == "" || strings.Contains(text, m.hold.Query))
}

func listAll(ctx context.Context, t *testing.T, s store.Store, accounts []store.AccountKey) (map[string]store.StoredRecord, error) {
	t.Helper()
	out := map[string]store.StoredRecord{}
	for _, a := range accounts {
		after := ""
		for {
			page, next, err := s.List(ctx, store.Query{Account: a, After: after})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page {
				out[r.Record.ID] = r
			}
			if next == "" {
				break
			}
			after = next
		}
	}
	return out, nil
}

func testInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	cases := map[string]error{}
	_, cases["bad account"] = s.Ingest(ctx, "no-slash", "x", "t", []capture.Envelope{Envelope("m", base, "x", 0)})
	_, cases["nil record"] = s.Ingest(ctx, acctA, "x", "t", []capture.Envelope{{}})
	_, cases["purge without accounts"] = s.Purge(ctx, store.PurgeRequest{Cutoff: base, MaxRecords: 1, Rule: "r"})
	_, cases["purge without rule"] = s.Purge(ctx, store.PurgeRequest{Accounts: []store.AccountKey{acctA}, Cutoff: base, MaxRecords: 1})
	_, cases["hold without scope"] = s.PutHold(ctx, store.Hold{ID: "h", Reason: "r"})
	_, cases["hold without reason"] = s.PutHold(ctx, store.Hold{ID: "h", Accounts: []store.AccountKey{acctA}})
	_, cases["release without reason"] = s.ReleaseHold(ctx, "h", " ", "t")
	for name, err := range cases {
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: want ErrInvalid, got %v", name, err)
		}
	}
	if _, err := s.GetHold(ctx, "desk/none"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown hold: want ErrNotFound, got %v", err)
	}
}

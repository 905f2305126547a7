package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/store/sealing"
	"github.com/vigil-operator/vigil/internal/archive/store/storetest"
	"github.com/vigil-operator/vigil/internal/capture"
)

// manyTerms are n distinct search terms of 21 bytes each.
func manyTerms(n int) []string {
	terms := make([]string, n)
	for i := range terms {
		terms[i] = fmt.Sprintf("w%020d", i)
	}
	return terms
}

func TestJoinTermsStaysWithinTheTSVectorLimit(t *testing.T) {
	if got := joinTerms([]string{"wa", "u996d"}); got != "wa u996d" {
		t.Fatalf("joinTerms = %q", got)
	}
	kept := strings.Fields(joinTerms(manyTerms(60000)))
	bytes := 0
	for _, term := range kept {
		bytes += len(term)
	}
	if bytes > maxTermBytes || bytes < maxTermBytes-21 || kept[0] != manyTerms(1)[0] {
		t.Fatalf("kept %d terms of %d bytes, want the first ones up to %d bytes", len(kept), bytes, maxTermBytes)
	}
}

// testTermsPastTheTSVectorLimit stores a record whose terms PostgreSQL
// could not address in one tsvector: the kept terms must match, and the
// vector must read back whole rather than garbled.
func testTermsPastTheTSVectorLimit(t *testing.T, env *pgEnv) {
	ctx := context.Background()
	s := env.fresh(t)
	rec := storetest.Envelope("huge", time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), "huge", 0)
	sealed, err := s.sealer.SealEnvelope(ctx, "desk/a", rec)
	if err != nil {
		t.Fatal(err)
	}
	terms := joinTerms(manyTerms(60000))
	job := &ingestJob{account: "desk/a", custodian: "A", actor: "t", envs: []capture.Envelope{rec},
		sealed: []sealing.Record{sealed}, terms: []string{terms}}
	if err := s.submit(ctx, &writeJob{ingest: job}); err != nil {
		t.Fatal(err)
	}
	kept := strings.Fields(terms)
	var n int64
	var first, last string
	scanRow(t, s, `SELECT length(terms)::bigint, (SELECT min(lexeme) FROM unnest(terms)), (SELECT max(lexeme) FROM unnest(terms)) FROM records`, nil, &n, &first, &last)
	if n != int64(len(kept)) || first != kept[0] || last != kept[len(kept)-1] {
		t.Fatalf("the stored vector has %d lexemes from %s to %s, want %d from %s to %s", n, first, last, len(kept), kept[0], kept[len(kept)-1])
	}
	var matched int64
	scanRow(t, s, `SELECT count(*) FROM records WHERE terms @@ $1::tsquery`, []any{"'" + kept[len(kept)-1] + "'"}, &matched)
	if matched != 1 {
		t.Fatal("the last kept term does not match its record")
	}
}

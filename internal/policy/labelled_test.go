package policy

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/vigil-operator/vigil/internal/capture"
)

// TestLabelledFixtures runs the sample finance lexicons over the reviewed,
// labelled chat messages in test/fixtures/policy: every message must fire
// exactly the rules its label names, no more and no fewer.
func TestLabelledFixtures(t *testing.T) {
	bundle, err := LoadFiles([]string{
		"../../config/samples/compliance_v1alpha1_compliancepolicy_lexicons.yaml",
		"../../config/samples/lexicons",
	})
	if err != nil {
		t.Fatal(err)
	}
	engine, errs := Compile(bundle, Options{})
	if len(errs) > 0 {
		t.Fatalf("sample lexicons do not compile: %v", errs)
	}
	f, err := os.Open("../../test/fixtures/policy/labelled.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	total, positives := 0, 0
	for sc.Scan() {
		var fx struct {
			ID, Lang, Text string
			Expect         []string
		}
		if err := json.Unmarshal(sc.Bytes(), &fx); err != nil {
			t.Fatal(err)
		}
		total++
		if len(fx.Expect) > 0 {
			positives++
		}
		var got []string
		for _, fd := range engine.Evaluate(context.Background(), &capture.Record{Text: fx.Text}) {
			if fd.Policy == "trading/finance-lexicons" && !slices.Contains(got, fd.Rule) {
				got = append(got, fd.Rule)
			}
		}
		slices.Sort(got)
		want := slices.Clone(fx.Expect)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s (%s) %q: fired %v, labelled %v", fx.ID, fx.Lang, fx.Text, got, want)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if total < 300 || positives < 150 {
		t.Fatalf("only %d fixtures (%d positive); the table is meant to be large", total, positives)
	}
	t.Logf("%d labelled messages, %d positive", total, positives)
}

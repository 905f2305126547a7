package cel

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestCompileAndEval(t *testing.T) {
	record := map[string]any{"text": "hi", "sender": map[string]any{"affiliation": "external"}}
	personal := []map[string]any{{"category": "PersonalData", "rule": "ids"}}
	for _, tc := range []struct {
		expr          string
		needsFindings bool
		none, some    bool
	}{
		{`record.sender.affiliation == "external" && findings.exists(f, f.category == "PersonalData")`, true, false, true},
		{`size(findings) >= 1`, true, false, true},
		{`record.sender.affiliation == "external"`, false, true, true},
		{`record.sender.affiliation == "external" || findings.exists(f, f.rule == "ids")`, false, true, true},
	} {
		p, err := Compile(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if p.NeedsFindings != tc.needsFindings {
			t.Errorf("%s: NeedsFindings = %v", tc.expr, p.NeedsFindings)
		}
		if got, err := p.Eval(context.Background(), record, nil); err != nil || got != tc.none {
			t.Errorf("%s without findings = %v, %v", tc.expr, got, err)
		}
		if got, err := p.Eval(context.Background(), record, personal); err != nil || got != tc.some {
			t.Errorf("%s with findings = %v, %v", tc.expr, got, err)
		}
	}
}

func TestCompileRefuses(t *testing.T) {
	for expr, want := range map[string]string{
		`record.text +`: "does not compile",
		`"a string"`:    "must be a boolean",
		`findings.all(a, findings.all(b, findings.all(c, a == b && b == c)))`: "limit is",
	} {
		_, err := Compile(expr)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Compile(%s) = %v, want an error with %q", expr, err, want)
		}
	}
}

func TestEvalStopsAtCostLimit(t *testing.T) {
	// The estimate passes (the record's list size is assumed bounded), but a
	// huge list at run time hits the per-call limit.
	p, err := Compile(`record.items.all(i, i.startsWith("a"))`)
	if err != nil {
		t.Fatal(err)
	}
	items := make([]any, 100000)
	for i := range items {
		items[i] = "abc"
	}
	_, err = p.Eval(context.Background(), map[string]any{"items": items}, nil)
	if !errors.Is(err, ErrCost) {
		t.Fatalf("Eval = %v, want ErrCost", err)
	}
}

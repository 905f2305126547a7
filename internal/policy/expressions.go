package policy

import (
	"context"
	"encoding/json"

	"github.com/vigil-operator/vigil/internal/capture"
)

// expressionFindings runs the CEL rules last, each over the record and every
// finding so far (of all policies, including earlier expression rules). An
// expression that needs findings is skipped when there are none, which keeps
// CEL off the path of most messages.
func (e *Engine) expressionFindings(ctx context.Context, m *message, out []capture.Finding) []capture.Finding {
	var record map[string]any
	for _, r := range e.byKind[kindExpression] {
		rule := &e.rules[r]
		if rule.expr.NeedsFindings && len(out) == 0 {
			continue
		}
		if record == nil {
			record = recordValue(m)
		}
		ok, err := rule.expr.Eval(ctx, record, findingValues(out))
		if err != nil || !ok {
			// An expression that errs (a missing field, its cost limit)
			// does not fire; the compile step already refused the ones that
			// cannot type-check or could cost too much.
			continue
		}
		f := e.finding(r)
		f.Detector = "expression"
		f.Confidence = 100
		out = append(out, f)
	}
	return out
}

// recordValue is the record as CEL sees it: its capture.v1 JSON form, plus
// the languages the engine detected.
func recordValue(m *message) map[string]any {
	b, err := json.Marshal(m.rec)
	if err != nil {
		return map[string]any{}
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		return map[string]any{}
	}
	langs := make([]any, 0, 2)
	for _, l := range m.languages.Names() {
		langs = append(langs, l)
	}
	v["languages"] = langs
	return v
}

func findingValues(fs []capture.Finding) []map[string]any {
	out := make([]map[string]any, len(fs))
	for i, f := range fs {
		out[i] = map[string]any{
			"policy": f.Policy, "rule": f.Rule, "category": f.Category, "severity": f.Severity,
			"detector": f.Detector, "confidence": int64(f.Confidence), "audit": f.Audit,
		}
	}
	return out
}

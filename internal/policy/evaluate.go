package policy

import (
	"cmp"
	"context"
	"slices"
	"sync"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/policy/detect"
	"github.com/vigil-operator/vigil/internal/policy/lexicon"
	"github.com/vigil-operator/vigil/internal/policy/link"
	"github.com/vigil-operator/vigil/internal/policy/normalize"
)

// maxFindingsPerRule bounds what one rule reports on one message: a message
// repeating a term a thousand times is one problem, not a thousand.
const maxFindingsPerRule = 16

// scratch holds per-message buffers, reused through a pool so evaluating a
// message allocates little beyond its findings.
type scratch struct {
	hits       []lexicon.Hit
	ruleHits   []ruleHit
	detections []detect.Detection
	urls       []link.URL
	scanner    *detect.Scanner
}

type ruleHit struct {
	rule int32
	role termRole
	hit  int32
}

var scratchPool = sync.Pool{New: func() any { return &scratch{scanner: detect.NewScanner()} }}

// message is what the rule steps share about one record.
type message struct {
	rec       *capture.Record
	text      string
	languages normalize.Languages
	stats     lexicon.Stats
	folded    *normalize.View // built on first use, for regex rules
}

// Evaluate runs every rule on a record and returns its findings, ordered by
// position. Offsets are bytes into rec.Text; evidence is masked.
func (e *Engine) Evaluate(ctx context.Context, rec *capture.Record) []capture.Finding {
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	m := &message{rec: rec, text: rec.Text}
	s.hits = e.matcher.Scan(m.text, s.hits[:0], &m.stats)
	m.languages = m.stats.Script.Languages()

	var out []capture.Finding
	if len(s.hits) > 0 {
		out = e.keywordFindings(m, s, out)
	}
	if e.detectSet != 0 && m.text != "" {
		s.detections = s.scanner.Scan(m.text, e.detectSet, s.detections[:0])
		if len(s.detections) > 0 {
			out = e.detectorFindings(s.detections, out)
		}
	}
	if len(e.byKind[kindRegex]) > 0 && m.text != "" {
		out = e.regexFindings(m, out)
	}
	if len(e.byKind[kindLinks]) > 0 && m.text != "" {
		s.urls = link.Extract(m.text, s.urls[:0])
		if len(s.urls) > 0 {
			out = e.linkFindings(s.urls, out)
		}
	}
	if len(e.byKind[kindAttachments]) > 0 && len(rec.Attachments) > 0 {
		out = e.attachmentFindings(ctx, rec, out)
	}
	if len(e.byKind[kindExpression]) > 0 {
		out = e.expressionFindings(ctx, m, out)
	}
	slices.SortStableFunc(out, func(a, b capture.Finding) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.Policy, b.Policy), cmp.Compare(a.Rule, b.Rule))
	})
	return out
}

// finding starts a finding of rule r.
func (e *Engine) finding(r int) capture.Finding {
	rule := &e.rules[r]
	p := &e.policies[rule.policy]
	return capture.Finding{Policy: p.name, Rule: rule.name, Category: rule.category, Severity: rule.severity, Audit: p.audit}
}

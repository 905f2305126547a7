package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/vigil-operator/vigil/internal/capture"
)

const testPolicies = `
apiVersion: v1
kind: ConfigMap
metadata: {name: aml-terms, namespace: trading}
data:
  zh: |
    # money laundering, Simplified
    洗钱
    地下钱庄
    跑分
---
apiVersion: compliance.vigil.dev/v1alpha1
kind: CompliancePolicy
metadata: {name: conduct, namespace: trading}
spec:
  accountSelector: {}
  rules:
  - name: aml
    category: MoneyLaundering
    severity: High
    keywords:
      termsFrom: {name: aml-terms, key: zh}
      terms: [money laundering]
      exceptions: [反洗钱, anti-money laundering]
  - name: guarantees
    category: Custom
    severity: Medium
    keywords:
      terms: [保本, 稳赚, guaranteed return]
  - name: cantonese-only
    category: OffChannel
    severity: Low
    keywords:
      terms: [私人微信]
      languages: [yue]
  - name: insider-near-stock
    category: InsiderTrading
    severity: High
    keywords:
      terms: [内幕消息]
      proximity: {terms: [股票, 买入, buy], within: 10}
  - name: ids
    category: PersonalData
    severity: High
    detectors: {names: [ChinaResidentID, ChinaMobile], minConfidence: 70}
  - name: order-numbers
    category: Custom
    severity: Low
    regex: 'ORD-[0-9]{6}'
  - name: external-pii
    category: DataLeakage
    severity: Critical
    expression: 'record.sender.affiliation == "external" && findings.exists(f, f.category == "PersonalData")'
---
apiVersion: compliance.vigil.dev/v1alpha1
kind: CompliancePolicy
metadata: {name: tuning, namespace: trading}
spec:
  accountSelector: {}
  mode: Audit
  rules:
  - name: rebates
    category: Bribery
    severity: Low
    keywords:
      terms: [回扣]
`

func testEngine(t testing.TB) *Engine {
	t.Helper()
	ps, cms, err := ParseDocuments([]byte(testPolicies))
	if err != nil {
		t.Fatal(err)
	}
	cmByName := map[string]*corev1.ConfigMap{}
	for _, cm := range cms {
		cmByName[cm.Namespace+"/"+cm.Name] = cm
	}
	b, err := BundleOf(ps, cmByName)
	if err != nil {
		t.Fatal(err)
	}
	e, errs := Compile(b, Options{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return e
}

// brief renders findings as rule@evidence-or-span for compact assertions.
func brief(text string, fs []capture.Finding) []string {
	var out []string
	for _, f := range fs {
		s := f.Rule
		if f.End > f.Start {
			s += "@" + text[f.Start:f.End]
		}
		out = append(out, s)
	}
	return out
}

func TestEvaluate(t *testing.T) {
	e := testEngine(t)
	for _, tc := range []struct {
		text     string
		external bool
		want     []string
	}{
		{"他们在做洗钱", false, []string{"aml@洗钱"}},
		{"他們在做洗錢", false, []string{"aml@洗錢"}},
		{"洗\u200b钱", false, []string{"aml@洗\u200b钱"}},
		{"明天有反洗钱培训", false, nil},
		{"anti-money laundering training", false, nil},
		{"this is money laundering", false, []string{"aml@money laundering"}},
		{"这个产品保本，稳赚", false, []string{"guarantees@保本", "guarantees@稳赚"}},
		{"加我私人微信", false, nil},
		{"佢話加我私人微信", false, []string{"cantonese-only@私人微信"}},
		{"我有内幕消息", false, nil},
		{"我有内幕消息，明天买入这只股票", false, []string{"insider-near-stock@内幕消息"}},
		{"订单 ORD-123456 已发货", false, []string{"order-numbers@ORD-123456"}},
		{"订单 ＯＲＤ-１２３４５６", false, []string{"order-numbers@ＯＲＤ-１２３４５６"}},
		{"身份证号 11010519491231002X", false, []string{"ids@11010519491231002X"}},
		{"身份证号 11010519491231002X", true, []string{"external-pii", "ids@11010519491231002X"}},
		{"给他回扣", false, []string{"rebates@回扣"}},
		{"午饭吃什么", true, nil},
	} {
		rec := &capture.Record{ID: "r1", Text: tc.text, Sender: capture.Participant{ID: "u1", Affiliation: capture.AffiliationInternal}}
		if tc.external {
			rec.Sender.Affiliation = capture.AffiliationExternal
		}
		got := brief(tc.text, e.Evaluate(context.Background(), rec))
		if !slices.Equal(got, tc.want) {
			t.Errorf("Evaluate(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestFindingDetails(t *testing.T) {
	e := testEngine(t)
	fs := e.Evaluate(context.Background(), &capture.Record{Text: "给他回扣 and 身份证号 11010519491231002X 洗 钱"})
	byRule := map[string]capture.Finding{}
	for _, f := range fs {
		byRule[f.Rule] = f
	}
	if f := byRule["rebates"]; !f.Audit || f.Policy != "trading/tuning" || f.Category != "Bribery" {
		t.Errorf("audit-mode finding: %+v", f)
	}
	id := byRule["ids"]
	if id.Detector != "ChinaResidentID" || id.Confidence < 75 || strings.Contains(id.Evidence, "19491231") {
		t.Errorf("detector finding: %+v", id)
	}
	aml := byRule["aml"]
	if !slices.Contains(aml.Evasion, evasionSpacing) || aml.Confidence != confidenceKeyword {
		t.Errorf("spaced term: %+v", aml)
	}
}

func TestNegationHalvesConfidence(t *testing.T) {
	e := testEngine(t)
	fs := e.Evaluate(context.Background(), &capture.Record{Text: "这个产品不保本"})
	if len(fs) != 1 || fs[0].Confidence != confidenceKeyword/2 {
		t.Fatalf("findings %+v", fs)
	}
}

func TestCompileReportsEveryBadRule(t *testing.T) {
	ps, _, err := ParseDocuments([]byte(`
apiVersion: compliance.vigil.dev/v1alpha1
kind: CompliancePolicy
metadata: {name: bad}
spec:
  accountSelector: {}
  rules:
  - {name: short, category: Custom, severity: Low, keywords: {terms: [钱]}}
  - {name: re, category: Custom, severity: Low, regex: "a("}
  - {name: expr, category: Custom, severity: Low, expression: "'a' + 'b'"}
  - {name: dom, category: Phishing, severity: Low, links: {blockDomains: ["not a domain"]}}
  - {name: ok, category: Custom, severity: Low, keywords: {terms: [洗钱]}}
`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := BundleOf(ps, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, errs := Compile(b, Options{})
	var names []string
	for _, re := range errs {
		names = append(names, re.Rule)
	}
	if !slices.Equal(names, []string{"short", "re", "expr", "dom"}) {
		t.Fatalf("errors for %v: %v", names, errs)
	}
	if got := brief("洗钱", e.Evaluate(context.Background(), &capture.Record{Text: "洗钱"})); !slices.Equal(got, []string{"ok@洗钱"}) {
		t.Fatalf("the good rule must still run: %v", got)
	}
}

func TestParseDocumentsRefusesUnknownFields(t *testing.T) {
	_, _, err := ParseDocuments([]byte("apiVersion: compliance.vigil.dev/v1alpha1\nkind: CompliancePolicy\nmetadata: {name: x}\nspec: {accountSelector: {}, rules: [], rulez: []}\n"))
	if err == nil || !strings.Contains(err.Error(), "rulez") {
		t.Fatalf("err = %v", err)
	}
}

func TestHolderSwapsAtomically(t *testing.T) {
	e1 := testEngine(t)
	h := NewHolder(e1)
	ps, _, _ := ParseDocuments([]byte("apiVersion: compliance.vigil.dev/v1alpha1\nkind: CompliancePolicy\nmetadata: {name: p2}\nspec: {accountSelector: {}, rules: [{name: r, category: Custom, severity: Low, keywords: {terms: [午饭]}}]}\n"))
	b, _ := BundleOf(ps, nil)
	e2, _ := Compile(b, Options{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 1000 {
			if got := h.Load().Evaluate(context.Background(), &capture.Record{Text: "午饭"}); len(got) > 1 {
				panic(fmt.Sprint(got))
			}
		}
	}()
	h.Store(e2)
	<-done
	if got := h.Load().Evaluate(context.Background(), &capture.Record{Text: "午饭"}); len(got) != 1 {
		t.Fatalf("after the swap: %v", got)
	}
}

func FuzzEvaluate(f *testing.F) {
	e := testEngine(f)
	for _, s := range []string{"洗 钱", "身份证号 11010519491231002X", "ＯＲＤ-１２３４５６", "\xff\xfe", "不保本", "內幕消息 buy"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, fd := range e.Evaluate(context.Background(), &capture.Record{Text: text}) {
			if fd.Start < 0 || fd.End > len(text) || fd.Start > fd.End {
				t.Fatalf("finding %+v outside %d bytes", fd, len(text))
			}
			if fd.Confidence < 0 || fd.Confidence > 100 {
				t.Fatalf("confidence %d", fd.Confidence)
			}
		}
	})
}

func FuzzParseDocuments(f *testing.F) {
	f.Add([]byte(testPolicies))
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\n---\n---\n"))
	f.Add([]byte("{\"apiVersion\":\"compliance.vigil.dev/v1alpha1\",\"kind\":\"CompliancePolicy\"}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, cms, err := ParseDocuments(b)
		if err != nil {
			return
		}
		byName := map[string]*corev1.ConfigMap{}
		for _, cm := range cms {
			byName[cm.Namespace+"/"+cm.Name] = cm
		}
		bundle, err := BundleOf(ps, byName)
		if err != nil {
			return
		}
		e, _ := Compile(bundle, Options{})
		e.Evaluate(context.Background(), &capture.Record{Text: "洗钱 11010519491231002X"})
	})
}

func TestRegexKeepsItsLiteralPrefilter(t *testing.T) {
	e := testEngine(t)
	for _, r := range e.byKind[kindRegex] {
		if rule := &e.rules[r]; rule.name == "order-numbers" && rule.regexPrefix != "ord-" {
			t.Fatalf("prefix = %q, want the folded literal %q", rule.regexPrefix, "ord-")
		}
	}
	// The prefilter must not cost matches written in other cases or widths.
	for _, text := range []string{"ord-123456", "ＯＲＤ－１２３４５６", "Ord-123456"} {
		if got := e.Evaluate(context.Background(), &capture.Record{Text: text}); len(got) != 1 {
			t.Errorf("%q: %v", text, got)
		}
	}
}

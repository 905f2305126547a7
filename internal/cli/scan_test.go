package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const scanPolicy = `apiVersion: compliance.vigil.dev/v1alpha1
kind: CompliancePolicy
metadata: {name: conduct, namespace: trading}
spec:
  accountSelector: {}
  rules:
  - {name: aml, category: MoneyLaundering, severity: High, keywords: {terms: [洗钱], exceptions: [反洗钱]}}
  - {name: ids, category: PersonalData, severity: High, detectors: {names: [ChinaResidentID]}}
`

func runScan(t *testing.T, input string, args ...string) (string, string, error) {
	t.Helper()
	dir := t.TempDir()
	policyPath := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyPath, []byte(scanPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := newScanCommand()
	var stdout, stderr bytes.Buffer
	cmd.SetIn(strings.NewReader(input))
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs(append([]string{"--policy", policyPath}, args...))
	err := cmd.Execute()
	return stdout.String(), stderr.String(), err
}

func TestScanWritesOneResultPerRecord(t *testing.T) {
	in := `{"id":"m1","text":"他在做洗錢"}
{"id":"m2","text":"反洗钱培训"}
{"id":"m3","text":"身份证 11010519491231002X"}
`
	out, _, err := runScan(t, in, "-")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	type result struct {
		ID       string `json:"id"`
		Findings []struct {
			Rule, Evidence string
			Start, End     int
		} `json:"findings"`
	}
	var rs []result
	for _, l := range lines {
		var r result
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	if len(rs[0].Findings) != 1 || rs[0].Findings[0].Rule != "aml" || rs[0].Findings[0].Start != len("他在做") {
		t.Errorf("m1: %+v", rs[0])
	}
	if len(rs[1].Findings) != 0 {
		t.Errorf("m2 (exception): %+v", rs[1])
	}
	if len(rs[2].Findings) != 1 || strings.Contains(rs[2].Findings[0].Evidence, "19491231") {
		t.Errorf("m3: %+v", rs[2])
	}
}

func TestScanReportsBadLinesAndFails(t *testing.T) {
	out, _, err := runScan(t, "{\"id\":\"ok\",\"text\":\"hi\"}\nnot json\n", "-")
	if err == nil || !strings.Contains(err.Error(), "1 input lines") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(out, `{"line":2,"error":`) || !strings.Contains(out, `{"id":"ok","findings":[]}`) {
		t.Fatalf("output:\n%s", out)
	}
}

func TestScanRefusesPolicyWithBadRule(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.yaml")
	os.WriteFile(p, []byte(strings.Replace(scanPolicy, "terms: [洗钱]", "terms: [钱]", 1)), 0o600)
	cmd := newScanCommand()
	var stderr bytes.Buffer
	cmd.SetErr(&stderr)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetIn(strings.NewReader(""))
	cmd.SetArgs([]string{"--policy", p})
	if err := cmd.Execute(); err == nil || !strings.Contains(stderr.String(), "rule aml") {
		t.Fatalf("err = %v, stderr %q", err, stderr.String())
	}
}

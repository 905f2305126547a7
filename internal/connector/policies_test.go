package connector

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	"github.com/vigil-operator/vigil/internal/capture"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
)

func writeBundle(t *testing.T, dir string, terms ...string) {
	t.Helper()
	b := &cc.Bundle{Policies: []cc.Policy{{
		Name: "team-a/conduct", Mode: v1alpha1.PolicyEnforce,
		Rules: []v1alpha1.PolicyRule{{Name: "words", Category: "Custom", Severity: "High", Keywords: &v1alpha1.KeywordsMatcher{Terms: terms}}},
	}}}
	raw, err := b.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// Written aside and renamed, as the kubelet swaps ConfigMap files.
	tmp := filepath.Join(dir, ".policies.tmp")
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, cc.PoliciesKey)); err != nil {
		t.Fatal(err)
	}
}

func evaluateText(r *PolicyRunner, text string) []capture.Finding {
	envs := []capture.Envelope{{Record: &capture.Record{Text: text}}}
	r.Evaluate(context.Background(), envs)
	return envs[0].Findings
}

func TestPolicyRunnerSwapsBundlesWithoutRestart(t *testing.T) {
	dir := t.TempDir()
	writeBundle(t, dir, "内幕消息")
	reg := prometheus.NewRegistry()
	r, err := NewPolicyRunner(dir, 10*time.Millisecond, reg, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	if got := evaluateText(r, "有內幕消息"); len(got) != 1 || got[0].Rule != "words" {
		t.Fatalf("first bundle: %+v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx)

	writeBundle(t, dir, "稳赚")
	deadline := time.Now().Add(5 * time.Second)
	for len(evaluateText(r, "稳赚不赔")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the new bundle was not picked up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := evaluateText(r, "有内幕消息"); len(got) != 0 {
		t.Fatalf("the old bundle still runs: %+v", got)
	}

	// A broken bundle is refused and counted; the last good one keeps running.
	if err := os.WriteFile(filepath.Join(dir, cc.PoliciesKey), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for testutil.ToFloat64(r.metrics.reloads.WithLabelValues("error")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the broken bundle was not noticed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := evaluateText(r, "稳赚不赔"); len(got) != 1 {
		t.Fatalf("after a broken bundle: %+v", got)
	}
	if got := testutil.ToFloat64(r.metrics.findings.WithLabelValues("Custom", "High")); got < 3 {
		t.Fatalf("findings_total = %v", got)
	}
}

func TestPolicyRunnerKeepsExistingFindings(t *testing.T) {
	dir := t.TempDir()
	writeBundle(t, dir, "内幕消息")
	r, err := NewPolicyRunner(dir, time.Hour, prometheus.NewRegistry(), logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	kept := []capture.Finding{{Rule: "earlier"}}
	envs := []capture.Envelope{{Record: &capture.Record{Text: "内幕消息"}, Findings: kept}}
	r.Evaluate(context.Background(), envs)
	if len(envs[0].Findings) != 1 || envs[0].Findings[0].Rule != "earlier" {
		t.Fatalf("findings replaced: %+v", envs[0].Findings)
	}
}

package connector

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-operator/vigil/internal/capture"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
	"github.com/vigil-operator/vigil/internal/policy"
)

// policyMetrics are the policy engine's series: what it found (by category
// and severity, never by content), how long it took, and which bundle runs.
type policyMetrics struct {
	findings *prometheus.CounterVec
	evalTime prometheus.Histogram
	reloads  *prometheus.CounterVec
	bundle   *prometheus.GaugeVec
}

func newPolicyMetrics(reg prometheus.Registerer) (*policyMetrics, error) {
	m := &policyMetrics{
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_connector_findings_total",
			Help: "Policy findings on captured records, by category and severity.",
		}, []string{"category", "severity"}),
		evalTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigil_connector_policy_evaluation_seconds",
			Help:    "Time to evaluate one record against the account's policy bundle.",
			Buckets: prometheus.ExponentialBuckets(5e-6, 4, 9),
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigil_connector_policy_reloads_total",
			Help: "Policy bundle loads, by result (ok, rule_errors, error).",
		}, []string{"result"}),
		bundle: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigil_connector_policy_bundle_info",
			Help: "1 for the policy bundle the connector evaluates, labelled with its digest.",
		}, []string{"digest"}),
	}
	if err := registerAll(reg, "policy", m.findings, m.evalTime, m.reloads, m.bundle); err != nil {
		return nil, err
	}
	return m, nil
}

// PolicyRunner keeps the account's compiled policy bundle current and
// evaluates records with it. The controller rewrites policies.json in the
// connector's ConfigMap; the kubelet swaps the mounted file; the runner
// notices within its poll interval, compiles the new bundle off the hot
// path and swaps it in, so a policy change needs no restart.
type PolicyRunner struct {
	dir      string
	interval time.Duration
	holder   *policy.Holder
	metrics  *policyMetrics
	log      logr.Logger
	loaded   []byte
}

// NewPolicyRunner loads the bundle in dir once; a bundle that cannot be read
// is an error, since running without policies would miss findings silently.
func NewPolicyRunner(dir string, interval time.Duration, reg prometheus.Registerer, log logr.Logger) (*PolicyRunner, error) {
	m, err := newPolicyMetrics(reg)
	if err != nil {
		return nil, err
	}
	if interval <= 0 {
		interval = 5 * time.Second
	}
	r := &PolicyRunner{dir: dir, interval: interval, holder: policy.NewHolder(nil), metrics: m, log: log}
	if err := r.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Run polls for bundle changes until ctx ends. A bad new bundle is logged
// and counted, and the previous one keeps running.
func (r *PolicyRunner) Run(ctx context.Context) {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.reload(); err != nil {
				r.log.Error(err, "Keeping the previous policy bundle")
			}
		}
	}
}

// reload compiles policies.json when its bytes changed.
func (r *PolicyRunner) reload() error {
	raw, err := os.ReadFile(filepath.Join(r.dir, cc.PoliciesKey))
	if os.IsNotExist(err) {
		raw, err = []byte(`{"policies":[]}`), nil
	}
	if err != nil {
		r.metrics.reloads.WithLabelValues("error").Inc()
		return fmt.Errorf("while reading the policy bundle: %w", err)
	}
	if r.holder.Load() != nil && bytes.Equal(raw, r.loaded) {
		return nil
	}
	bundle, err := cc.ParseBundle(raw)
	if err != nil {
		r.metrics.reloads.WithLabelValues("error").Inc()
		return err
	}
	engine, ruleErrs := policy.Compile(bundle, policy.Options{})
	result := "ok"
	for _, e := range ruleErrs {
		result = "rule_errors"
		r.log.Error(e, "Policy rule left out", "policy", e.Policy, "rule", e.Rule)
	}
	if old := r.holder.Load(); old != nil {
		r.metrics.bundle.DeleteLabelValues(old.Digest())
	}
	r.holder.Store(engine)
	r.loaded = raw
	r.metrics.reloads.WithLabelValues(result).Inc()
	r.metrics.bundle.WithLabelValues(engine.Digest()).Set(1)
	st := engine.Stats()
	r.log.Info("Policy bundle loaded", "digest", engine.Digest(), "policies", st.Policies, "rules", st.Rules,
		"terms", st.Terms, "compileTime", st.CompileTime.String())
	return nil
}

// Evaluate fills in the findings of envelopes that have none yet. Records
// re-sent after a crash are evaluated again; the archive keeps the first
// copy it stored.
func (r *PolicyRunner) Evaluate(ctx context.Context, envs []capture.Envelope) {
	engine := r.holder.Load()
	if engine == nil {
		return
	}
	for i := range envs {
		if envs[i].Record == nil || envs[i].Findings != nil {
			continue
		}
		began := time.Now()
		envs[i].Findings = engine.Evaluate(ctx, envs[i].Record)
		r.metrics.evalTime.Observe(time.Since(began).Seconds())
		for _, f := range envs[i].Findings {
			r.metrics.findings.WithLabelValues(f.Category, f.Severity).Inc()
		}
	}
}

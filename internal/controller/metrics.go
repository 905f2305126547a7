package controller

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
)

// Collector exports the state of Vigil's objects as Prometheus metrics. Like
// cert-manager's collectors it reads the informer cache at scrape time, so a
// deleted object leaves no stale series behind.
type Collector struct {
	reader client.Reader

	accountReady    *prometheus.Desc
	accountMessages *prometheus.Desc
	accountFindings *prometheus.Desc
	accountLastMsg  *prometheus.Desc
	ruleLastPurge   *prometheus.Desc
	ruleLastPurged  *prometheus.Desc
	ruleLastHeld    *prometheus.Desc
	ruleNextRun     *prometheus.Desc
	holdRecords     *prometheus.Desc
	policyValid     *prometheus.Desc
}

// NewCollector returns a collector reading from a cached client.
func NewCollector(reader client.Reader) *Collector {
	nn := []string{"namespace", "name"}
	return &Collector{
		reader: reader,
		accountReady: prometheus.NewDesc("vigil_monitoredaccount_ready_status",
			"Whether the MonitoredAccount's Ready condition has the given status.", append(nn, "channel", "status"), nil),
		accountMessages: prometheus.NewDesc("vigil_monitoredaccount_messages_captured",
			"Records archived for the account, as last read from the archive.", nn, nil),
		accountFindings: prometheus.NewDesc("vigil_monitoredaccount_findings_open",
			"Open findings on the account's records.", nn, nil),
		accountLastMsg: prometheus.NewDesc("vigil_monitoredaccount_last_message_timestamp_seconds",
			"Send time of the account's newest archived record.", nn, nil),
		ruleLastPurge: prometheus.NewDesc("vigil_retentionrule_last_purge_timestamp_seconds",
			"When the rule last ran a purge.", nn, nil),
		ruleLastPurged: prometheus.NewDesc("vigil_retentionrule_last_purged_records",
			"Records the rule's last purge deleted.", nn, nil),
		ruleLastHeld: prometheus.NewDesc("vigil_retentionrule_last_held_back_records",
			"Records the rule's last purge left in place because of legal holds.", nn, nil),
		ruleNextRun: prometheus.NewDesc("vigil_retentionrule_next_run_timestamp_seconds",
			"When the rule's next purge is due.", nn, nil),
		holdRecords: prometheus.NewDesc("vigil_legalhold_records_held",
			"Records the legal hold freezes.", nn, nil),
		policyValid: prometheus.NewDesc("vigil_compliancepolicy_valid",
			"1 when every rule of the policy compiled.", nn, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.accountReady, c.accountMessages, c.accountFindings, c.accountLastMsg,
		c.ruleLastPurge, c.ruleLastPurged, c.ruleLastHeld, c.ruleNextRun, c.holdRecords, c.policyValid} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}

	var accounts v1alpha1.MonitoredAccountList
	if c.reader.List(ctx, &accounts) == nil {
		for i := range accounts.Items {
			a := &accounts.Items[i]
			ready := "Unknown"
			if cond := meta.FindStatusCondition(a.Status.Conditions, v1alpha1.ConditionReady); cond != nil {
				ready = string(cond.Status)
			}
			for _, s := range []string{"True", "False", "Unknown"} {
				gauge(c.accountReady, boolFloat(s == ready), a.Namespace, a.Name, string(a.Spec.Channel), s)
			}
			gauge(c.accountMessages, float64(a.Status.Capture.MessagesCaptured), a.Namespace, a.Name)
			gauge(c.accountFindings, float64(a.Status.Findings.Open), a.Namespace, a.Name)
			if t := a.Status.Capture.LastMessageTime; t != nil {
				gauge(c.accountLastMsg, float64(t.Unix()), a.Namespace, a.Name)
			}
		}
	}
	var rules v1alpha1.RetentionRuleList
	if c.reader.List(ctx, &rules) == nil {
		for i := range rules.Items {
			r := &rules.Items[i]
			if r.Status.LastRun != nil {
				gauge(c.ruleLastPurge, float64(r.Status.LastRun.Unix()), r.Namespace, r.Name)
			}
			if res := r.Status.LastResult; res != nil {
				gauge(c.ruleLastPurged, float64(res.Purged), r.Namespace, r.Name)
				gauge(c.ruleLastHeld, float64(res.HeldBack), r.Namespace, r.Name)
			}
			if r.Status.NextRun != nil {
				gauge(c.ruleNextRun, float64(r.Status.NextRun.Unix()), r.Namespace, r.Name)
			}
		}
	}
	var holds v1alpha1.LegalHoldList
	if c.reader.List(ctx, &holds) == nil {
		for i := range holds.Items {
			gauge(c.holdRecords, float64(holds.Items[i].Status.RecordsHeld), holds.Items[i].Namespace, holds.Items[i].Name)
		}
	}
	var policies v1alpha1.CompliancePolicyList
	if c.reader.List(ctx, &policies) == nil {
		for i := range policies.Items {
			p := &policies.Items[i]
			gauge(c.policyValid, boolFloat(meta.IsStatusConditionTrue(p.Status.Conditions, v1alpha1.ConditionValid)), p.Namespace, p.Name)
		}
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

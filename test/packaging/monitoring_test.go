package packaging

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestHelmMonitoring renders the PodMonitor and PrometheusRule a Prometheus
// Operator user turns on, and checks the alerts that guard capture.
func TestHelmMonitoring(t *testing.T) {
	objs := helmTemplate(t, "vigil", "vigil-system", "monitoring: {enabled: true, labels: {release: kube-prometheus-stack}, wecomWindowDays: 2}")
	var monitor, rule *unstructured.Unstructured
	for _, o := range objs {
		switch o.GetKind() {
		case "PodMonitor":
			monitor = o
		case "PrometheusRule":
			rule = o
		}
	}
	if monitor == nil || rule == nil {
		t.Fatal("monitoring.enabled renders a PodMonitor and a PrometheusRule")
	}
	for _, o := range []*unstructured.Unstructured{monitor, rule} {
		if o.GetLabels()["release"] != "kube-prometheus-stack" || o.GetNamespace() != "vigil-system" {
			t.Errorf("%s: labels %v, namespace %s", o.GetKind(), o.GetLabels(), o.GetNamespace())
		}
	}
	sel, _, _ := unstructured.NestedStringMap(monitor.Object, "spec", "selector", "matchLabels")
	if sel["app.kubernetes.io/name"] != "vigil-connector" {
		t.Errorf("the PodMonitor selects %v, not the connectors' label", sel)
	}
	groups, _, _ := unstructured.NestedSlice(rule.Object, "spec", "groups")
	alerts := map[string]map[string]any{}
	for _, g := range groups {
		rules, _, _ := unstructured.NestedSlice(g.(map[string]any), "rules")
		for _, r := range rules {
			m := r.(map[string]any)
			alerts[m["alert"].(string)] = m
		}
	}
	window := alerts["VigilWeComArchiveWindowClosing"]
	if window == nil || !strings.HasSuffix(strings.TrimSpace(window["expr"].(string)), "< 172800") {
		t.Fatalf("the window alert must fire with 2 days (172800 s) left: %v", window)
	}
	desc, _, _ := unstructured.NestedString(window, "annotations", "description")
	if !strings.Contains(desc, "{{ $labels.namespace }}") {
		t.Errorf("Prometheus templating must survive Helm's: %q", desc)
	}
	for _, name := range []string{"VigilWeComArchivePullFailing", "VigilConnectorRefusingSignatures", "VigilConnectorSpoolFull"} {
		if alerts[name] == nil {
			t.Errorf("alert %s missing", name)
		}
	}
	if _, err := helmTemplateErr(t, "vigil", "vigil-system", "monitoring: {wecomWindowDays: 6}"); err == nil {
		t.Error("a window alert past WeCom's 5 days can never fire in time and must be refused")
	}
}

package controller

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
)

func retentionRule(name, retain string, reg v1alpha1.Regulation, match map[string]string) v1alpha1.RetentionRule {
	return v1alpha1.RetentionRule{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.RetentionRuleSpec{
			AccountSelector: metav1.LabelSelector{MatchLabels: match},
			Retain:          retain, Regulation: reg,
		},
	}
}

func TestLongestRule(t *testing.T) {
	desk := map[string]string{"desk": "equities"}
	rules := []v1alpha1.RetentionRule{
		retentionRule("finra", "P6Y", v1alpha1.RegulationFINRA, nil),
		retentionRule("ciro", "P7Y", v1alpha1.RegulationCIRO, desk),
		retentionRule("ciro-months", "P84M", v1alpha1.RegulationCIRO, desk),
		retentionRule("other-desk", "P10Y", v1alpha1.RegulationCustom, map[string]string{"desk": "fx"}),
	}
	tests := map[string]struct {
		labels map[string]string
		want   string
	}{
		"longest selecting rule wins":       {labels: desk, want: "ciro"},
		"only the catch-all selects":        {labels: map[string]string{"desk": "rates"}, want: "finra"},
		"unselected longer rule is ignored": {labels: map[string]string{}, want: "finra"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := longestRule(rules, tc.labels)
			if got == nil || got.Name != tc.want {
				t.Fatalf("longestRule = %v, want %s", got, tc.want)
			}
		})
	}
	if got := longestRule(rules[1:2], map[string]string{}); got != nil {
		t.Fatalf("no selecting rule must mean no retention, got %s", got.Name)
	}
}

package connectorconfig

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
)

func termsRule(name, cm, key string) v1alpha1.PolicyRule {
	return v1alpha1.PolicyRule{Name: name, Category: "Custom", Severity: "Low",
		Keywords: &v1alpha1.KeywordsMatcher{TermsFrom: &v1alpha1.ConfigMapKeyReference{Name: cm, Key: key}}}
}

func TestResolveTerms(t *testing.T) {
	maps := map[string]*corev1.ConfigMap{
		"lexicon": {Data: map[string]string{"zh": "# comment\n洗钱\n\n  地下钱庄  \n", "huge": strings.Repeat("x\n", MaxTermsPerList+1)}},
	}
	get := func(name string) (*corev1.ConfigMap, bool, error) { cm, ok := maps[name]; return cm, ok, nil }
	p := &v1alpha1.CompliancePolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"},
		Spec: v1alpha1.CompliancePolicySpec{Rules: []v1alpha1.PolicyRule{
			termsRule("ok", "lexicon", "zh"), termsRule("no-map", "absent", "zh"),
			termsRule("no-key", "lexicon", "en"), termsRule("too-many", "lexicon", "huge"),
		}},
	}
	terms, errs, err := ResolveTerms(p, get)
	if err != nil {
		t.Fatal(err)
	}
	if got := terms["ok"]; len(got) != 2 || got[0] != "洗钱" || got[1] != "地下钱庄" {
		t.Fatalf("terms = %q", got)
	}
	var named []string
	for _, e := range errs {
		named = append(named, e.Rule)
	}
	if strings.Join(named, ",") != "no-map,no-key,too-many" {
		t.Fatalf("errors = %+v", errs)
	}
	entry := PolicyOf(p, terms)
	if entry.Name != "ns/p" || entry.Mode != v1alpha1.PolicyEnforce {
		t.Fatalf("entry = %+v", entry)
	}

	boom := errors.New("api server down")
	if _, _, err := ResolveTerms(p, func(string) (*corev1.ConfigMap, bool, error) { return nil, false, boom }); !errors.Is(err, boom) {
		t.Fatalf("lookup failure: %v", err)
	}
}

package controller

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
	"github.com/vigil-operator/vigil/internal/naming"
)

func TestPolicyChangeReachesEveryAffectedAccount(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, nil)
	equities := map[string]string{"desk": "equities"}
	for _, name := range []string{"a1", "a2"} {
		create(t, webhookSecret(ns, name))
		create(t, webhookAccount(ns, name, equities))
	}
	create(t, webhookSecret(ns, "fx1"))
	create(t, webhookAccount(ns, "fx1", map[string]string{"desk": "fx"}))

	policy := keywordPolicy(ns, "insider", equities, "内幕消息")
	create(t, policy)
	pconds := func() []metav1.Condition { return policy.Status.Conditions }
	waitCondition(t, policy, pconds, v1alpha1.ConditionValid, metav1.ConditionTrue, v1alpha1.ReasonRulesCompiled)
	if policy.Status.SelectedAccounts != 2 {
		t.Fatalf("selectedAccounts = %d, want 2", policy.Status.SelectedAccounts)
	}
	firstDigest := policy.Status.BundleDigest

	bundleOf := func(name string) string {
		cm := &corev1.ConfigMap{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: naming.ConnectorName(name)}, cm); err != nil {
			return ""
		}
		return cm.Data[cc.PoliciesKey]
	}
	eventually(t, 20*time.Second, "both equities connectors to run the policy", func() (bool, error) {
		return strings.Contains(bundleOf("a1"), "内幕消息") && strings.Contains(bundleOf("a2"), "内幕消息"), nil
	})
	if strings.Contains(bundleOf("fx1"), "内幕消息") {
		t.Fatal("an unselected account got the policy")
	}

	// Edit the policy: every selected connector's bundle changes.
	update(t, policy, func() { policy.Spec.Rules[0].Keywords.Terms = []string{"内幕消息", "保证收益"} })
	eventually(t, 20*time.Second, "the edited policy to reach both connectors", func() (bool, error) {
		return strings.Contains(bundleOf("a1"), "保证收益") && strings.Contains(bundleOf("a2"), "保证收益"), nil
	})
	_ = k8s.Get(ctx, client.ObjectKeyFromObject(policy), policy)
	if policy.Status.BundleDigest == firstDigest {
		t.Fatal("the policy's bundle digest did not change with its rules")
	}

	// Narrow the selector: the account it no longer selects is detached (found
	// through the attachedPolicies index, since the selector no longer names it).
	update(t, policy, func() {
		policy.Spec.AccountSelector = metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "desk", Operator: metav1.LabelSelectorOpIn, Values: []string{"equities"}},
			{Key: "tier", Operator: metav1.LabelSelectorOpDoesNotExist},
		}}
	})
	a2 := getAccount(t, ns, "a2")
	update(t, a2, func() { a2.Labels["tier"] = "vip" })
	eventually(t, 20*time.Second, "a2 to be detached", func() (bool, error) {
		a := getAccount(t, ns, "a2")
		return len(a.Status.AttachedPolicies) == 0 && !strings.Contains(bundleOf("a2"), "保证收益"), nil
	})

	// Delete the policy: a1 is detached too.
	if err := k8s.Delete(ctx, policy); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "a1 to be detached after the policy's deletion", func() (bool, error) {
		a := getAccount(t, ns, "a1")
		return len(a.Status.AttachedPolicies) == 0, nil
	})
}

func TestInvalidPolicyIsReportedByRuleAndNotAttached(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, nil)
	create(t, webhookSecret(ns, "b1"))
	acct := webhookAccount(ns, "b1", nil)
	create(t, acct)
	policy := &v1alpha1.CompliancePolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "broken", Namespace: ns},
		Spec: v1alpha1.CompliancePolicySpec{
			Rules: []v1alpha1.PolicyRule{
				{Name: "good", Category: "Custom", Severity: v1alpha1.SeverityLow, Regex: ptr.To(`\d{11}`)},
				{Name: "bad-regex", Category: "Custom", Severity: v1alpha1.SeverityLow, Regex: ptr.To(`(unclosed`)},
				{Name: "bad-cel", Category: "Custom", Severity: v1alpha1.SeverityLow, Expression: ptr.To(`record.text +`)},
				{Name: "lexicon", Category: "Custom", Severity: v1alpha1.SeverityLow,
					Keywords: &v1alpha1.KeywordsMatcher{TermsFrom: &v1alpha1.ConfigMapKeyReference{Name: "lexicon", Key: "terms"}}},
			},
		},
	}
	create(t, policy)
	pconds := func() []metav1.Condition { return policy.Status.Conditions }
	waitCondition(t, policy, pconds, v1alpha1.ConditionValid, metav1.ConditionFalse, v1alpha1.ReasonInvalidRule)
	named := map[string]string{}
	for _, e := range policy.Status.RuleErrors {
		named[e.Rule] = e.Message
	}
	for _, rule := range []string{"bad-regex", "bad-cel", "lexicon"} {
		if named[rule] == "" {
			t.Fatalf("rule %s is not named among the errors: %+v", rule, policy.Status.RuleErrors)
		}
	}
	if _, ok := named["good"]; ok {
		t.Fatal("a valid rule was reported as invalid")
	}
	eventually(t, 10*time.Second, "a Warning event for the invalid rule", func() (bool, error) {
		return hasEvent(ctx, ns, "broken", v1alpha1.ReasonInvalidRule), nil
	})
	aconds := func() []metav1.Condition { return acct.Status.Conditions }
	waitCondition(t, acct, aconds, v1alpha1.ConditionPoliciesAttached, metav1.ConditionFalse, v1alpha1.ReasonPolicyInvalid)

	// Fix the rules and add the lexicon: the policy becomes valid and attaches.
	create(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "lexicon", Namespace: ns},
		Data: map[string]string{"terms": "# insider lexicon\n内幕\n\nfront running\n"}})
	update(t, policy, func() { policy.Spec.Rules = []v1alpha1.PolicyRule{policy.Spec.Rules[0], policy.Spec.Rules[3]} })
	waitCondition(t, policy, pconds, v1alpha1.ConditionValid, metav1.ConditionTrue, v1alpha1.ReasonRulesCompiled)
	waitCondition(t, acct, aconds, v1alpha1.ConditionPoliciesAttached, metav1.ConditionTrue, v1alpha1.ReasonPoliciesAttached)

	// A lexicon edit alone reaches the connector.
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "lexicon"}}
	update(t, cm, func() { cm.Data["terms"] += "pump and dump\n" })
	eventually(t, 20*time.Second, "the lexicon edit to reach the connector bundle", func() (bool, error) {
		bundle := &corev1.ConfigMap{}
		err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: naming.ConnectorName("b1")}, bundle)
		return err == nil && strings.Contains(bundle.Data[cc.PoliciesKey], "pump and dump"), err
	})
}

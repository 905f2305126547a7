package controller

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
)

// resolveRetention sets the account's effective retention: the longest of every
// RetentionRule that selects it. With no rule, nothing is ever purged.
func (r *MonitoredAccountReconciler) resolveRetention(ctx context.Context, account *v1alpha1.MonitoredAccount) error {
	var rules v1alpha1.RetentionRuleList
	if err := r.List(ctx, &rules, client.InNamespace(account.Namespace)); err != nil {
		return fmt.Errorf("while listing RetentionRules: %w", err)
	}
	winner := longestRule(rules.Items, account.Labels)
	if winner == nil {
		account.Status.EffectiveRetention = nil
		return nil
	}
	account.Status.EffectiveRetention = &v1alpha1.EffectiveRetention{
		Retain:     winner.Spec.Retain,
		Rule:       winner.Name,
		Regulation: winner.Spec.Regulation,
	}
	return nil
}

// longestRule picks, among the rules selecting an account, the one that keeps
// records longest; ties go to the alphabetically first name so every
// controller picks the same rule. Rules with an unparsable period are skipped
// (admission refuses them).
func longestRule(rules []v1alpha1.RetentionRule, accountLabels map[string]string) *v1alpha1.RetentionRule {
	var best *v1alpha1.RetentionRule
	var bestPeriod v1alpha1.Period
	for i := range rules {
		rule := &rules[i]
		if !rule.DeletionTimestamp.IsZero() || !selects(&rule.Spec.AccountSelector, accountLabels) {
			continue
		}
		p, err := v1alpha1.ParsePeriod(rule.Spec.Retain)
		if err != nil {
			continue
		}
		if best == nil || p.Longer(bestPeriod) || (!bestPeriod.Longer(p) && rule.Name < best.Name) {
			best, bestPeriod = rule, p
		}
	}
	return best
}

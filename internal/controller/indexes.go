package controller

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
)

// Field index keys, named after the JSON path they index.
const (
	accountAttachedPolicyIndex    = ".status.attachedPolicies"
	accountCredentialsSecretIndex = ".spec.credentialsSecretRef.name"
	accountRetentionRuleIndex     = ".status.effectiveRetention.rule"
	policyTermsConfigMapIndex     = ".spec.rules.keywords.termsFrom.name"
)

// RegisterIndexes registers every field index the controllers query. Call it
// once per manager, before the controllers start.
func RegisterIndexes(ctx context.Context, indexer client.FieldIndexer) error {
	accountIndexes := []struct {
		key string
		fn  client.IndexerFunc
	}{
		{accountAttachedPolicyIndex, func(o client.Object) []string {
			return o.(*v1alpha1.MonitoredAccount).Status.AttachedPolicies
		}},
		{accountCredentialsSecretIndex, func(o client.Object) []string {
			if ref := o.(*v1alpha1.MonitoredAccount).Spec.CredentialsSecretRef; ref != nil {
				return []string{ref.Name}
			}
			return nil
		}},
		{accountRetentionRuleIndex, func(o client.Object) []string {
			if er := o.(*v1alpha1.MonitoredAccount).Status.EffectiveRetention; er != nil {
				return []string{er.Rule}
			}
			return nil
		}},
	}
	for _, ix := range accountIndexes {
		if err := indexer.IndexField(ctx, &v1alpha1.MonitoredAccount{}, ix.key, ix.fn); err != nil {
			return fmt.Errorf("while indexing MonitoredAccount %s: %w", ix.key, err)
		}
	}
	err := indexer.IndexField(ctx, &v1alpha1.CompliancePolicy{}, policyTermsConfigMapIndex, func(o client.Object) []string {
		var names []string
		for _, rule := range o.(*v1alpha1.CompliancePolicy).Spec.Rules {
			if rule.Keywords != nil && rule.Keywords.TermsFrom != nil {
				names = append(names, rule.Keywords.TermsFrom.Name)
			}
		}
		return names
	})
	if err != nil {
		return fmt.Errorf("while indexing CompliancePolicy %s: %w", policyTermsConfigMapIndex, err)
	}
	return nil
}

package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
	policyengine "github.com/vigil-operator/vigil/internal/policy"
)

// validateRules compiles the policy with the same engine the connectors run,
// so every error a connector would hit is reported here first, by rule name:
// regexes that do not compile, expressions that are not booleans or cost too
// much, terms too short to match, domains that are not domains, missing
// termsFrom ConfigMaps. It returns the terms read from ConfigMaps.
func (r *CompliancePolicyReconciler) validateRules(ctx context.Context, policy *v1alpha1.CompliancePolicy) ([]v1alpha1.RuleError, map[string][]string, error) {
	terms, errs, err := readTermsFromChecked(ctx, r.Client, policy)
	if err != nil {
		return nil, nil, err
	}
	reported := map[string]bool{}
	for _, e := range errs {
		reported[e.Rule] = true
	}
	bundle := &cc.Bundle{Policies: []cc.Policy{cc.PolicyOf(policy, terms)}}
	_, compileErrs := policyengine.Compile(bundle, policyengine.Options{})
	for _, ce := range compileErrs {
		if !reported[ce.Rule] {
			errs = append(errs, v1alpha1.RuleError{Rule: ce.Rule, Message: ce.Message})
		}
	}
	return errs, terms, nil
}

// readTermsFrom reads every termsFrom list of a policy; a missing ConfigMap or
// key is an error here, as the policy controller has already reported it.
func readTermsFrom(ctx context.Context, c client.Client, policy *v1alpha1.CompliancePolicy) (map[string][]string, error) {
	terms, errs, err := readTermsFromChecked(ctx, c, policy)
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("policy %s rule %s: %s", policy.Name, errs[0].Rule, errs[0].Message)
	}
	return terms, nil
}

func readTermsFromChecked(ctx context.Context, c client.Client, policy *v1alpha1.CompliancePolicy) (map[string][]string, []v1alpha1.RuleError, error) {
	return cc.ResolveTerms(policy, func(name string) (*corev1.ConfigMap, bool, error) {
		cm := &corev1.ConfigMap{}
		err := c.Get(ctx, client.ObjectKey{Namespace: policy.Namespace, Name: name}, cm)
		if apierrors.IsNotFound(err) {
			return nil, false, nil
		}
		return cm, err == nil, err
	})
}

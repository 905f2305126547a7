package controller

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
)

// attachPolicies finds the CompliancePolicies that select the account and
// builds the bundle its connector runs. Only policies the policy controller has
// validated at their current generation are attached: a connector never runs
// a rule that did not compile.
func (r *MonitoredAccountReconciler) attachPolicies(ctx context.Context, account *v1alpha1.MonitoredAccount) ([]byte, error) {
	var policies v1alpha1.CompliancePolicyList
	if err := r.List(ctx, &policies, client.InNamespace(account.Namespace)); err != nil {
		return nil, fmt.Errorf("while listing CompliancePolicies: %w", err)
	}
	bundle := cc.Bundle{Policies: []cc.Policy{}}
	var attached, pending, invalid []string
	for i := range policies.Items {
		p := &policies.Items[i]
		if !selects(&p.Spec.AccountSelector, account.Labels) {
			continue
		}
		valid := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionValid)
		switch {
		case valid == nil || valid.ObservedGeneration != p.Generation || p.Status.BundleDigest == "":
			pending = append(pending, p.Name)
			continue
		case valid.Status != metav1.ConditionTrue:
			invalid = append(invalid, p.Name)
			continue
		}
		entry, err := r.bundleEntry(ctx, p)
		if err != nil {
			return nil, err
		}
		bundle.Policies = append(bundle.Policies, entry)
		attached = append(attached, p.Name)
	}
	sort.Strings(attached)
	account.Status.AttachedPolicies = attached

	data, err := bundle.Marshal()
	if err != nil {
		return nil, fmt.Errorf("while encoding the policy bundle: %w", err)
	}
	account.Status.PolicyBundleDigest = cc.Digest(data)

	set := func(status metav1.ConditionStatus, reason, message string) {
		setCondition(&account.Status.Conditions, account.Generation, v1alpha1.ConditionPoliciesAttached, status, reason, message)
	}
	switch {
	case len(invalid) > 0:
		set(metav1.ConditionFalse, v1alpha1.ReasonPolicyInvalid,
			fmt.Sprintf("CompliancePolicy %s selects the account but is invalid; see its status", strings.Join(invalid, ", ")))
	case len(pending) > 0:
		set(metav1.ConditionFalse, v1alpha1.ReasonPolicyInvalid,
			fmt.Sprintf("CompliancePolicy %s selects the account and has not been validated yet", strings.Join(pending, ", ")))
	case len(attached) == 0:
		set(metav1.ConditionFalse, v1alpha1.ReasonNoPolicies, "no CompliancePolicy selects the account: messages are captured but not supervised")
	default:
		set(metav1.ConditionTrue, v1alpha1.ReasonPoliciesAttached, fmt.Sprintf("%d policies attached", len(attached)))
	}
	return data, nil
}

// bundleEntry is a validated policy with its termsFrom lists read.
func (r *MonitoredAccountReconciler) bundleEntry(ctx context.Context, p *v1alpha1.CompliancePolicy) (cc.Policy, error) {
	terms, err := readTermsFrom(ctx, r.Client, p)
	if err != nil {
		return cc.Policy{}, err
	}
	entry := cc.PolicyOf(p, terms)
	entry.Digest = p.Status.BundleDigest
	return entry, nil
}

// selects reports whether a label selector matches a set of labels; an invalid
// selector matches nothing.
func selects(sel *metav1.LabelSelector, lbls map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	return s.Matches(labels.Set(lbls))
}

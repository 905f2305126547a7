package controller

import (
	"context"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
)

// accountsForPolicy enqueues the accounts a policy selects now and those it was
// attached to (by index), so narrowing or deleting a policy detaches it.
func (r *MonitoredAccountReconciler) accountsForPolicy(ctx context.Context, obj client.Object) []reconcile.Request {
	p := obj.(*v1alpha1.CompliancePolicy)
	return r.selectedOrIndexed(ctx, p.Namespace, &p.Spec.AccountSelector, accountAttachedPolicyIndex, p.Name)
}

// accountsForRetentionRule does the same for retention rules.
func (r *MonitoredAccountReconciler) accountsForRetentionRule(ctx context.Context, obj client.Object) []reconcile.Request {
	rr := obj.(*v1alpha1.RetentionRule)
	return r.selectedOrIndexed(ctx, rr.Namespace, &rr.Spec.AccountSelector, accountRetentionRuleIndex, rr.Name)
}

// accountsForSecret enqueues the accounts whose credentials a Secret holds.
func (r *MonitoredAccountReconciler) accountsForSecret(ctx context.Context, obj client.Object) []reconcile.Request {
	return r.indexed(ctx, obj.GetNamespace(), accountCredentialsSecretIndex, obj.GetName())
}

// accountsForTermsConfigMap enqueues the accounts whose attached policies read
// terms from a ConfigMap, so a lexicon change reaches their connectors.
func (r *MonitoredAccountReconciler) accountsForTermsConfigMap(ctx context.Context, obj client.Object) []reconcile.Request {
	var policies v1alpha1.CompliancePolicyList
	if err := r.List(ctx, &policies, client.InNamespace(obj.GetNamespace()),
		client.MatchingFields{policyTermsConfigMapIndex: obj.GetName()}); err != nil {
		logf.FromContext(ctx).Error(err, "Failed to list CompliancePolicies by terms ConfigMap", "configMap", obj.GetName())
		return nil
	}
	var reqs []reconcile.Request
	for i := range policies.Items {
		reqs = append(reqs, r.indexed(ctx, obj.GetNamespace(), accountAttachedPolicyIndex, policies.Items[i].Name)...)
	}
	return dedupeRequests(reqs)
}

func (r *MonitoredAccountReconciler) selectedOrIndexed(ctx context.Context, ns string, sel *metav1.LabelSelector, index, value string) []reconcile.Request {
	reqs := r.indexed(ctx, ns, index, value)
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		// An invalid selector selects nothing; the owning controller reports it.
		return reqs
	}
	reqs = append(reqs, listAccountRequests(ctx, r.Client, ns, selector)...)
	return dedupeRequests(reqs)
}

func (r *MonitoredAccountReconciler) indexed(ctx context.Context, ns, index, value string) []reconcile.Request {
	var accounts v1alpha1.MonitoredAccountList
	if err := r.List(ctx, &accounts, client.InNamespace(ns), client.MatchingFields{index: value}); err != nil {
		logf.FromContext(ctx).Error(err, "Failed to list MonitoredAccounts by index", "index", index, "value", value)
		return nil
	}
	return accountRequests(accounts.Items)
}

func listAccountRequests(ctx context.Context, c client.Client, ns string, selector labels.Selector) []reconcile.Request {
	var accounts v1alpha1.MonitoredAccountList
	if err := c.List(ctx, &accounts, client.InNamespace(ns), client.MatchingLabelsSelector{Selector: selector}); err != nil {
		logf.FromContext(ctx).Error(err, "Failed to list MonitoredAccounts by selector", "namespace", ns)
		return nil
	}
	return accountRequests(accounts.Items)
}

func accountRequests(items []v1alpha1.MonitoredAccount) []reconcile.Request {
	reqs := make([]reconcile.Request, 0, len(items))
	for i := range items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: items[i].Namespace, Name: items[i].Name}})
	}
	return reqs
}

func dedupeRequests(reqs []reconcile.Request) []reconcile.Request {
	seen := make(map[reconcile.Request]bool, len(reqs))
	out := reqs[:0]
	for _, r := range reqs {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

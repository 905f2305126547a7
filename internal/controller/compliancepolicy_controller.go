package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
)

// CompliancePolicyReconciler validates policies and reports what they select.
// It never writes to accounts: the account controller attaches valid policies.
type CompliancePolicyReconciler struct {
	client.Client
	Recorder events.EventRecorder
}

// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch
// +kubebuilder:rbac:groups=compliance.vigil.dev,resources=compliancepolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=compliance.vigil.dev,resources=compliancepolicies/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=compliance.vigil.dev,resources=monitoredaccounts,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile validates one policy.
func (r *CompliancePolicyReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	policy := &v1alpha1.CompliancePolicy{}
	if err := r.Get(ctx, req.NamespacedName, policy); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	before := policy.DeepCopy()
	err := r.reconcile(ctx, policy)
	recordConditionChanges(r.Recorder, policy, before.Status.Conditions, policy.Status.Conditions)
	if patchErr := patchStatus(ctx, r.Client, before, policy, &before.Status, &policy.Status); patchErr != nil {
		if apierrors.IsConflict(patchErr) && err == nil {
			return reconcile.Result{RequeueAfter: time.Second}, nil
		}
		err = errors.Join(err, patchErr)
	}
	return reconcile.Result{}, err
}

func (r *CompliancePolicyReconciler) reconcile(ctx context.Context, policy *v1alpha1.CompliancePolicy) error {
	policy.Status.ObservedGeneration = policy.Generation
	gen := policy.Generation

	selector, err := metav1.LabelSelectorAsSelector(&policy.Spec.AccountSelector)
	if err != nil {
		setCondition(&policy.Status.Conditions, gen, v1alpha1.ConditionValid, metav1.ConditionFalse, v1alpha1.ReasonInvalidSelector, err.Error())
		setCondition(&policy.Status.Conditions, gen, v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonInvalidSelector, err.Error())
		policy.Status.SelectedAccounts = 0
		policy.Status.BundleDigest = ""
		return nil
	}
	var accounts v1alpha1.MonitoredAccountList
	if err := r.List(ctx, &accounts, client.InNamespace(policy.Namespace), client.MatchingLabelsSelector{Selector: selector}); err != nil {
		return fmt.Errorf("while listing selected MonitoredAccounts: %w", err)
	}
	policy.Status.SelectedAccounts = int32(len(accounts.Items))

	ruleErrors, terms, err := r.validateRules(ctx, policy)
	if err != nil {
		return err
	}
	policy.Status.RuleErrors = ruleErrors
	if len(ruleErrors) > 0 {
		msg := fmt.Sprintf("%d of %d rules are invalid; first: rule %s: %s", len(ruleErrors), len(policy.Spec.Rules), ruleErrors[0].Rule, ruleErrors[0].Message)
		setCondition(&policy.Status.Conditions, gen, v1alpha1.ConditionValid, metav1.ConditionFalse, v1alpha1.ReasonInvalidRule, msg)
		setCondition(&policy.Status.Conditions, gen, v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonInvalidRule, msg)
		policy.Status.BundleDigest = ""
		return nil
	}
	digest, err := cc.PolicyDigest(cc.PolicyOf(policy, terms))
	if err != nil {
		return err
	}
	policy.Status.BundleDigest = digest
	setCondition(&policy.Status.Conditions, gen, v1alpha1.ConditionValid, metav1.ConditionTrue, v1alpha1.ReasonRulesCompiled,
		fmt.Sprintf("%d rules compiled", len(policy.Spec.Rules)))
	setCondition(&policy.Status.Conditions, gen, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonReady,
		fmt.Sprintf("selects %d accounts", len(accounts.Items)))
	return nil
}

// SetupWithManager registers the controller and its watches; RegisterIndexes
// must have run on the manager first.
func (r *CompliancePolicyReconciler) SetupWithManager(mgr manager.Manager) error {
	return ctrl.ControllerManagedBy(mgr).
		For(&v1alpha1.CompliancePolicy{}, ctrl.WithPredicates(predicate.GenerationChangedPredicate{})).
		// Account labels decide selection; any account change may change counts.
		Watches(&v1alpha1.MonitoredAccount{}, handler.EnqueueRequestsFromMapFunc(r.policiesInNamespace),
			ctrl.WithPredicates(predicate.Or(predicate.LabelChangedPredicate{}, createOrDelete))).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(r.policiesForConfigMap), ctrl.OnlyMetadata).
		Named("compliancepolicy").
		WithOptions(controller.Options{MaxConcurrentReconciles: 2}).
		Complete(r)
}

func (r *CompliancePolicyReconciler) policiesInNamespace(ctx context.Context, obj client.Object) []reconcile.Request {
	var policies v1alpha1.CompliancePolicyList
	if err := r.List(ctx, &policies, client.InNamespace(obj.GetNamespace())); err != nil {
		return nil
	}
	return policyRequests(policies.Items)
}

func (r *CompliancePolicyReconciler) policiesForConfigMap(ctx context.Context, obj client.Object) []reconcile.Request {
	var policies v1alpha1.CompliancePolicyList
	if err := r.List(ctx, &policies, client.InNamespace(obj.GetNamespace()),
		client.MatchingFields{policyTermsConfigMapIndex: obj.GetName()}); err != nil {
		return nil
	}
	return policyRequests(policies.Items)
}

func policyRequests(items []v1alpha1.CompliancePolicy) []reconcile.Request {
	reqs := make([]reconcile.Request, 0, len(items))
	for i := range items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: items[i].Namespace, Name: items[i].Name}})
	}
	return reqs
}

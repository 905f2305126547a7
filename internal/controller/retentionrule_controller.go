package controller

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	"github.com/vigil-operator/vigil/internal/archive/store"
)

// RetentionRuleReconciler purges, on each rule's schedule, the records of the
// accounts for which the rule is the longest in force.
type RetentionRuleReconciler struct {
	client.Client
	Recorder events.EventRecorder
	Clock    clock.PassiveClock
	Archive  Archive
	// Actor is recorded in the archive as who asked for the purge.
	Actor string
}

// +kubebuilder:rbac:groups=compliance.vigil.dev,resources=monitoredaccounts,verbs=get;list;watch
// +kubebuilder:rbac:groups=compliance.vigil.dev,resources=retentionrules,verbs=get;list;watch
// +kubebuilder:rbac:groups=compliance.vigil.dev,resources=retentionrules/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile computes the rule's next run and purges when it is due.
func (r *RetentionRuleReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	rule := &v1alpha1.RetentionRule{}
	if err := r.Get(ctx, req.NamespacedName, rule); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !rule.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil
	}
	before := rule.DeepCopy()
	result, err := r.reconcile(ctx, rule)
	recordConditionChanges(r.Recorder, rule, before.Status.Conditions, rule.Status.Conditions)
	if patchErr := patchStatus(ctx, r.Client, before, rule, &before.Status, &rule.Status); patchErr != nil {
		if apierrors.IsConflict(patchErr) && err == nil {
			return reconcile.Result{RequeueAfter: time.Second}, nil
		}
		err = errors.Join(err, patchErr)
	}
	return result, err
}

func (r *RetentionRuleReconciler) reconcile(ctx context.Context, rule *v1alpha1.RetentionRule) (reconcile.Result, error) {
	rule.Status.ObservedGeneration = rule.Generation
	gen := rule.Generation
	now := r.Clock.Now()

	sched, err := parseSchedule(rule.Spec.Purge.Schedule, rule.Spec.Purge.TimeZone)
	if err != nil {
		reason := v1alpha1.ReasonInvalidSchedule
		if errors.Is(err, errTimeZone) {
			reason = v1alpha1.ReasonInvalidTimeZone
		}
		setCondition(&rule.Status.Conditions, gen, v1alpha1.ConditionScheduleValid, metav1.ConditionFalse, reason, err.Error())
		setCondition(&rule.Status.Conditions, gen, v1alpha1.ConditionReady, metav1.ConditionFalse, reason, err.Error())
		rule.Status.NextRun = nil
		return reconcile.Result{}, reconcileTerminal(err)
	}
	period, err := v1alpha1.ParsePeriod(rule.Spec.Retain)
	if err != nil {
		setCondition(&rule.Status.Conditions, gen, v1alpha1.ConditionScheduleValid, metav1.ConditionFalse, v1alpha1.ReasonInvalidPeriod, err.Error())
		setCondition(&rule.Status.Conditions, gen, v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonInvalidPeriod, err.Error())
		return reconcile.Result{}, reconcileTerminal(err)
	}
	setCondition(&rule.Status.Conditions, gen, v1alpha1.ConditionScheduleValid, metav1.ConditionTrue, v1alpha1.ReasonScheduleParsed,
		fmt.Sprintf("purges on %q (%s)", rule.Spec.Purge.Schedule, sched.location))

	selected, governed, err := r.governedAccounts(ctx, rule)
	if err != nil {
		return reconcile.Result{}, err
	}
	rule.Status.SelectedAccounts = int32(selected)
	rule.Status.GovernedAccounts = int32(len(governed))

	// The next run is derived from the last run (or the rule's creation) and
	// the schedule, never from in-memory state: a restart neither skips nor
	// repeats a run, and missed runs while the manager was down collapse into one.
	base := rule.CreationTimestamp.Time
	if rule.Status.LastRun != nil {
		base = rule.Status.LastRun.Time
	}
	next := sched.next(base)
	due := !now.Before(next)
	switch {
	case rule.Spec.Purge.Suspend:
		setCondition(&rule.Status.Conditions, gen, v1alpha1.ConditionLastPurgeSucceeded, metav1.ConditionTrue, v1alpha1.ReasonPurgeSuspended,
			"purging is suspended")
		next = sched.next(now)
	case due:
		r.purge(ctx, rule, period, governed, now)
		next = sched.next(now)
	case rule.Status.LastRun == nil:
		setCondition(&rule.Status.Conditions, gen, v1alpha1.ConditionLastPurgeSucceeded, metav1.ConditionTrue, v1alpha1.ReasonPurgeNotYetRun,
			"no purge has run yet")
	}
	rule.Status.NextRun = &metav1.Time{Time: next}
	summarizeReady(&rule.Status.Conditions, gen,
		requirement{condType: v1alpha1.ConditionScheduleValid, good: metav1.ConditionTrue},
		requirement{condType: v1alpha1.ConditionLastPurgeSucceeded, good: metav1.ConditionTrue},
	)
	wait := next.Sub(now)
	// Re-read accounts now and then even when the next run is far away, so the
	// counts in status stay current.
	return reconcile.Result{RequeueAfter: min(max(wait, time.Second), 5*time.Minute)}, nil
}

// purge runs one purge and records its outcome in status and events.
func (r *RetentionRuleReconciler) purge(ctx context.Context, rule *v1alpha1.RetentionRule, period v1alpha1.Period, governed []store.AccountKey, now time.Time) {
	gen := rule.Generation
	cutoff := period.Before(now)
	result := &v1alpha1.PurgeResult{
		Time:     metav1.NewTime(now),
		Cutoff:   metav1.NewTime(cutoff),
		DryRun:   rule.Spec.Purge.DryRun,
		Accounts: int32(len(governed)),
	}
	rule.Status.LastRun = &metav1.Time{Time: now}
	rule.Status.LastResult = result
	if len(governed) == 0 {
		setCondition(&rule.Status.Conditions, gen, v1alpha1.ConditionLastPurgeSucceeded, metav1.ConditionTrue, v1alpha1.ReasonPurgeSucceeded,
			"no account is governed by this rule; nothing to purge")
		return
	}
	maxPerRun := int(rule.Spec.Purge.MaxPerRun)
	if maxPerRun == 0 {
		maxPerRun = 100000
	}
	report, err := r.Archive.Purge(ctx, store.PurgeRequest{
		Accounts:   governed,
		Cutoff:     cutoff,
		DryRun:     rule.Spec.Purge.DryRun,
		MaxRecords: maxPerRun,
		Rule:       rule.Namespace + "/" + rule.Name,
		Actor:      r.Actor,
	})
	if err != nil {
		result.Error = err.Error()
		setCondition(&rule.Status.Conditions, gen, v1alpha1.ConditionLastPurgeSucceeded, metav1.ConditionFalse, v1alpha1.ReasonPurgeFailed,
			fmt.Sprintf("purge failed: %v", err))
		return
	}
	result.Purged = report.Purged
	result.HeldBack = report.HeldBack
	result.KeysDestroyed = int32(report.KeysDestroyed)
	result.Certificate = report.CertificateSHA256
	reason, verb := v1alpha1.ReasonPurgeSucceeded, "purged"
	if rule.Spec.Purge.DryRun {
		reason, verb = v1alpha1.ReasonPurgeDryRun, "would purge"
	}
	note := fmt.Sprintf("%s %d records sent before %s from %d accounts; %d held back by legal holds; %d data keys destroyed",
		verb, report.Purged, cutoff.UTC().Format(time.RFC3339), len(governed), report.HeldBack, report.KeysDestroyed)
	setCondition(&rule.Status.Conditions, gen, v1alpha1.ConditionLastPurgeSucceeded, metav1.ConditionTrue, reason, note)
	// A purge is a state change even when the condition stays True.
	if r.Recorder != nil {
		r.Recorder.Eventf(rule, nil, corev1.EventTypeNormal, reason, "Purge", "%s", note)
	}
	logf.FromContext(ctx).Info("Ran retention purge", "purged", report.Purged, "heldBack", report.HeldBack,
		"keysDestroyed", report.KeysDestroyed, "accounts", len(governed), "dryRun", rule.Spec.Purge.DryRun, "certificate", report.CertificateSHA256)
}

// governedAccounts returns how many accounts the rule selects, and those for
// which it is the longest rule, which it therefore purges.
func (r *RetentionRuleReconciler) governedAccounts(ctx context.Context, rule *v1alpha1.RetentionRule) (int, []store.AccountKey, error) {
	var accounts v1alpha1.MonitoredAccountList
	if err := r.List(ctx, &accounts, client.InNamespace(rule.Namespace)); err != nil {
		return 0, nil, fmt.Errorf("while listing MonitoredAccounts: %w", err)
	}
	var rules v1alpha1.RetentionRuleList
	if err := r.List(ctx, &rules, client.InNamespace(rule.Namespace)); err != nil {
		return 0, nil, fmt.Errorf("while listing RetentionRules: %w", err)
	}
	selected := 0
	var governed []store.AccountKey
	for i := range accounts.Items {
		a := &accounts.Items[i]
		if !selects(&rule.Spec.AccountSelector, a.Labels) {
			continue
		}
		selected++
		if w := longestRule(rules.Items, a.Labels); w != nil && w.Name == rule.Name {
			governed = append(governed, accountKey(a.Namespace, a.Name))
		}
	}
	sort.Slice(governed, func(i, j int) bool { return governed[i] < governed[j] })
	return selected, governed, nil
}

// SetupWithManager registers the controller and its watches.
func (r *RetentionRuleReconciler) SetupWithManager(mgr manager.Manager) error {
	return builder.ControllerManagedBy(mgr).
		For(&v1alpha1.RetentionRule{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&v1alpha1.MonitoredAccount{}, handler.EnqueueRequestsFromMapFunc(r.rulesInNamespace),
			builder.WithPredicates(predicate.Or(predicate.LabelChangedPredicate{}, createOrDelete))).
		Named("retentionrule").
		WithOptions(controller.Options{MaxConcurrentReconciles: 2, ReconciliationTimeout: 10 * time.Minute}).
		Complete(r)
}

func (r *RetentionRuleReconciler) rulesInNamespace(ctx context.Context, obj client.Object) []reconcile.Request {
	var rules v1alpha1.RetentionRuleList
	if err := r.List(ctx, &rules, client.InNamespace(obj.GetNamespace())); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(rules.Items))
	for i := range rules.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&rules.Items[i])})
	}
	return reqs
}

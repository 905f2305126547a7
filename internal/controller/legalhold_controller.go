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
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	"github.com/vigil-operator/vigil/internal/archive/store"
)

// LegalHoldReconciler registers holds with the archive and releases them, on
// record, when the LegalHold is deleted.
type LegalHoldReconciler struct {
	client.Client
	Recorder events.EventRecorder
	Clock    clock.PassiveClock
	Archive  Archive
	// Actor is recorded in the archive as who placed or released the hold.
	Actor string
	// RefreshInterval is how often held counts are re-read.
	RefreshInterval time.Duration
}

// +kubebuilder:rbac:groups=compliance.vigil.dev,resources=legalholds,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=compliance.vigil.dev,resources=legalholds/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=compliance.vigil.dev,resources=legalholds/finalizers,verbs=update
// +kubebuilder:rbac:groups=compliance.vigil.dev,resources=monitoredaccounts,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile registers, refreshes or releases one hold.
func (r *LegalHoldReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	hold := &v1alpha1.LegalHold{}
	if err := r.Get(ctx, req.NamespacedName, hold); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !hold.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, r.release(ctx, hold)
	}
	// The finalizer goes on before the archive hears of the hold, so a hold is
	// never registered without a recorded release path.
	if controllerutil.AddFinalizer(hold, v1alpha1.FinalizerReleaseHold) {
		if err := r.Update(ctx, hold); err != nil {
			return reconcile.Result{}, fmt.Errorf("while adding the release finalizer: %w", err)
		}
	}

	before := hold.DeepCopy()
	result, err := r.register(ctx, hold)
	recordConditionChanges(r.Recorder, hold, before.Status.Conditions, hold.Status.Conditions)
	if patchErr := patchStatus(ctx, r.Client, before, hold, &before.Status, &hold.Status); patchErr != nil {
		if apierrors.IsConflict(patchErr) && err == nil {
			return reconcile.Result{RequeueAfter: time.Second}, nil
		}
		err = errors.Join(err, patchErr)
	}
	return result, err
}

func holdID(hold *v1alpha1.LegalHold) string { return hold.Namespace + "/" + hold.Name }

// register sends the hold's current scope to the archive and records what it holds.
func (r *LegalHoldReconciler) register(ctx context.Context, hold *v1alpha1.LegalHold) (reconcile.Result, error) {
	hold.Status.ObservedGeneration = hold.Generation
	gen := hold.Generation
	accounts, err := r.heldAccounts(ctx, hold)
	if err != nil {
		return reconcile.Result{}, err
	}
	req := store.Hold{
		ID:         holdID(hold),
		Accounts:   accounts,
		Custodians: hold.Spec.Custodians,
		Query:      hold.Spec.Query,
		Reason:     fmt.Sprintf("case %s: %s", hold.Spec.CaseID, hold.Spec.Reason),
		Actor:      r.Actor,
	}
	if hold.Spec.From != nil {
		req.From = &hold.Spec.From.Time
	}
	if hold.Spec.To != nil {
		req.To = &hold.Spec.To.Time
	}
	status, err := r.Archive.PutHold(ctx, req)
	if err != nil {
		msg := fmt.Sprintf("the archive did not register the hold: %v", err)
		setCondition(&hold.Status.Conditions, gen, v1alpha1.ConditionHoldRegistered, metav1.ConditionFalse, v1alpha1.ReasonHoldFailed, msg)
		setCondition(&hold.Status.Conditions, gen, v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonHoldFailed, msg)
		// Retry with backoff: an unregistered hold is a compliance risk.
		return reconcile.Result{}, fmt.Errorf("while registering hold %s: %w", holdID(hold), err)
	}
	names := make([]string, 0, len(accounts))
	for _, a := range accounts {
		names = append(names, accountName(a))
	}
	hold.Status.Accounts = names
	hold.Status.RecordsHeld = status.RecordsHeld
	if hold.Status.RegisteredTime == nil {
		hold.Status.RegisteredTime = &metav1.Time{Time: r.Clock.Now()}
	}
	msg := fmt.Sprintf("holding %d records of %d accounts and %d custodians", status.RecordsHeld, len(accounts), len(hold.Spec.Custodians))
	setCondition(&hold.Status.Conditions, gen, v1alpha1.ConditionHoldRegistered, metav1.ConditionTrue, v1alpha1.ReasonHoldRegistered, msg)
	setCondition(&hold.Status.Conditions, gen, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonReady, msg)
	interval := r.RefreshInterval
	if interval == 0 {
		interval = time.Minute
	}
	return reconcile.Result{RequeueAfter: interval}, nil
}

// heldAccounts resolves the hold's accounts: those named, and those its
// selector matches now. Named accounts need not exist any more: their
// archived records are still held.
func (r *LegalHoldReconciler) heldAccounts(ctx context.Context, hold *v1alpha1.LegalHold) ([]store.AccountKey, error) {
	set := map[store.AccountKey]bool{}
	for _, name := range hold.Spec.Accounts {
		set[accountKey(hold.Namespace, name)] = true
	}
	if hold.Spec.AccountSelector != nil {
		selector, err := metav1.LabelSelectorAsSelector(hold.Spec.AccountSelector)
		if err != nil {
			return nil, reconcileTerminal(fmt.Errorf("accountSelector: %w", err))
		}
		var accounts v1alpha1.MonitoredAccountList
		if err := r.List(ctx, &accounts, client.InNamespace(hold.Namespace), client.MatchingLabelsSelector{Selector: selector}); err != nil {
			return nil, fmt.Errorf("while listing held MonitoredAccounts: %w", err)
		}
		for i := range accounts.Items {
			set[accountKey(accounts.Items[i].Namespace, accounts.Items[i].Name)] = true
		}
	}
	out := make([]store.AccountKey, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// release records the release in the archive before the finalizer is removed;
// while the archive is unreachable the LegalHold stays, terminating.
func (r *LegalHoldReconciler) release(ctx context.Context, hold *v1alpha1.LegalHold) error {
	if !controllerutil.ContainsFinalizer(hold, v1alpha1.FinalizerReleaseHold) {
		return nil
	}
	reason := fmt.Sprintf("LegalHold %s for case %s was deleted", holdID(hold), hold.Spec.CaseID)
	if _, err := r.Archive.ReleaseHold(ctx, holdID(hold), reason, r.Actor); err != nil {
		if r.Recorder != nil {
			r.Recorder.Eventf(hold, nil, corev1.EventTypeWarning, v1alpha1.ReasonHoldFailed, "Release",
				"the archive did not record the release; the hold stays in force: %v", err)
		}
		return fmt.Errorf("while releasing hold %s: %w", holdID(hold), err)
	}
	if r.Recorder != nil {
		r.Recorder.Eventf(hold, nil, corev1.EventTypeNormal, v1alpha1.ReasonHoldReleased, "Release", "%s", reason)
	}
	logf.FromContext(ctx).Info("Released LegalHold in the archive", "case", hold.Spec.CaseID)
	controllerutil.RemoveFinalizer(hold, v1alpha1.FinalizerReleaseHold)
	if err := r.Update(ctx, hold); err != nil {
		return fmt.Errorf("while removing the release finalizer: %w", err)
	}
	return nil
}

// SetupWithManager registers the controller and its watches.
func (r *LegalHoldReconciler) SetupWithManager(mgr manager.Manager) error {
	return builder.ControllerManagedBy(mgr).
		For(&v1alpha1.LegalHold{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, deletionStarted))).
		Watches(&v1alpha1.MonitoredAccount{}, handler.EnqueueRequestsFromMapFunc(r.holdsInNamespace),
			builder.WithPredicates(predicate.Or(predicate.LabelChangedPredicate{}, createOrDelete))).
		Named("legalhold").
		Complete(r)
}

func (r *LegalHoldReconciler) holdsInNamespace(ctx context.Context, obj client.Object) []reconcile.Request {
	var holds v1alpha1.LegalHoldList
	if err := r.List(ctx, &holds, client.InNamespace(obj.GetNamespace())); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(holds.Items))
	for i := range holds.Items {
		if holds.Items[i].Spec.AccountSelector != nil {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&holds.Items[i])})
		}
	}
	return reqs
}

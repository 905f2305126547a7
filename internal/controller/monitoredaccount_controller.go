package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	"github.com/vigil-operator/vigil/internal/naming"
)

// MonitoredAccountReconciler runs a connector for each MonitoredAccount and
// reports its credentials, policies, retention and capture.
type MonitoredAccountReconciler struct {
	client.Client
	// APIReader reads Secrets without caching them in the manager.
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  events.EventRecorder
	Clock     clock.PassiveClock
	Archive   Archive
	Connector ConnectorOptions
	// StatsInterval is how often capture statistics are re-read from the archive.
	StatsInterval time.Duration
	// MaxConcurrentReconciles bounds parallel reconciles.
	MaxConcurrentReconciles int
}

// Alphabetical order, so that no permission is repeated or missed.
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=statefulsets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=compliance.vigil.dev,resources=compliancepolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=compliance.vigil.dev,resources=monitoredaccounts,verbs=get;list;watch
// +kubebuilder:rbac:groups=compliance.vigil.dev,resources=monitoredaccounts/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=compliance.vigil.dev,resources=retentionrules,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;patch;delete

// Reconcile brings one account's connector and status up to date.
func (r *MonitoredAccountReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	account := &v1alpha1.MonitoredAccount{}
	if err := r.Get(ctx, req.NamespacedName, account); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !account.DeletionTimestamp.IsZero() {
		// Owner references let the garbage collector remove the connector;
		// archived records stay under retention and holds.
		return ctrl.Result{}, nil
	}

	before := account.DeepCopy()
	result, err := r.reconcile(ctx, account)
	recordConditionChanges(r.Recorder, account, before.Status.Conditions, account.Status.Conditions)
	if patchErr := patchStatus(ctx, r.Client, before, account, &before.Status, &account.Status); patchErr != nil {
		if apierrors.IsConflict(patchErr) && err == nil {
			return ctrl.Result{RequeueAfter: time.Second}, nil
		}
		err = errors.Join(err, patchErr)
	}
	return result, err
}

func (r *MonitoredAccountReconciler) reconcile(ctx context.Context, account *v1alpha1.MonitoredAccount) (ctrl.Result, error) {
	account.Status.ObservedGeneration = account.Generation
	if err := r.checkCredentials(ctx, account); err != nil {
		return ctrl.Result{}, err
	}
	bundle, err := r.attachPolicies(ctx, account)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := r.resolveRetention(ctx, account); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.reconcileConnector(ctx, account, bundle); err != nil {
		return ctrl.Result{}, err
	}
	r.readCaptureStats(ctx, account)
	r.assessCompromise(account)
	summarizeReady(&account.Status.Conditions, account.Generation,
		requirement{condType: v1alpha1.ConditionCredentialsValid, good: metav1.ConditionTrue},
		requirement{condType: v1alpha1.ConditionPoliciesAttached, good: metav1.ConditionTrue},
		requirement{condType: v1alpha1.ConditionConnectorAvailable, good: metav1.ConditionTrue},
		requirement{condType: v1alpha1.ConditionCaptureHealthy, good: metav1.ConditionTrue, unknownOK: true},
		requirement{condType: v1alpha1.ConditionCompromised, good: metav1.ConditionFalse},
	)
	logf.FromContext(ctx).V(1).Info("Reconciled MonitoredAccount",
		"policies", len(account.Status.AttachedPolicies), "messages", account.Status.Capture.MessagesCaptured)
	return ctrl.Result{RequeueAfter: r.statsInterval()}, nil
}

func (r *MonitoredAccountReconciler) statsInterval() time.Duration {
	if r.StatsInterval > 0 {
		return r.StatsInterval
	}
	return 30 * time.Second
}

// reconcileConnector renders and applies the connector, then reads its availability.
func (r *MonitoredAccountReconciler) reconcileConnector(ctx context.Context, account *v1alpha1.MonitoredAccount, policies []byte) error {
	config, err := renderConnectorConfig(account)
	if err != nil {
		setCondition(&account.Status.Conditions, account.Generation, v1alpha1.ConditionConnectorAvailable,
			metav1.ConditionFalse, v1alpha1.ReasonConnectorRenderError, err.Error())
		return reconcileTerminal(err)
	}
	if err := r.applyConnector(ctx, renderConnector(account, r.Connector, config, policies)); err != nil {
		return err
	}
	sts := &appsv1.StatefulSet{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: account.Namespace, Name: naming.ConnectorName(account.Name)}, sts); err != nil {
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("while reading the connector StatefulSet: %w", err)
		}
		sts = nil
	}
	status, reason, message := connectorAvailability(account, sts)
	setCondition(&account.Status.Conditions, account.Generation, v1alpha1.ConditionConnectorAvailable, status, reason, message)
	return nil
}

// assessCompromise reports Compromised. An administrator quarantines an account
// it suspects is compromised; automatic indicators (new devices, impossible
// travel, credential changes) feed the same condition as channels report them.
func (r *MonitoredAccountReconciler) assessCompromise(account *v1alpha1.MonitoredAccount) {
	if account.Spec.State == v1alpha1.AccountQuarantined {
		setCondition(&account.Status.Conditions, account.Generation, v1alpha1.ConditionCompromised,
			metav1.ConditionTrue, "Quarantined", "the account is Quarantined: capture continues while it is investigated")
		return
	}
	setCondition(&account.Status.Conditions, account.Generation, v1alpha1.ConditionCompromised,
		metav1.ConditionFalse, v1alpha1.ReasonNoIndicators, "no indicator of compromise")
}

// SetupWithManager registers the controller and its watches; RegisterIndexes
// must have run on the manager first.
func (r *MonitoredAccountReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.MonitoredAccount{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{},
			predicate.LabelChangedPredicate{},
		))).
		Owns(&appsv1.StatefulSet{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&corev1.Service{}).
		Owns(&corev1.ServiceAccount{}).
		Owns(&networkingv1.NetworkPolicy{}).
		Watches(&v1alpha1.CompliancePolicy{}, handler.EnqueueRequestsFromMapFunc(r.accountsForPolicy)).
		Watches(&v1alpha1.RetentionRule{}, handler.EnqueueRequestsFromMapFunc(r.accountsForRetentionRule)).
		// Secrets are watched by metadata only, so their content is never cached
		// in the manager; checkCredentials reads the one it needs directly.
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.accountsForSecret), builder.OnlyMetadata).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(r.accountsForTermsConfigMap)).
		Named("monitoredaccount").
		WithOptions(controller.Options{MaxConcurrentReconciles: max(r.MaxConcurrentReconciles, 1)}).
		Complete(r)
}

package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Options configure the four controllers.
type Options struct {
	Archive   Archive
	Clock     clock.PassiveClock
	Connector ConnectorOptions
	// Actor is who the archive records as asking for purges and holds.
	Actor                   string
	MaxConcurrentReconciles int
	StatsInterval           time.Duration
	HoldRefreshInterval     time.Duration
}

// Setup registers the field indexes and every controller on a manager.
func Setup(ctx context.Context, mgr ctrl.Manager, o Options) error {
	if o.Archive == nil {
		return errors.New("controller setup needs an archive client")
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if err := RegisterIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	if err := metrics.Registry.Register(NewCollector(mgr.GetClient())); err != nil {
		return fmt.Errorf("while registering the object metrics: %w", err)
	}
	recorder := mgr.GetEventRecorder("vigil-manager")
	account := &MonitoredAccountReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(), Recorder: recorder,
		Clock: o.Clock, Archive: o.Archive, Connector: o.Connector,
		StatsInterval: o.StatsInterval, MaxConcurrentReconciles: o.MaxConcurrentReconciles,
	}
	if err := account.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("while setting up the MonitoredAccount controller: %w", err)
	}
	policy := &CompliancePolicyReconciler{Client: mgr.GetClient(), Recorder: recorder}
	if err := policy.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("while setting up the CompliancePolicy controller: %w", err)
	}
	rule := &RetentionRuleReconciler{Client: mgr.GetClient(), Recorder: recorder, Clock: o.Clock, Archive: o.Archive, Actor: o.Actor}
	if err := rule.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("while setting up the RetentionRule controller: %w", err)
	}
	hold := &LegalHoldReconciler{Client: mgr.GetClient(), Recorder: recorder, Clock: o.Clock, Archive: o.Archive,
		Actor: o.Actor, RefreshInterval: o.HoldRefreshInterval}
	if err := hold.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("while setting up the LegalHold controller: %w", err)
	}
	return nil
}

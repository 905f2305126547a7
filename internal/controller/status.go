package controller

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
)

// patchStatus writes the status once per reconcile, only when it changed, with
// an optimistic lock so a concurrent writer is never overwritten.
func patchStatus(ctx context.Context, c client.Client, before, after client.Object, beforeStatus, afterStatus any) error {
	if equality.Semantic.DeepEqual(beforeStatus, afterStatus) {
		return nil
	}
	if err := c.Status().Patch(ctx, after, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("while patching status: %w", err)
	}
	return nil
}

// conditionIsGood says which status of a condition type is the healthy one.
func conditionIsGood(c metav1.Condition) bool {
	if c.Type == v1alpha1.ConditionCompromised {
		return c.Status == metav1.ConditionFalse
	}
	return c.Status == metav1.ConditionTrue
}

// recordConditionChanges emits one Event per condition whose status or reason
// changed: Normal when it became healthy, Warning otherwise. Unchanged
// conditions emit nothing, so steady reconciles stay quiet.
func recordConditionChanges(rec events.EventRecorder, obj runtime.Object, before, after []metav1.Condition) {
	if rec == nil {
		return
	}
	old := make(map[string]metav1.Condition, len(before))
	for _, c := range before {
		old[c.Type] = c
	}
	for _, c := range after {
		if prev, ok := old[c.Type]; ok && prev.Status == c.Status && prev.Reason == c.Reason {
			continue
		}
		eventType := corev1.EventTypeNormal
		if !conditionIsGood(c) && c.Status != metav1.ConditionUnknown {
			eventType = corev1.EventTypeWarning
		}
		note := fmt.Sprintf("%s is %s", c.Type, c.Status)
		if c.Message != "" {
			note += ": " + c.Message
		}
		rec.Eventf(obj, nil, eventType, c.Reason, c.Type, "%s", truncateNote(note))
	}
}

// truncateNote keeps event notes under the API's 1 KiB limit.
func truncateNote(s string) string {
	const limit = 1000
	if len(s) <= limit {
		return s
	}
	return s[:limit-3] + "..."
}

// errSpec marks errors in an object's spec that retrying cannot fix.
var errSpec = errors.New("invalid spec")

// reconcileTerminal stops retries with backoff for spec errors; the object is
// reconciled again when it changes.
func reconcileTerminal(err error) error {
	return reconcile.TerminalError(fmt.Errorf("%w: %w", errSpec, err))
}

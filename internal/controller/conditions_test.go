package controller

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
)

func TestSummarizeReady(t *testing.T) {
	reqs := []requirement{
		{condType: v1alpha1.ConditionCredentialsValid, good: metav1.ConditionTrue},
		{condType: v1alpha1.ConditionCaptureHealthy, good: metav1.ConditionTrue, unknownOK: true},
		{condType: v1alpha1.ConditionCompromised, good: metav1.ConditionFalse},
	}
	tests := map[string]struct {
		set        []metav1.Condition
		wantStatus metav1.ConditionStatus
		wantReason string
	}{
		"all good": {set: []metav1.Condition{
			{Type: v1alpha1.ConditionCredentialsValid, Status: metav1.ConditionTrue, Reason: "A"},
			{Type: v1alpha1.ConditionCaptureHealthy, Status: metav1.ConditionTrue, Reason: "B"},
			{Type: v1alpha1.ConditionCompromised, Status: metav1.ConditionFalse, Reason: "C"},
		}, wantStatus: metav1.ConditionTrue, wantReason: v1alpha1.ReasonReady},
		"first failure wins": {set: []metav1.Condition{
			{Type: v1alpha1.ConditionCredentialsValid, Status: metav1.ConditionFalse, Reason: "SecretNotFound"},
			{Type: v1alpha1.ConditionCaptureHealthy, Status: metav1.ConditionFalse, Reason: "CaptureLagging"},
			{Type: v1alpha1.ConditionCompromised, Status: metav1.ConditionFalse, Reason: "C"},
		}, wantStatus: metav1.ConditionFalse, wantReason: "SecretNotFound"},
		"unknown allowed where best effort": {set: []metav1.Condition{
			{Type: v1alpha1.ConditionCredentialsValid, Status: metav1.ConditionTrue, Reason: "A"},
			{Type: v1alpha1.ConditionCaptureHealthy, Status: metav1.ConditionUnknown, Reason: "ArchiveUnreachable"},
			{Type: v1alpha1.ConditionCompromised, Status: metav1.ConditionFalse, Reason: "C"},
		}, wantStatus: metav1.ConditionTrue, wantReason: v1alpha1.ReasonReady},
		"a True problem condition blocks": {set: []metav1.Condition{
			{Type: v1alpha1.ConditionCredentialsValid, Status: metav1.ConditionTrue, Reason: "A"},
			{Type: v1alpha1.ConditionCaptureHealthy, Status: metav1.ConditionTrue, Reason: "B"},
			{Type: v1alpha1.ConditionCompromised, Status: metav1.ConditionTrue, Reason: "Indicators"},
		}, wantStatus: metav1.ConditionFalse, wantReason: "Indicators"},
		"missing is unknown": {set: nil, wantStatus: metav1.ConditionUnknown, wantReason: "Pending"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			conds := append([]metav1.Condition(nil), tc.set...)
			summarizeReady(&conds, 3, reqs...)
			ready := meta.FindStatusCondition(conds, v1alpha1.ConditionReady)
			if ready.Status != tc.wantStatus || ready.Reason != tc.wantReason {
				t.Fatalf("Ready = %s/%s, want %s/%s", ready.Status, ready.Reason, tc.wantStatus, tc.wantReason)
			}
			if ready.ObservedGeneration != 3 {
				t.Fatalf("observedGeneration = %d, want 3", ready.ObservedGeneration)
			}
		})
	}
}

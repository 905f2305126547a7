package controller

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
)

// setCondition records a condition with the object's generation; meta keeps
// lastTransitionTime when the status does not change.
func setCondition(conds *[]metav1.Condition, generation int64, condType string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(conds, metav1.Condition{
		Type:               condType,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: generation,
	})
}

// requirement is a condition Ready depends on, and the status it must have.
type requirement struct {
	condType string
	// good is the status the condition must have for Ready; for conditions that
	// report a problem when True (Compromised) it is False.
	good metav1.ConditionStatus
	// unknownOK lets an Unknown condition pass, for signals that are best effort.
	unknownOK bool
}

// summarizeReady sets Ready from the requirements: True when all hold, else
// False with the reason and message of the first that does not.
func summarizeReady(conds *[]metav1.Condition, generation int64, reqs ...requirement) {
	for _, r := range reqs {
		c := meta.FindStatusCondition(*conds, r.condType)
		switch {
		case c == nil:
			setCondition(conds, generation, v1alpha1.ConditionReady, metav1.ConditionUnknown, "Pending", r.condType+" has not been evaluated yet")
			return
		case c.Status == r.good, c.Status == metav1.ConditionUnknown && r.unknownOK:
			continue
		default:
			setCondition(conds, generation, v1alpha1.ConditionReady, metav1.ConditionFalse, c.Reason, c.Message)
			return
		}
	}
	setCondition(conds, generation, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonReady, "")
}

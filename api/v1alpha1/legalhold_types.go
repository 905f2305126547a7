package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LegalHoldSpec says which records are frozen against purge. A record is held
// when it belongs to a listed or selected account or a listed custodian, was
// sent inside the time range (when given), and matches the query (when given).
// +kubebuilder:validation:XValidation:rule="has(self.accountSelector) || (has(self.accounts) && size(self.accounts) > 0) || (has(self.custodians) && size(self.custodians) > 0)",message="a hold needs a scope: set accountSelector, accounts or custodians"
// +kubebuilder:validation:XValidation:rule="!has(self.from) || !has(self.to) || timestamp(self.from) <= timestamp(self.to)",message="from must not be after to",fieldPath=".from"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.accountSelector) || (has(self.accountSelector) && self.accountSelector == oldSelf.accountSelector)",message="accountSelector of a hold cannot change: create a new LegalHold, then delete this one to release it"
// +kubebuilder:validation:XValidation:rule="(has(self.accounts) ? self.accounts : []) == (has(oldSelf.accounts) ? oldSelf.accounts : []) && (has(self.custodians) ? self.custodians : []) == (has(oldSelf.custodians) ? oldSelf.custodians : [])",message="accounts and custodians of a hold cannot change: create a new LegalHold, then delete this one to release it"
// +kubebuilder:validation:XValidation:rule="(has(self.from) == has(oldSelf.from)) && (!has(self.from) || self.from == oldSelf.from) && (has(self.to) == has(oldSelf.to)) && (!has(self.to) || self.to == oldSelf.to) && (has(self.query) == has(oldSelf.query)) && (!has(self.query) || self.query == oldSelf.query)",message="the time range and query of a hold cannot change: create a new LegalHold, then delete this one to release it"
type LegalHoldSpec struct {
	// caseID identifies the matter (litigation, investigation) the hold is for.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	CaseID string `json:"caseID"`
	// reason for the hold, recorded in the archive.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Reason string `json:"reason"`
	// accountSelector selects MonitoredAccounts in the hold's namespace by label.
	// +optional
	AccountSelector *metav1.LabelSelector `json:"accountSelector,omitempty"`
	// accounts names MonitoredAccounts in the hold's namespace. Names of deleted
	// accounts still hold their archived records.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=10000
	// +kubebuilder:validation:items:MaxLength=253
	Accounts []string `json:"accounts,omitempty"`
	// custodians names custodians (spec.custodian.name of accounts).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=10000
	// +kubebuilder:validation:items:MaxLength=256
	Custodians []string `json:"custodians,omitempty"`
	// from is the start of the time range held (inclusive).
	// +optional
	From *metav1.Time `json:"from,omitempty"`
	// to is the end of the time range held (inclusive).
	// +optional
	To *metav1.Time `json:"to,omitempty"`
	// query holds only records that match it, in the archive's search syntax
	// (docs/search.md: words, Chinese in any script, "phrases", -exclusions,
	// OR). The hold errs on the side of holding: a phrase also holds records
	// with its words in another order.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Query string `json:"query,omitempty"`
}

// LegalHoldStatus is the observed state of a LegalHold.
type LegalHoldStatus struct {
	// observedGeneration is the generation this status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions: Ready, HoldRegistered.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// accounts the hold covers now.
	// +optional
	// +listType=set
	Accounts []string `json:"accounts,omitempty"`
	// recordsHeld counts the archived records the hold freezes.
	// +optional
	RecordsHeld int64 `json:"recordsHeld"`
	// registeredTime is when the archive first registered the hold.
	// +optional
	RegisteredTime *metav1.Time `json:"registeredTime,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=hold,categories=vigil
// +kubebuilder:printcolumn:name="Case",type=string,JSONPath=`.spec.caseID`
// +kubebuilder:printcolumn:name="Held",type=integer,JSONPath=`.status.recordsHeld`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// LegalHold freezes matching records against every purge until it is deleted;
// deletion releases it, and the release is recorded in the archive.
type LegalHold struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`
	// +required
	Spec LegalHoldSpec `json:"spec"`
	// +optional
	Status LegalHoldStatus `json:"status,omitzero"`
}

// +kubebuilder:object:root=true

// LegalHoldList is a list of LegalHolds.
type LegalHoldList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []LegalHold `json:"items"`
}

func init() {
	SchemeBuilder.Register(&LegalHold{}, &LegalHoldList{})
}

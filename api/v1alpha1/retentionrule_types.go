package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Regulation a retention rule implements. Each has a floor the API refuses to
// go under: CIRO 7 years, FINRA 6, SEC17a4 6, MiFIDII 5. Custom has none but
// needs a reason.
// +kubebuilder:validation:Enum=CIRO;FINRA;SEC17a4;MiFIDII;Custom
// +kubebuilder:validation:MaxLength=16
type Regulation string

// Regulations.
const (
	RegulationCIRO    Regulation = "CIRO"
	RegulationFINRA   Regulation = "FINRA"
	RegulationSEC17a4 Regulation = "SEC17a4"
	RegulationMiFIDII Regulation = "MiFIDII"
	RegulationCustom  Regulation = "Custom"
)

// PurgeSpec says when and how to purge records past retention.
type PurgeSpec struct {
	// schedule in cron format (five fields, or @daily, @weekly...).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	Schedule string `json:"schedule"`
	// timeZone (IANA name) the schedule is read in; UTC when empty.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	TimeZone string `json:"timeZone,omitempty"`
	// suspend stops purging without deleting the rule.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
	// dryRun counts what would be purged without purging it.
	// +optional
	DryRun bool `json:"dryRun,omitempty"`
	// maxPerRun caps the records purged in one run; the rest wait for the next.
	// +optional
	// +kubebuilder:default=100000
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000000
	MaxPerRun int32 `json:"maxPerRun,omitempty"`
}

// RetentionRuleSpec says how long the selected accounts' records are kept.
// +kubebuilder:validation:XValidation:rule="self.regulation != 'Custom' || (has(self.reason) && self.reason.trim().size() > 0)",message="reason is required when regulation is Custom: say why this retention departs from a regulation",fieldPath=".reason"
// +kubebuilder:validation:XValidation:rule="self.regulation == 'Custom' || !self.retain.matches('^P([0-9]{1,6}Y)?([0-9]{1,6}M)?([0-9]{1,6}W)?([0-9]{1,6}D)?(T([0-9]{1,6}H)?([0-9]{1,6}M)?([0-9]{1,6}S)?)?$') || (((self.retain.split('T')[0].find('[0-9]+Y').size() == 0 ? 0 : int(self.retain.split('T')[0].find('[0-9]+Y').find('[0-9]+'))) * 12 + (self.retain.split('T')[0].find('[0-9]+M').size() == 0 ? 0 : int(self.retain.split('T')[0].find('[0-9]+M').find('[0-9]+')))) * 48699 + ((self.retain.split('T')[0].find('[0-9]+W').size() == 0 ? 0 : int(self.retain.split('T')[0].find('[0-9]+W').find('[0-9]+'))) * 7 + (self.retain.split('T')[0].find('[0-9]+D').size() == 0 ? 0 : int(self.retain.split('T')[0].find('[0-9]+D').find('[0-9]+')))) * 1600 >= {'CIRO': 7, 'FINRA': 6, 'SEC17a4': 6, 'MiFIDII': 5}[self.regulation] * 584388)",messageExpression="'retain is shorter than the ' + (self.regulation == 'CIRO' ? 'CIRO minimum of 7' : self.regulation == 'MiFIDII' ? 'MiFIDII minimum of 5' : self.regulation == 'FINRA' ? 'FINRA minimum of 6' : 'SEC17a4 minimum of 6') + ' years: lengthen it, or use regulation Custom with a reason'",fieldPath=".retain"
type RetentionRuleSpec struct {
	// accountSelector selects MonitoredAccounts in the rule's namespace by label.
	// An empty selector ({}) selects every account in the namespace.
	// +required
	AccountSelector metav1.LabelSelector `json:"accountSelector"`
	// retain is an ISO 8601 period such as P7Y, P6M or P90D (PT10M for tests).
	// The longest rule that selects an account wins.
	// +required
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^P([0-9]{1,6}Y)?([0-9]{1,6}M)?([0-9]{1,6}W)?([0-9]{1,6}D)?(T([0-9]{1,6}H)?([0-9]{1,6}M)?([0-9]{1,6}S)?)?$') && self != 'P' && !self.endsWith('T')",message="retain must be an ISO 8601 period such as P7Y, P18M, P90D or PT10M"
	Retain string `json:"retain"`
	// regulation the rule implements; sets the minimum retain.
	// +required
	Regulation Regulation `json:"regulation"`
	// reason for a Custom rule, for auditors.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Reason string `json:"reason,omitempty"`
	// purge schedule and limits.
	// +required
	Purge PurgeSpec `json:"purge"`
}

// PurgeResult is the outcome of one purge run.
type PurgeResult struct {
	// time the run finished.
	Time metav1.Time `json:"time"`
	// cutoff: records sent before it were eligible.
	Cutoff metav1.Time `json:"cutoff"`
	// purged records.
	Purged int64 `json:"purged"`
	// heldBack records eligible but under a legal hold.
	HeldBack int64 `json:"heldBack"`
	// keysDestroyed counts the data keys crypto-shredded: months whose last
	// record the run purged, now unreadable wherever a copy lies.
	// +optional
	KeysDestroyed int32 `json:"keysDestroyed,omitempty"`
	// dryRun is true when nothing was deleted.
	// +optional
	DryRun bool `json:"dryRun,omitempty"`
	// accounts purged (those for which this rule is the longest).
	// +optional
	Accounts int32 `json:"accounts"`
	// certificate is the SHA-256 of the archive's signed purge certificate.
	// +optional
	Certificate string `json:"certificate,omitempty"`
	// error when the run failed.
	// +optional
	Error string `json:"error,omitempty"`
}

// RetentionRuleStatus is the observed state of a RetentionRule.
type RetentionRuleStatus struct {
	// observedGeneration is the generation this status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions: Ready, ScheduleValid, LastPurgeSucceeded.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// lastRun is when the last purge ran.
	// +optional
	LastRun *metav1.Time `json:"lastRun,omitempty"`
	// nextRun is when the next purge is due.
	// +optional
	NextRun *metav1.Time `json:"nextRun,omitempty"`
	// lastResult of the last purge.
	// +optional
	LastResult *PurgeResult `json:"lastResult,omitempty"`
	// selectedAccounts counts the accounts the selector matches.
	// +optional
	SelectedAccounts int32 `json:"selectedAccounts"`
	// governedAccounts counts the accounts for which this rule is the longest,
	// and which it therefore purges.
	// +optional
	GovernedAccounts int32 `json:"governedAccounts"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=rrule,categories=vigil
// +kubebuilder:printcolumn:name="Retain",type=string,JSONPath=`.spec.retain`
// +kubebuilder:printcolumn:name="Regulation",type=string,JSONPath=`.spec.regulation`
// +kubebuilder:printcolumn:name="Schedule",type=string,JSONPath=`.spec.purge.schedule`
// +kubebuilder:printcolumn:name="Accounts",type=integer,JSONPath=`.status.selectedAccounts`
// +kubebuilder:printcolumn:name="Last Purged",type=integer,JSONPath=`.status.lastResult.purged`
// +kubebuilder:printcolumn:name="Next Run",type=string,JSONPath=`.status.nextRun`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// RetentionRule keeps the selected accounts' records for a period, then purges them on a schedule.
type RetentionRule struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`
	// +required
	Spec RetentionRuleSpec `json:"spec"`
	// +optional
	Status RetentionRuleStatus `json:"status,omitzero"`
}

// +kubebuilder:object:root=true

// RetentionRuleList is a list of RetentionRules.
type RetentionRuleList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []RetentionRule `json:"items"`
}

func init() {
	SchemeBuilder.Register(&RetentionRule{}, &RetentionRuleList{})
}

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PolicyMode decides whether findings raise alerts.
// +kubebuilder:validation:Enum=Enforce;Audit
type PolicyMode string

// Policy modes.
const (
	// PolicyEnforce records findings and runs the rules' actions.
	PolicyEnforce PolicyMode = "Enforce"
	// PolicyAudit records findings without alerting, to tune a policy safely.
	PolicyAudit PolicyMode = "Audit"
)

// Category of a rule, the taxonomy compliance teams review by.
// +kubebuilder:validation:Enum=DataLeakage;PersonalData;InsiderTrading;MarketManipulation;Collusion;GiftsEntertainment;MoneyLaundering;Bribery;Harassment;Phishing;Malware;OffChannel;CustomerComplaint;Custom
type Category string

// Detector names a built-in detector of sensitive identifiers.
// +kubebuilder:validation:Enum=ChinaResidentID;HongKongID;TaiwanID;ChinaMobile;UnionPayCard;PaymentCard;IBAN;SWIFT;USCC;Email;CryptoAddress;Passport
type Detector string

// Action taken when a rule fires.
// +kubebuilder:validation:Enum=Record;Alert;Escalate
type Action string

// Language of a lexicon term list.
// +kubebuilder:validation:Enum=zh-Hans;zh-Hant;yue;en
type Language string

// ProximitySpec matches when a term is within a distance of another.
type ProximitySpec struct {
	// terms that must appear near one of the rule's terms.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=1000
	// +kubebuilder:validation:items:MaxLength=256
	Terms []string `json:"terms"`
	// within is the distance in characters, in either direction.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	Within int32 `json:"within"`
}

// KeywordsMatcher matches lexicon terms in every script and common evasion.
// +kubebuilder:validation:XValidation:rule="(has(self.terms) && size(self.terms) > 0) || has(self.termsFrom)",message="keywords needs terms or termsFrom"
type KeywordsMatcher struct {
	// terms written once in Simplified Chinese or English.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=10000
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=256
	Terms []string `json:"terms,omitempty"`
	// termsFrom reads more terms from a ConfigMap key, one a line.
	// +optional
	TermsFrom *ConfigMapKeyReference `json:"termsFrom,omitempty"`
	// proximity requires another term nearby.
	// +optional
	Proximity *ProximitySpec `json:"proximity,omitempty"`
	// exceptions are phrases that cancel a match they contain.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=1000
	// +kubebuilder:validation:items:MaxLength=256
	Exceptions []string `json:"exceptions,omitempty"`
	// languages restricts matching to these languages; all when empty.
	// +optional
	// +listType=set
	Languages []Language `json:"languages,omitempty"`
}

// DetectorsMatcher runs built-in identifier detectors.
type DetectorsMatcher struct {
	// names of the detectors to run.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	Names []Detector `json:"names"`
	// minConfidence (0-100) below which a detection is not a finding.
	// +optional
	// +kubebuilder:default=50
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	MinConfidence int32 `json:"minConfidence,omitempty"`
}

// LinksMatcher flags risky links.
type LinksMatcher struct {
	// shorteners flags URL shorteners.
	// +optional
	Shorteners bool `json:"shorteners,omitempty"`
	// punycode flags internationalised and mixed-script domains.
	// +optional
	Punycode bool `json:"punycode,omitempty"`
	// lookalikeOf lists protected brand domains whose lookalikes are flagged.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=1000
	// +kubebuilder:validation:items:MaxLength=253
	LookalikeOf []string `json:"lookalikeOf,omitempty"`
	// blockDomains are always flagged.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=10000
	// +kubebuilder:validation:items:MaxLength=253
	BlockDomains []string `json:"blockDomains,omitempty"`
	// allowDomains are never flagged.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=10000
	// +kubebuilder:validation:items:MaxLength=253
	AllowDomains []string `json:"allowDomains,omitempty"`
}

// AttachmentsMatcher flags risky attachments.
type AttachmentsMatcher struct {
	// blockTypes are file types (by content, not name) that are flagged, e.g. exe, dll, js.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=32
	BlockTypes []string `json:"blockTypes,omitempty"`
	// macros flags Office documents with macros.
	// +optional
	Macros bool `json:"macros,omitempty"`
	// encryptedArchives flags password-protected archives.
	// +optional
	EncryptedArchives bool `json:"encryptedArchives,omitempty"`
	// maxBytes flags attachments larger than this.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MaxBytes *int64 `json:"maxBytes,omitempty"`
}

// NotifySink is where alerts of a rule go.
type NotifySink struct {
	// name of the sink, as configured in the operator.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// PolicyRule is one named check with exactly one matcher.
// +kubebuilder:validation:XValidation:rule="[has(self.keywords), has(self.regex), has(self.detectors), has(self.links), has(self.attachments), has(self.expression)].filter(m, m).size() == 1",message="a rule needs exactly one matcher: set one of keywords, regex, detectors, links, attachments or expression"
type PolicyRule struct {
	// name of the rule, unique in the policy.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`
	// category of what the rule finds.
	// +required
	Category Category `json:"category"`
	// severity of a finding.
	// +required
	Severity Severity `json:"severity"`
	// keywords matcher.
	// +optional
	Keywords *KeywordsMatcher `json:"keywords,omitempty"`
	// regex matcher (RE2 syntax), evaluated on the normalised text.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	Regex *string `json:"regex,omitempty"`
	// detectors matcher.
	// +optional
	Detectors *DetectorsMatcher `json:"detectors,omitempty"`
	// links matcher.
	// +optional
	Links *LinksMatcher `json:"links,omitempty"`
	// attachments matcher.
	// +optional
	Attachments *AttachmentsMatcher `json:"attachments,omitempty"`
	// expression is CEL over the record and earlier findings.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	Expression *string `json:"expression,omitempty"`
	// actions when the rule fires; Record when empty.
	// +optional
	// +listType=set
	Actions []Action `json:"actions,omitempty"`
	// notify sinks for alerts.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	Notify []NotifySink `json:"notify,omitempty"`
}

// CompliancePolicySpec is a set of rules applied to the accounts it selects.
type CompliancePolicySpec struct {
	// accountSelector selects MonitoredAccounts in the policy's namespace by
	// label. An empty selector ({}) selects every account in the namespace.
	// +required
	AccountSelector metav1.LabelSelector `json:"accountSelector"`
	// mode is Enforce or Audit.
	// +optional
	// +kubebuilder:default=Enforce
	Mode PolicyMode `json:"mode,omitempty"`
	// rules of the policy.
	// +required
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=256
	Rules []PolicyRule `json:"rules"`
}

// RuleError names a rule that did not compile.
type RuleError struct {
	// rule name.
	Rule string `json:"rule"`
	// message says what is wrong.
	Message string `json:"message"`
}

// CompliancePolicyStatus is the observed state of a CompliancePolicy.
type CompliancePolicyStatus struct {
	// observedGeneration is the generation this status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions: Ready, Valid.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// ruleErrors lists every rule that did not compile, by name.
	// +optional
	// +listType=atomic
	RuleErrors []RuleError `json:"ruleErrors,omitempty"`
	// selectedAccounts counts the MonitoredAccounts the selector matches.
	// +optional
	SelectedAccounts int32 `json:"selectedAccounts"`
	// bundleDigest is the SHA-256 of the policy's canonical compiled form.
	// +optional
	BundleDigest string `json:"bundleDigest,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=cpol,categories=vigil
// +kubebuilder:printcolumn:name="Mode",type=string,JSONPath=`.spec.mode`
// +kubebuilder:printcolumn:name="Accounts",type=integer,JSONPath=`.status.selectedAccounts`
// +kubebuilder:printcolumn:name="Valid",type=string,JSONPath=`.status.conditions[?(@.type=="Valid")].status`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// CompliancePolicy is a set of supervision rules for the accounts it selects.
type CompliancePolicy struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`
	// +required
	Spec CompliancePolicySpec `json:"spec"`
	// +optional
	Status CompliancePolicyStatus `json:"status,omitzero"`
}

// +kubebuilder:object:root=true

// CompliancePolicyList is a list of CompliancePolicies.
type CompliancePolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []CompliancePolicy `json:"items"`
}

func init() {
	SchemeBuilder.Register(&CompliancePolicy{}, &CompliancePolicyList{})
}

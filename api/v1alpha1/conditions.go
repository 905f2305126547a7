package v1alpha1

// Condition types. Ready summarises the others on every kind: it is True only
// when every other condition of the object is in its good state, and its reason
// is then the reason of the first condition that is not.
const (
	ConditionReady = "Ready"

	// MonitoredAccount.
	ConditionCredentialsValid   = "CredentialsValid"
	ConditionConnectorAvailable = "ConnectorAvailable"
	ConditionPoliciesAttached   = "PoliciesAttached"
	ConditionCaptureHealthy     = "CaptureHealthy"
	ConditionCompromised        = "Compromised"

	// CompliancePolicy.
	ConditionValid = "Valid"

	// RetentionRule.
	ConditionScheduleValid      = "ScheduleValid"
	ConditionLastPurgeSucceeded = "LastPurgeSucceeded"

	// LegalHold.
	ConditionHoldRegistered = "HoldRegistered"
)

// Condition reasons. They double as Event reasons, so a `kubectl describe` reads
// the same words in both places.
const (
	ReasonReady      = "Ready"
	ReasonReconciled = "Reconciled"

	// CredentialsValid.
	ReasonCredentialsFound       = "CredentialsFound"
	ReasonCredentialsNotRequired = "CredentialsNotRequired"
	ReasonSecretNotFound         = "SecretNotFound"
	ReasonSecretKeyMissing       = "SecretKeyMissing"
	ReasonCredentialsInvalid     = "CredentialsInvalid"

	// ConnectorAvailable.
	ReasonConnectorReady       = "ConnectorReady"
	ReasonConnectorProgressing = "ConnectorProgressing"
	ReasonConnectorSuspended   = "ConnectorSuspended"
	ReasonConnectorRenderError = "ConnectorRenderFailed"

	// PoliciesAttached.
	ReasonPoliciesAttached = "PoliciesAttached"
	ReasonNoPolicies       = "NoPolicies"
	ReasonPolicyInvalid    = "PolicyInvalid"

	// CaptureHealthy.
	ReasonCaptureCurrent     = "CaptureCurrent"
	ReasonAwaitingTraffic    = "AwaitingTraffic"
	ReasonCaptureLagging     = "CaptureLagging"
	ReasonArchiveUnreachable = "ArchiveUnreachable"

	// Compromised.
	ReasonNoIndicators = "NoIndicators"

	// Valid (CompliancePolicy).
	ReasonRulesCompiled   = "RulesCompiled"
	ReasonInvalidRule     = "InvalidRule"
	ReasonInvalidSelector = "InvalidSelector"

	// ScheduleValid and LastPurgeSucceeded (RetentionRule).
	ReasonScheduleParsed   = "ScheduleParsed"
	ReasonInvalidSchedule  = "InvalidSchedule"
	ReasonInvalidTimeZone  = "InvalidTimeZone"
	ReasonInvalidPeriod    = "InvalidPeriod"
	ReasonPurgeSucceeded   = "PurgeSucceeded"
	ReasonPurgeDryRun      = "PurgeDryRun"
	ReasonPurgeFailed      = "PurgeFailed"
	ReasonPurgeSuspended   = "PurgeSuspended"
	ReasonPurgeNotYetRun   = "PurgeNotYetRun"
	ReasonSupersededByRule = "SupersededByLongerRule"

	// HoldRegistered (LegalHold).
	ReasonHoldRegistered = "HoldRegistered"
	ReasonHoldFailed     = "HoldRegistrationFailed"
	ReasonHoldReleased   = "HoldReleased"
)

// Finalizers. Only kinds that hold state outside the API server get one.
const (
	// FinalizerReleaseHold makes deleting a LegalHold release it in the archive
	// first, so that a release is always recorded there and never silent.
	FinalizerReleaseHold = "compliance.vigil.dev/release-hold"
)

// Labels and annotations Vigil sets on what it creates.
const (
	LabelAccount       = "compliance.vigil.dev/account"
	LabelAppName       = "app.kubernetes.io/name"
	LabelAppInstance   = "app.kubernetes.io/instance"
	LabelAppComponent  = "app.kubernetes.io/component"
	LabelAppManagedBy  = "app.kubernetes.io/managed-by"
	AnnotationBundle   = "compliance.vigil.dev/policy-bundle-digest"
	AnnotationConfig   = "compliance.vigil.dev/config-digest"
	ManagedByVigil     = "vigil-operator"
	ConnectorComponent = "connector"
)

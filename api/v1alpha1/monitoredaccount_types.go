package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Channel is the chat channel an account is captured from.
// +kubebuilder:validation:Enum=WeComArchive;WeComCallback;WeChatOfficialAccount;WhatsApp;Slack;Telegram;LINE;Webhook;Simulator
type Channel string

// Channels. Each has a page in docs/channels with its Secret keys and its
// mapping to capture.v1.
const (
	// ChannelWeComArchive pulls a WeCom corporation's chat archive (会话内容存档)
	// through the vendor's Finance SDK (docs/channels/wecom-archive.md).
	ChannelWeComArchive Channel = "WeComArchive"
	// ChannelWeComCallback receives a WeCom app's encrypted callbacks and
	// syncs WeChat Customer Service (微信客服) messages (docs/channels/wecom-callback.md).
	ChannelWeComCallback Channel = "WeComCallback"
	// ChannelWeChatOfficialAccount receives a WeChat Official Account's (公众号)
	// message pushes (docs/channels/wechat-official-account.md).
	ChannelWeChatOfficialAccount Channel = "WeChatOfficialAccount"
	// ChannelWhatsApp receives WhatsApp Cloud API webhooks (docs/channels/whatsapp.md).
	ChannelWhatsApp Channel = "WhatsApp"
	// ChannelSlack receives Slack Events API requests (docs/channels/slack.md).
	ChannelSlack Channel = "Slack"
	// ChannelTelegram receives Telegram Bot API webhooks, including business
	// messages (docs/channels/telegram.md).
	ChannelTelegram Channel = "Telegram"
	// ChannelLINE receives LINE Messaging API webhooks (docs/channels/line.md).
	ChannelLINE Channel = "LINE"
	// ChannelWebhook is the generic signed JSON webhook (docs/channels/webhook.md).
	ChannelWebhook Channel = "Webhook"
	// ChannelSimulator generates realistic multilingual traffic for demos and tests.
	ChannelSimulator Channel = "Simulator"
)

// WeComSDKMode is how the archive channel reaches the vendor's Finance SDK.
// +kubebuilder:validation:Enum=Native;Bridge
type WeComSDKMode string

// SDK modes.
const (
	// WeComSDKNative links the vendor's C library into the connector (an
	// image built with the wecomsdk tag, the library mounted by the customer).
	WeComSDKNative WeComSDKMode = "Native"
	// WeComSDKBridge calls an SDK bridge over HTTP on bridgeURL (a sidecar
	// that wraps the library, or the fake that vigil dev runs).
	WeComSDKBridge WeComSDKMode = "Bridge"
)

// WeComSpec configures the WeCom channels.
// +kubebuilder:validation:XValidation:rule="self.sdkMode != 'Bridge' || has(self.sdkBridgeURL)",message="sdkBridgeURL is required when sdkMode is Bridge",fieldPath=".sdkBridgeURL"
type WeComSpec struct {
	// apiBaseURL is the WeCom server API (access tokens, msgaudit and
	// customer-service APIs).
	// +optional
	// +kubebuilder:default="https://qyapi.weixin.qq.com"
	// +kubebuilder:validation:Pattern=`^https?://[^\s/]+(/[^\s]*)?$`
	// +kubebuilder:validation:MaxLength=512
	APIBaseURL string `json:"apiBaseURL,omitempty"`
	// sdkMode is how the archive channel reaches the Finance SDK.
	// +optional
	// +kubebuilder:default=Native
	SDKMode WeComSDKMode `json:"sdkMode,omitempty"`
	// sdkBridgeURL is the SDK bridge's address when sdkMode is Bridge.
	// +optional
	// +kubebuilder:validation:Pattern=`^https?://[^\s/]+(/[^\s]*)?$`
	// +kubebuilder:validation:MaxLength=512
	SDKBridgeURL string `json:"sdkBridgeURL,omitempty"`
	// pollInterval is how often the archive is pulled when no msgaudit_notify
	// callback arrives.
	// +optional
	// +kubebuilder:default="1m"
	PollInterval *metav1.Duration `json:"pollInterval,omitempty"`
	// pullLimit is the number of messages asked for in one GetChatData call.
	// +optional
	// +kubebuilder:default=1000
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	PullLimit int32 `json:"pullLimit,omitempty"`
}

// WeChatMessageMode is an Official Account's message encryption mode.
// +kubebuilder:validation:Enum=Plaintext;Compatible;Secure
type WeChatMessageMode string

// Official Account modes (明文模式, 兼容模式, 安全模式).
const (
	WeChatModePlaintext  WeChatMessageMode = "Plaintext"
	WeChatModeCompatible WeChatMessageMode = "Compatible"
	WeChatModeSecure     WeChatMessageMode = "Secure"
)

// WeChatOfficialAccountSpec configures the Official Account channel.
type WeChatOfficialAccountSpec struct {
	// mode must match the account's setting in the WeChat admin console.
	// Pushes in any other mode are refused, so a downgrade to plaintext is
	// noticed.
	// +optional
	// +kubebuilder:default=Secure
	Mode WeChatMessageMode `json:"mode,omitempty"`
}

// AccountState is the operating state an administrator sets for an account.
// +kubebuilder:validation:Enum=Active;Suspended;Quarantined
type AccountState string

// Account states.
const (
	// AccountActive captures normally.
	AccountActive AccountState = "Active"
	// AccountSuspended stops the connector; archived messages stay.
	AccountSuspended AccountState = "Suspended"
	// AccountQuarantined keeps capturing but marks the account as under
	// investigation (for example a suspected compromise).
	AccountQuarantined AccountState = "Quarantined"
)

// PrivacyMode decides what reviewers see of an account's messages.
// +kubebuilder:validation:Enum=Standard;TotalPrivacy
type PrivacyMode string

// Privacy modes.
const (
	PrivacyStandard PrivacyMode = "Standard"
	// PrivacyTotal shows reviewers findings with masked evidence only; revealing
	// content needs a reason and a second approver.
	PrivacyTotal PrivacyMode = "TotalPrivacy"
)

// Direction of a message relative to the monitored organisation.
// +kubebuilder:validation:Enum=inbound;outbound;internal
type Direction string

// Custodian is the person whose account this is, for review and eDiscovery.
type Custodian struct {
	// name is the custodian's full name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	Name string `json:"name"`
	// email is the custodian's work email address.
	// +optional
	// +kubebuilder:validation:MaxLength=254
	// +kubebuilder:validation:Pattern=`^[^@\s]+@[^@\s]+$`
	Email string `json:"email,omitempty"`
	// employeeID is the HR identifier, used to join with other archives.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	EmployeeID string `json:"employeeID,omitempty"`
	// department of the custodian.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Department string `json:"department,omitempty"`
}

// CaptureSpec says what to capture.
type CaptureSpec struct {
	// attachments enables capture of attachment content (metadata is always captured).
	// +optional
	// +kubebuilder:default=true
	Attachments *bool `json:"attachments,omitempty"`
	// maxAttachmentBytes caps the size of one captured attachment.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=2147483648
	MaxAttachmentBytes *int64 `json:"maxAttachmentBytes,omitempty"`
	// directions to capture; all when empty. Regulations usually require all.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=3
	Directions []Direction `json:"directions,omitempty"`
}

// PrivacySpec configures what reviewers see.
type PrivacySpec struct {
	// mode is Standard or TotalPrivacy.
	// +optional
	// +kubebuilder:default=Standard
	Mode PrivacyMode `json:"mode,omitempty"`
}

// SimulatorSpec configures the Simulator channel.
type SimulatorSpec struct {
	// messagesPerMinute is the rate of generated messages.
	// +optional
	// +kubebuilder:default=60
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=600000
	MessagesPerMinute int32 `json:"messagesPerMinute,omitempty"`
	// seed makes the generated traffic reproducible.
	// +optional
	Seed int64 `json:"seed,omitempty"`
}

// ConnectorSpec tunes the connector pod of the account.
type ConnectorSpec struct {
	// image overrides the connector image the operator was configured with.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Image string `json:"image,omitempty"`
	// resources of the connector container.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// nodeSelector for the connector pod.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// tolerations for the connector pod.
	// +optional
	// +listType=atomic
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
	// spoolSize is the size of the connector's durable spool volume. Messages
	// wait there while the archive is unreachable.
	// +optional
	// +kubebuilder:default="1Gi"
	SpoolSize *resource.Quantity `json:"spoolSize,omitempty"`
}

// MonitoredAccountSpec is one enrolled chat account.
// +kubebuilder:validation:XValidation:rule="self.channel == 'Simulator' || has(self.credentialsSecretRef)",message="credentialsSecretRef is required for this channel: name a Secret holding the channel's credentials (see docs/channels)",fieldPath=".credentialsSecretRef"
// +kubebuilder:validation:XValidation:rule="!has(self.simulator) || self.channel == 'Simulator'",message="simulator settings are only valid with channel Simulator",fieldPath=".simulator"
// +kubebuilder:validation:XValidation:rule="!has(self.wecom) || self.channel in ['WeComArchive', 'WeComCallback']",message="wecom settings are only valid with channel WeComArchive or WeComCallback",fieldPath=".wecom"
// +kubebuilder:validation:XValidation:rule="!has(self.wechatOfficialAccount) || self.channel == 'WeChatOfficialAccount'",message="wechatOfficialAccount settings are only valid with channel WeChatOfficialAccount",fieldPath=".wechatOfficialAccount"
// +kubebuilder:validation:XValidation:rule="!(self.channel in ['WeComArchive', 'WeComCallback']) || self.externalID.matches('^w[wx][0-9A-Za-z]{6,62}$')",message="externalID of a WeCom account is the corp id (企业ID, starting ww or wx) from My Company > Company Information",fieldPath=".externalID"
// +kubebuilder:validation:XValidation:rule="self.channel != 'WeChatOfficialAccount' || self.externalID.matches('^wx[0-9A-Za-z]{6,62}$')",message="externalID of an Official Account is its AppID (starting wx) from the developer settings",fieldPath=".externalID"
// +kubebuilder:validation:XValidation:rule="self.channel != 'WhatsApp' || self.externalID.matches('^[0-9]{1,32}$')",message="externalID of a WhatsApp account is the phone number ID (digits) from WhatsApp Manager, not the phone number",fieldPath=".externalID"
// +kubebuilder:validation:XValidation:rule="self.channel != 'Slack' || self.externalID.matches('^[TE][A-Z0-9]{2,30}$')",message="externalID of a Slack account is the workspace (team) id such as T0123ABCD, or an Enterprise Grid id starting E",fieldPath=".externalID"
// +kubebuilder:validation:XValidation:rule="self.channel != 'Telegram' || self.externalID.matches('^[0-9]{1,20}$')",message="externalID of a Telegram account is the bot's numeric id: the digits before ':' in its token",fieldPath=".externalID"
// +kubebuilder:validation:XValidation:rule="self.channel != 'LINE' || self.externalID.matches('^U[0-9a-f]{32}$')",message="externalID of a LINE account is the bot's user id (U followed by 32 hex digits), the destination of its webhooks",fieldPath=".externalID"
// +kubebuilder:validation:XValidation:rule="self.channel == oldSelf.channel",message="channel is immutable: enrol the account again under a new MonitoredAccount",fieldPath=".channel"
type MonitoredAccountSpec struct {
	// channel the account is captured from.
	// +required
	Channel Channel `json:"channel"`

	// externalID is the channel's identifier of the account: the corp id
	// (WeCom), app id (Official Account), phone number id (WhatsApp), team id
	// (Slack), bot id (Telegram) or bot user id (LINE). Signed traffic
	// addressed to anyone else is refused.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	ExternalID string `json:"externalID"`

	// custodian is the person the account belongs to.
	// +required
	Custodian Custodian `json:"custodian"`

	// credentialsSecretRef names a Secret in the same namespace with the
	// channel's credentials; the keys each channel needs are in docs/channels.
	// +optional
	CredentialsSecretRef *LocalObjectReference `json:"credentialsSecretRef,omitempty"`

	// capture says what to capture.
	// +optional
	Capture CaptureSpec `json:"capture,omitempty"`

	// privacy configures what reviewers see.
	// +optional
	Privacy PrivacySpec `json:"privacy,omitempty"`

	// state is Active, Suspended (connector stopped) or Quarantined.
	// +optional
	// +kubebuilder:default=Active
	State AccountState `json:"state,omitempty"`

	// simulator settings, for channel Simulator only.
	// +optional
	Simulator *SimulatorSpec `json:"simulator,omitempty"`

	// wecom settings, for channels WeComArchive and WeComCallback.
	// +optional
	WeCom *WeComSpec `json:"wecom,omitempty"`

	// wechatOfficialAccount settings, for channel WeChatOfficialAccount.
	// +optional
	WeChatOfficialAccount *WeChatOfficialAccountSpec `json:"wechatOfficialAccount,omitempty"`

	// connector tunes the connector pod.
	// +optional
	Connector ConnectorSpec `json:"connector,omitempty"`
}

// EffectiveRetention is the retention in force for an account: the longest of
// every RetentionRule that selects it.
type EffectiveRetention struct {
	// retain is the ISO 8601 period records are kept for.
	Retain string `json:"retain"`
	// rule is the RetentionRule that sets it.
	Rule string `json:"rule"`
	// regulation of that rule.
	Regulation Regulation `json:"regulation"`
}

// CaptureStatus is what the archive has received from the account.
type CaptureStatus struct {
	// messagesCaptured is the number of records archived for the account.
	// +optional
	MessagesCaptured int64 `json:"messagesCaptured"`
	// lastMessageTime is the send time of the newest archived record.
	// +optional
	LastMessageTime *metav1.Time `json:"lastMessageTime,omitempty"`
	// lastHeartbeatTime is when the archive last received a batch from the connector.
	// +optional
	LastHeartbeatTime *metav1.Time `json:"lastHeartbeatTime,omitempty"`
}

// FindingsStatus counts policy findings on the account's records.
type FindingsStatus struct {
	// open findings not yet reviewed.
	// +optional
	Open int64 `json:"open"`
	// total findings.
	// +optional
	Total int64 `json:"total"`
}

// MonitoredAccountStatus is the observed state of a MonitoredAccount.
type MonitoredAccountStatus struct {
	// observedGeneration is the generation this status was computed from.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions: Ready, CredentialsValid, ConnectorAvailable, PoliciesAttached,
	// CaptureHealthy, Compromised.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// attachedPolicies are the CompliancePolicies that select the account, sorted.
	// +optional
	// +listType=set
	AttachedPolicies []string `json:"attachedPolicies,omitempty"`
	// policyBundleDigest is the digest of the compiled policy bundle the
	// connector is running.
	// +optional
	PolicyBundleDigest string `json:"policyBundleDigest,omitempty"`
	// effectiveRetention is the retention in force; absent means no rule selects
	// the account, and its records are never purged.
	// +optional
	EffectiveRetention *EffectiveRetention `json:"effectiveRetention,omitempty"`
	// capture statistics read from the archive.
	// +optional
	Capture CaptureStatus `json:"capture,omitzero"`
	// findings statistics read from the archive.
	// +optional
	Findings FindingsStatus `json:"findings,omitzero"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=macct,categories=vigil
// +kubebuilder:printcolumn:name="Channel",type=string,JSONPath=`.spec.channel`
// +kubebuilder:printcolumn:name="Custodian",type=string,JSONPath=`.spec.custodian.name`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Policies",type=string,JSONPath=`.status.attachedPolicies`
// +kubebuilder:printcolumn:name="Retention",type=string,JSONPath=`.status.effectiveRetention.retain`
// +kubebuilder:printcolumn:name="Messages",type=integer,JSONPath=`.status.capture.messagesCaptured`
// +kubebuilder:printcolumn:name="Findings",type=integer,JSONPath=`.status.findings.open`
// +kubebuilder:printcolumn:name="Last Message",type=date,JSONPath=`.status.capture.lastMessageTime`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// MonitoredAccount enrols one chat account for capture, supervision and retention.
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 63 && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must be a DNS label (lower case letters, digits and '-', starting with a letter, at most 63 characters): it names the connector's Service and pods"
type MonitoredAccount struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`
	// +required
	Spec MonitoredAccountSpec `json:"spec"`
	// +optional
	Status MonitoredAccountStatus `json:"status,omitzero"`
}

// +kubebuilder:object:root=true

// MonitoredAccountList is a list of MonitoredAccounts.
type MonitoredAccountList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []MonitoredAccount `json:"items"`
}

func init() {
	SchemeBuilder.Register(&MonitoredAccount{}, &MonitoredAccountList{})
}

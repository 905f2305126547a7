// Package capture defines capture.v1, the one record every channel produces, with
// its identifiers and dedupe keys. Connectors, the archive, `vigil scan` and the
// exports all exchange these records as NDJSON (one JSON object a line).
package capture

import (
	"time"
)

// SchemaVersion is the value of Record.SchemaVersion for this package's records.
const SchemaVersion = "capture.v1"

// Kind says what a record is. Edits, recalls and reactions are new records that
// point at their target; they never mutate the original.
type Kind string

// Record kinds.
const (
	KindMessage    Kind = "message"
	KindEdit       Kind = "edit"
	KindRecall     Kind = "recall"
	KindReaction   Kind = "reaction"
	KindConsent    Kind = "consent"
	KindMembership Kind = "membership"
	KindStatus     Kind = "status"
	// KindSystem marks records the connector itself writes, such as capture gaps,
	// so that an auditor sees coverage holes in the archive.
	KindSystem Kind = "system"
)

// Direction is relative to the monitored organisation.
type Direction string

// Directions.
const (
	DirectionInbound  Direction = "inbound"
	DirectionOutbound Direction = "outbound"
	DirectionInternal Direction = "internal"
)

// Affiliation of a participant relative to the monitored organisation.
type Affiliation string

// Affiliations.
const (
	AffiliationInternal Affiliation = "internal"
	AffiliationExternal Affiliation = "external"
	AffiliationBot      Affiliation = "bot"
	AffiliationSystem   Affiliation = "system"
	AffiliationUnknown  Affiliation = "unknown"
)

// Record is one captured event in the capture.v1 schema.
type Record struct {
	SchemaVersion string `json:"schemaVersion"`
	// ID is a ULID assigned by the connector when it first sees the event.
	ID string `json:"id"`
	// DedupKey is sha256(channel|tenant|nativeID|kind|target) in hex: the same
	// event delivered twice by a channel, or shipped twice after a crash, has the
	// same key and is stored once.
	DedupKey string `json:"dedupKey"`
	Channel  string `json:"channel"`
	Tenant   string `json:"tenant,omitempty"`
	// Account is the channel's identifier for the captured mailbox (agent id,
	// phone number id, bot id...).
	Account      string        `json:"account,omitempty"`
	NativeID     string        `json:"nativeID"`
	NativeSeq    *uint64       `json:"nativeSeq,omitempty"`
	Kind         Kind          `json:"kind"`
	Conversation Conversation  `json:"conversation"`
	Sender       Participant   `json:"sender"`
	Recipients   []Participant `json:"recipients,omitempty"`
	Direction    Direction     `json:"direction,omitempty"`
	MsgType      string        `json:"msgType,omitempty"`
	NativeType   string        `json:"nativeType,omitempty"`
	Text         string        `json:"text,omitempty"`
	Mentions     []string      `json:"mentions,omitempty"`
	Attachments  []Attachment  `json:"attachments,omitempty"`
	ReplyTo      string        `json:"replyTo,omitempty"`
	Target       string        `json:"target,omitempty"`
	// Reaction is set on records of kind reaction.
	Reaction *Reaction `json:"reaction,omitempty"`
	// Consent is set on records of kind consent (for example a WeCom external
	// contact agreeing to, or refusing, archiving).
	Consent    *Consent   `json:"consent,omitempty"`
	SentAt     time.Time  `json:"sentAt"`
	EditedAt   *time.Time `json:"editedAt,omitempty"`
	CapturedAt time.Time  `json:"capturedAt"`
	Raw        RawRef     `json:"raw"`
	Provenance Provenance `json:"provenance"`
}

// Conversation identifies where a message was sent.
type Conversation struct {
	ID       string `json:"id"`
	Type     string `json:"type,omitempty"` // direct, group, channel, thread, customer_service, broadcast
	Name     string `json:"name,omitempty"`
	ThreadID string `json:"threadID,omitempty"`
}

// Participant is a sender or recipient.
type Participant struct {
	ID          string      `json:"id"`
	IDType      string      `json:"idType,omitempty"`
	DisplayName string      `json:"displayName,omitempty"`
	Affiliation Affiliation `json:"affiliation,omitempty"`
	Org         string      `json:"org,omitempty"`
}

// Reaction is an emoji reaction added to or removed from Target.
type Reaction struct {
	Emoji   string `json:"emoji"`
	Removed bool   `json:"removed,omitempty"`
}

// Consent states.
const (
	ConsentAgree        = "agree"
	ConsentDisagree     = "disagree"
	ConsentDefaultAgree = "default_agree"
)

// Consent is a participant's recorded consent to capture.
type Consent struct {
	SubjectID string    `json:"subjectID"`
	State     string    `json:"state"` // agree, disagree, default_agree
	At        time.Time `json:"at"`
}

// Attachment describes a file sent with a message; content is stored apart.
type Attachment struct {
	NativeRef string `json:"nativeRef,omitempty"`
	Name      string `json:"name,omitempty"`
	MIME      string `json:"mime,omitempty"`
	Size      int64  `json:"size,omitempty"`
	SHA256    string `json:"sha256,omitempty"`
	// ProviderMD5 is the checksum the provider sent (WeCom md5sum), kept to
	// show that the stored copy is the one the provider described.
	ProviderMD5 string `json:"providerMD5,omitempty"`
	State       string `json:"state,omitempty"` // pending, stored, failed, expired, too_large
}

// RawRef points at the provider payload the record was normalised from.
type RawRef struct {
	SHA256      string `json:"sha256,omitempty"`
	Size        int64  `json:"size,omitempty"`
	ContentType string `json:"contentType,omitempty"`
	// Envelope names the transport encryption the payload arrived in
	// (wecom-aes, wecom-archive-rsa, none); the hash is of the plaintext.
	Envelope string `json:"envelope,omitempty"`
}

// Provenance records how the connector obtained and authenticated the event.
type Provenance struct {
	Connector   string `json:"connector,omitempty"`
	Version     string `json:"version,omitempty"`
	SigVerified bool   `json:"sigVerified"`
	SigScheme   string `json:"sigScheme,omitempty"`
	KeyVersion  string `json:"keyVersion,omitempty"`
	// Redelivery is true when the provider marked the delivery as a retry.
	Redelivery bool `json:"redelivery,omitempty"`
	// Cursor is the pull position the record came from (WeCom seq, a sync
	// cursor), so an auditor can replay the capture.
	Cursor string `json:"cursor,omitempty"`
}

package capture

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Limits on a record's fields. They bound what one record can cost the archive and
// the policy engine; the connector refuses larger input before it is spooled.
const (
	MaxTextBytes         = 256 << 10
	MaxIDBytes           = 512
	MaxRecipients        = 10000
	MaxAttachments       = 100
	MaxEncodedRecord     = 1 << 20
	maxDisplayBytes      = 1024
	MaxConversationBytes = 1024
)

var validKinds = map[Kind]bool{
	KindMessage: true, KindEdit: true, KindRecall: true, KindReaction: true,
	KindConsent: true, KindMembership: true, KindStatus: true, KindSystem: true,
}

// ErrInvalid wraps every validation failure, so callers can count them apart
// from I/O errors.
var ErrInvalid = errors.New("invalid capture.v1 record")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Validate checks that a record is complete and within limits, and that its
// dedupKey matches its identifying fields.
func (r *Record) Validate() error {
	switch {
	case r.SchemaVersion != SchemaVersion:
		return invalid("schemaVersion must be %q, got %q", SchemaVersion, r.SchemaVersion)
	case !IsULID(r.ID):
		return invalid("id must be a ULID, got %q", truncate(r.ID))
	case r.Channel == "" || len(r.Channel) > 64:
		return invalid("channel must be 1 to 64 bytes")
	case r.NativeID == "" || len(r.NativeID) > MaxIDBytes:
		return invalid("nativeID must be 1 to %d bytes", MaxIDBytes)
	case !validKinds[r.Kind]:
		return invalid("kind %q is not one of message, edit, recall, reaction, consent, membership, status, system", truncate(string(r.Kind)))
	case len(r.Tenant) > MaxIDBytes || len(r.Account) > MaxIDBytes || len(r.Target) > MaxIDBytes || len(r.ReplyTo) > MaxIDBytes:
		return invalid("tenant, account, target and replyTo must each be at most %d bytes", MaxIDBytes)
	case len(r.Conversation.ID) > MaxConversationBytes || len(r.Conversation.Name) > MaxConversationBytes:
		return invalid("conversation id and name must each be at most %d bytes", MaxConversationBytes)
	case len(r.Text) > MaxTextBytes:
		return invalid("text is %d bytes; the limit is %d", len(r.Text), MaxTextBytes)
	case !utf8.ValidString(r.Text):
		return invalid("text is not valid UTF-8")
	case len(r.Recipients) > MaxRecipients:
		return invalid("%d recipients; the limit is %d", len(r.Recipients), MaxRecipients)
	case len(r.Attachments) > MaxAttachments:
		return invalid("%d attachments; the limit is %d", len(r.Attachments), MaxAttachments)
	case r.SentAt.IsZero() || r.CapturedAt.IsZero():
		return invalid("sentAt and capturedAt are required")
	}
	if err := r.validateKindDetail(); err != nil {
		return err
	}
	if err := r.Sender.validate("sender"); err != nil {
		return err
	}
	for i := range r.Recipients {
		if err := r.Recipients[i].validate(fmt.Sprintf("recipients[%d]", i)); err != nil {
			return err
		}
	}
	if want := DedupKey(r.Channel, r.Tenant, r.NativeID, r.Kind, r.Target); r.DedupKey != want {
		return invalid("dedupKey does not match channel, tenant, nativeID, kind and target")
	}
	return nil
}

func (p *Participant) validate(field string) error {
	if len(p.ID) > MaxIDBytes || len(p.DisplayName) > maxDisplayBytes || len(p.Org) > MaxIDBytes {
		return invalid("%s has an over-long id, displayName or org", field)
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

var validConsentStates = map[string]bool{ConsentAgree: true, ConsentDisagree: true, ConsentDefaultAgree: true}

// validateKindDetail checks the parts that only some kinds carry. They are
// optional: the generic webhook can report a reaction without its emoji.
func (r *Record) validateKindDetail() error {
	switch {
	case r.Reaction != nil && !r.Reaction.Removed && r.Reaction.Emoji == "":
		return invalid("reaction.emoji is required unless the reaction was removed")
	case r.Reaction != nil && len(r.Reaction.Emoji) > maxDisplayBytes:
		return invalid("reaction.emoji must be at most %d bytes", maxDisplayBytes)
	case r.Consent != nil && !validConsentStates[r.Consent.State]:
		return invalid("consent.state %q is not one of agree, disagree, default_agree", truncate(r.Consent.State))
	case r.Consent != nil && (r.Consent.SubjectID == "" || len(r.Consent.SubjectID) > MaxIDBytes):
		return invalid("consent.subjectID must be 1 to %d bytes", MaxIDBytes)
	}
	return nil
}

package export

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/capture"
)

func TestMembershipAction(t *testing.T) {
	for nativeType, want := range map[string]string{
		"message:channel_join": "join", "member_joined_channel": "join", "memberJoined": "join", "join": "join",
		"follow": "join", "event.subscribe": "join", "event.change_external_chat.add_member": "join", "event.enter_session": "join",
		"message:channel_leave": "leave", "member_left_channel": "leave", "memberLeft": "leave", "unfollow": "leave",
		"event.unsubscribe": "leave", "event.change_external_contact.del_follow_user": "leave", "event.change_external_chat.del_member": "leave",
		"event.change_contact.update_user": "",
	} {
		if got := membershipAction(&capture.Record{NativeType: nativeType}); got != want {
			t.Errorf("%s: %q, want %q", nativeType, got, want)
		}
	}
}

func TestReceiptAction(t *testing.T) {
	for nativeType, want := range map[string]string{"read": "read", "delivered": "delivered", "sent": "", "failed": "", "switch": ""} {
		if got := receiptAction(&capture.Record{NativeType: nativeType}); got != want {
			t.Errorf("%s: %q, want %q", nativeType, got, want)
		}
	}
}

func TestBodyDescribesEveryKind(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		rec  capture.Record
		want string
	}{
		{capture.Record{Kind: capture.KindMessage, Text: "早晨"}, "早晨"},
		{capture.Record{Kind: capture.KindEdit, Target: "m1", Text: "new"}, "[edited message m1; new text follows]\nnew"},
		{capture.Record{Kind: capture.KindRecall, Target: "m1"}, "[recalled message m1]"},
		{capture.Record{Kind: capture.KindReaction, Target: "m1", Reaction: &capture.Reaction{Emoji: "👍"}}, "[reacted 👍 to message m1]"},
		{capture.Record{Kind: capture.KindReaction, Target: "m1", Reaction: &capture.Reaction{Emoji: "👍", Removed: true}}, "[removed reaction 👍 from message m1]"},
		{capture.Record{Kind: capture.KindConsent, Consent: &capture.Consent{SubjectID: "wm1", State: "disagree", At: at}}, "[archiving consent: disagree by wm1 at 2026-03-02T09:00:00.000Z]"},
		{capture.Record{Kind: capture.KindMembership, NativeType: "memberJoined", Recipients: []capture.Participant{{ID: "U1", DisplayName: "张三"}}}, "[张三 (U1) joined (memberJoined)]"},
		{capture.Record{Kind: capture.KindStatus, NativeType: "failed", Target: "w1", Text: "131047 Re-engagement message"}, "[status failed of message w1]\n131047 Re-engagement message"},
		{capture.Record{Kind: capture.KindSystem, NativeType: "vigil.capture_gap"}, "[system event vigil.capture_gap]"},
	} {
		if got := body(&c.rec); got != c.want {
			t.Errorf("%s: %q, want %q", c.rec.Kind, got, c.want)
		}
	}
}

func TestAttachmentLineSaysWhatIsMissing(t *testing.T) {
	a := capture.Attachment{Name: "IMG.jpg", MIME: "image/jpeg", Size: 10, State: "expired"}
	if got := attachmentLine(0, a, ""); got != "1. IMG.jpg (image/jpeg, 10 bytes): content not in this export (state expired)" {
		t.Errorf("%q", got)
	}
	if got := attachmentLine(1, capture.Attachment{}, "attachments/X/1-attachment"); got != "2. (no name): attachments/X/1-attachment" {
		t.Errorf("%q", got)
	}
}

func TestLabelsAreOneLine(t *testing.T) {
	p := capture.Participant{ID: "u\n1", DisplayName: "Evil\r\nBcc: x"}
	if got := participantLabel(p); strings.ContainsAny(got, "\r\n") {
		t.Errorf("label %q spans lines", got)
	}
	if participantLabel(capture.Participant{}) != "(unknown)" || conversationLabel(capture.Conversation{}) != "(no conversation)" {
		t.Error("empty labels")
	}
}

package export

import (
	"fmt"
	"strings"

	"github.com/vigil-operator/vigil/internal/capture"
)

// participantLabel names a participant for people: "Name (id)", or whichever
// of the two is known.
func participantLabel(p capture.Participant) string {
	name, id := clean(p.DisplayName), clean(p.ID)
	switch {
	case name != "" && id != "" && name != id:
		return name + " (" + id + ")"
	case name != "":
		return name
	case id != "":
		return id
	}
	return "(unknown)"
}

// clean makes a value safe for a one-line field: control characters, line
// breaks included, become spaces.
func clean(s string) string {
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, s)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// membershipAction says whether a membership record is a join or a leave.
// Channels name these events differently (channel_join, memberLeft,
// unsubscribe, del_external_contact...), so the native type is matched on
// the words they use; leaving words are tried first because "unsubscribe"
// contains "subscribe". It returns "" when the record says neither.
func membershipAction(rec *capture.Record) string {
	t := strings.ToLower(rec.NativeType + " " + rec.MsgType)
	for _, w := range []string{"leave", "left", "unsubscribe", "unfollow", "del_", "delete", "remove", "quit", "exit", "kick"} {
		if strings.Contains(t, w) {
			return "leave"
		}
	}
	for _, w := range []string{"join", "subscribe", "follow", "add", "enter", "invite"} {
		if strings.Contains(t, w) {
			return "join"
		}
	}
	return ""
}

// receiptAction maps a status record to an RSMF read-receipt action, or ""
// when the status is not a delivery or a read (a failure, say).
func receiptAction(rec *capture.Record) string {
	t := strings.ToLower(rec.NativeType + " " + rec.MsgType)
	switch {
	case strings.Contains(t, "read"):
		return "read"
	case strings.Contains(t, "deliver"):
		return "delivered"
	}
	return ""
}

// members is the people a membership or status record concerns: its
// recipients when it names them (LINE memberJoined, WeCom contact events),
// otherwise its sender.
func members(rec *capture.Record) []capture.Participant {
	if len(rec.Recipients) > 0 {
		return rec.Recipients
	}
	return []capture.Participant{rec.Sender}
}

func labels(ps []capture.Participant) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = participantLabel(p)
	}
	return strings.Join(out, ", ")
}

// body is what a record says, in words, for every kind: a message's text as
// sent, and a sentence for the events that have no text of their own.
func body(rec *capture.Record) string {
	switch rec.Kind {
	case capture.KindMessage:
		return rec.Text
	case capture.KindEdit:
		return withText(fmt.Sprintf("[edited message %s; new text follows]", clean(rec.Target)), rec.Text)
	case capture.KindRecall:
		return withText(fmt.Sprintf("[recalled message %s]", clean(rec.Target)), rec.Text)
	case capture.KindReaction:
		if rec.Reaction == nil {
			return fmt.Sprintf("[reacted to message %s]", clean(rec.Target))
		}
		if rec.Reaction.Removed {
			return fmt.Sprintf("[removed reaction %s from message %s]", clean(rec.Reaction.Emoji), clean(rec.Target))
		}
		return fmt.Sprintf("[reacted %s to message %s]", clean(rec.Reaction.Emoji), clean(rec.Target))
	case capture.KindConsent:
		if c := rec.Consent; c != nil {
			return withText(fmt.Sprintf("[archiving consent: %s by %s at %s]", clean(c.State), clean(c.SubjectID), formatTime(c.At)), rec.Text)
		}
		return withText("[archiving consent]", rec.Text)
	case capture.KindMembership:
		verb := map[string]string{"join": "joined", "leave": "left", "": "membership changed"}[membershipAction(rec)]
		return withText(fmt.Sprintf("[%s %s (%s)]", labels(members(rec)), verb, clean(rec.NativeType)), rec.Text)
	case capture.KindStatus:
		return withText(fmt.Sprintf("[status %s of message %s]", clean(rec.NativeType), clean(rec.Target)), rec.Text)
	case capture.KindSystem:
		return withText(fmt.Sprintf("[system event %s]", clean(rec.NativeType)), rec.Text)
	}
	return withText(fmt.Sprintf("[%s event]", clean(string(rec.Kind))), rec.Text)
}

func withText(note, text string) string {
	if text == "" {
		return note
	}
	return note + "\n" + text
}

// attachmentLine describes an attachment, saying whether its content is in
// the export, so a reviewer never mistakes a missing file for no file.
func attachmentLine(i int, a capture.Attachment, exportedAs string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d. %s", i+1, clean(orDefault(a.Name, "(no name)")))
	var facts []string
	if a.MIME != "" {
		facts = append(facts, clean(a.MIME))
	}
	if a.Size > 0 {
		facts = append(facts, fmt.Sprintf("%d bytes", a.Size))
	}
	if a.SHA256 != "" {
		facts = append(facts, "sha256 "+clean(a.SHA256))
	}
	if len(facts) > 0 {
		b.WriteString(" (" + strings.Join(facts, ", ") + ")")
	}
	if exportedAs != "" {
		b.WriteString(": " + exportedAs)
	} else {
		b.WriteString(": content not in this export")
		if a.State != "" {
			b.WriteString(" (state " + clean(a.State) + ")")
		}
	}
	return b.String()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// messageText is the body of a record followed by its attachments, the
// text an EML body and an extracted-text file carry.
func messageText(rec *capture.Record, exported map[int]string) string {
	var b strings.Builder
	b.WriteString(body(rec))
	if len(rec.Attachments) > 0 {
		b.WriteString("\n\nAttachments:\n")
		for i, a := range rec.Attachments {
			b.WriteString(attachmentLine(i, a, exported[i]))
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// conversationLabel names a conversation for people.
func conversationLabel(c capture.Conversation) string {
	name, id := clean(c.Name), clean(c.ID)
	switch {
	case name != "" && id != "" && name != id:
		return name + " (" + id + ")"
	case name != "":
		return name
	case id != "":
		return id
	}
	return "(no conversation)"
}

// extractedText is a record's extracted-text file for load files: a short
// header, as review platforms show for e-mail, then the message text.
func extractedText(rec *capture.Record, e *RecordEntry, exported map[int]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\n", participantLabel(rec.Sender))
	if len(rec.Recipients) > 0 {
		fmt.Fprintf(&b, "To: %s\n", labels(rec.Recipients))
	}
	fmt.Fprintf(&b, "Sent: %s\n", formatTime(rec.SentAt))
	fmt.Fprintf(&b, "Conversation: %s\n", conversationLabel(rec.Conversation))
	fmt.Fprintf(&b, "Channel: %s\n", clean(rec.Channel))
	fmt.Fprintf(&b, "Kind: %s\n", clean(string(rec.Kind)))
	fmt.Fprintf(&b, "Record: %s (%s, leaf %d)\n\n", e.ID, e.Bates, e.LeafIndex)
	b.WriteString(messageText(rec, exported))
	return b.String()
}

package export

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/vigil-operator/vigil/internal/capture"
)

// X-Vigil headers of the per-record EML, which tie each message to its
// record, its place in the log and the export.
const (
	HeaderRecordID     = "X-Vigil-Record-Id"
	HeaderAccount      = "X-Vigil-Account"
	HeaderChannel      = "X-Vigil-Channel"
	HeaderLeafIndex    = "X-Vigil-Leaf-Index"
	HeaderRecordSHA256 = "X-Vigil-Record-SHA256"
	HeaderBates        = "X-Vigil-Bates"
	HeaderExportID     = "X-Vigil-Export-Id"
)

// writeEML writes one record as an RFC 5322 message: the sender and
// recipients as mailboxes, the conversation as the subject, the record's
// words as a UTF-8 text body, and the exported attachments as parts.
func (x *exporter) writeEML(w io.Writer, rec *capture.Record, e *RecordEntry, recordSHA string, exported map[int]string) error {
	var h headers
	h.add("From", address(rec.Sender, rec.Channel))
	if len(rec.Recipients) > 0 {
		to := make([]string, len(rec.Recipients))
		for i, p := range rec.Recipients {
			to[i] = address(p, rec.Channel)
		}
		h.add("To", strings.Join(to, ", "))
	} else {
		// A group message names the group, not its members.
		h.add("To", "undisclosed-recipients:;")
	}
	h.add("Date", mailDate(rec.SentAt))
	subject := conversationLabel(rec.Conversation)
	if rec.Kind != capture.KindMessage {
		subject += " (" + string(rec.Kind) + ")"
	}
	h.text("Subject", subject)
	h.add("Message-ID", "<"+idComponent(rec.ID)+"@vigil.invalid>")
	h.add("MIME-Version", "1.0")
	h.text(HeaderExportID, x.opts.ExportID)
	h.add(HeaderRecordID, e.ID)
	h.add(HeaderBates, e.Bates)
	h.text(HeaderAccount, e.Account)
	if e.Custodian != "" {
		h.text("X-Vigil-Custodian", e.Custodian)
	}
	h.text(HeaderChannel, rec.Channel)
	h.text("X-Vigil-Conversation", conversationLabel(rec.Conversation))
	h.text("X-Vigil-Kind", string(rec.Kind))
	if rec.Direction != "" {
		h.text("X-Vigil-Direction", string(rec.Direction))
	}
	if rec.Target != "" {
		h.text("X-Vigil-Target", rec.Target)
	}
	if rec.ReplyTo != "" {
		h.text("X-Vigil-Reply-To", rec.ReplyTo)
	}
	h.add(HeaderLeafIndex, strconv.FormatUint(e.LeafIndex, 10))
	h.add(HeaderRecordSHA256, recordSHA)
	text := messageText(rec, exported)

	if len(exported) == 0 {
		if _, err := w.Write(h.b.Bytes()); err != nil {
			return err
		}
		return writeTextBody(w, text)
	}
	b := boundary("eml\x00" + x.opts.ExportID + "\x00" + rec.ID)
	h.add("Content-Type", multipartHeader(b))
	if _, err := fmt.Fprintf(w, "%s\r\nThis is a multi-part message in MIME format.\r\n", h.b.Bytes()); err != nil {
		return err
	}
	if err := writeBoundary(w, b, false); err != nil {
		return err
	}
	if err := writeTextBody(w, text); err != nil {
		return err
	}
	for i := range rec.Attachments {
		if exported[i] == "" {
			continue
		}
		if err := writeBoundary(w, b, false); err != nil {
			return err
		}
		if err := x.writeAttachmentPart(w, rec, i); err != nil {
			return err
		}
	}
	return writeBoundary(w, b, true)
}

// writeAttachmentPart writes attachment i as a base64 part.
func (x *exporter) writeAttachmentPart(w io.Writer, rec *capture.Record, i int) error {
	a := rec.Attachments[i]
	if _, err := io.WriteString(w, attachmentHeaders(a.MIME, attachmentName(i, a.Name))); err != nil {
		return err
	}
	rc, err := x.openAttachment(rec, i)
	if err != nil {
		return err
	}
	defer rc.Close()
	return writeBase64(w, rc)
}

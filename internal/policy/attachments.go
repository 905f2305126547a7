package policy

import (
	"context"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/vigil-operator/vigil/internal/capture"
	"github.com/vigil-operator/vigil/internal/policy/attach"
)

// AttachmentSource opens the content of an attachment by its SHA-256, for
// inspection by type, macros and archive structure. ok is false when the
// content is not at hand (not downloaded yet, expired at the channel).
type AttachmentSource interface {
	Open(ctx context.Context, sha256 string) (r io.ReaderAt, size int64, closer io.Closer, ok bool, err error)
}

// AttachmentLimits bound the work one attachment may cost.
type AttachmentLimits = attach.Limits

// Confidence of attachment findings: what the bytes prove is certain; what
// only the name or declared type says is likely.
const (
	confidenceContent = 95
	confidenceName    = 75
)

// attachmentFindings inspects each attachment once (name, declared type and
// size always; content when the host can open it) and reports, per
// attachments rule, what the rule asks about. Tricks with names and broken or
// bomb-like archives are reported by every attachments rule: they exist to
// deceive a reader or a scanner.
func (e *Engine) attachmentFindings(ctx context.Context, rec *capture.Record, out []capture.Finding) []capture.Finding {
	limits := attach.DefaultLimits()
	if e.opts.AttachmentLimits != nil {
		limits = *e.opts.AttachmentLimits
	}
	for i := range rec.Attachments {
		a := &rec.Attachments[i]
		meta := attach.Meta{Name: a.Name, MIME: a.MIME, Size: a.Size, SHA256: a.SHA256}
		report, fromContent := e.inspect(ctx, meta, limits)
		for _, r := range e.byKind[kindAttachments] {
			rule := &e.rules[r]
			reasons := attachmentReasons(rule.attachments.BlockTypes, rule.attachments.Macros, rule.attachments.EncryptedArchives, rule.attachments.MaxBytes, a, &report)
			if len(reasons) == 0 {
				continue
			}
			f := e.finding(r)
			f.Detector = "attachment"
			f.Confidence = confidenceName
			if fromContent {
				f.Confidence = confidenceContent
			}
			f.Evidence = "attachment " + a.Name + ": " + strings.Join(reasons, ", ")
			out = append(out, f)
		}
	}
	return out
}

func (e *Engine) inspect(ctx context.Context, meta attach.Meta, limits attach.Limits) (attach.Report, bool) {
	if e.opts.Attachments != nil && meta.SHA256 != "" {
		r, size, closer, ok, err := e.opts.Attachments.Open(ctx, meta.SHA256)
		if err == nil && ok {
			defer closer.Close()
			if rep, err := attach.Inspect(meta, r, size, limits); err == nil {
				return rep, true
			}
		}
	}
	return attach.InspectMeta(meta), false
}

// attachmentReasons lists why an attachment matches a rule.
func attachmentReasons(blockTypes []string, macros, encrypted bool, maxBytes *int64, a *capture.Attachment, rep *attach.Report) []string {
	var reasons []string
	ext := strings.TrimPrefix(strings.ToLower(path.Ext(a.Name)), ".")
	for _, t := range blockTypes {
		t = strings.ToLower(strings.TrimPrefix(t, "."))
		if t == rep.Type || t == ext || t == "executable" && rep.Executable {
			reasons = append(reasons, "blocked type "+t)
			break
		}
	}
	if macros && rep.Macros {
		reasons = append(reasons, "macros")
	}
	if encrypted && rep.Encrypted {
		reasons = append(reasons, "encrypted")
	}
	if maxBytes != nil && a.Size > *maxBytes {
		reasons = append(reasons, "larger than the limit")
	}
	for _, flag := range rep.Flags() {
		switch flag {
		case "bomb", "malformed", "name-mismatch", "double-extension", "rtlo":
			if !slices.Contains(reasons, flag) {
				reasons = append(reasons, flag)
			}
		}
	}
	return reasons
}

package export

import (
	"context"
	"errors"
	"io"
	"iter"

	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

// Item is one record to export, exactly as the archive stores and logs it.
type Item struct {
	// Record carries the account and custodian the record is filed under.
	// Its Record field must describe the same record as RecordBytes; the
	// renditions are made from RecordBytes, the bytes the log commits to.
	Record store.StoredRecord
	// RecordBytes and FindingsBytes are the exact stored bytes whose
	// SHA-256 the leaf carries. FindingsBytes is empty when the record has
	// no findings.
	RecordBytes   []byte
	FindingsBytes []byte
	// LeafIndex is the position of the record's leaf in the log.
	LeafIndex uint64
	// Leaf is the leaf's canonical bytes (store.Leaf.Encode).
	Leaf []byte
}

// ProofSource supplies inclusion proofs; store.Log satisfies it.
type ProofSource interface {
	// InclusionProof proves leaf index is in the tree of the given size.
	InclusionProof(ctx context.Context, index, size uint64) ([]tlog.Hash, error)
}

// AttachmentSource supplies the stored content of attachments. Export opens
// an attachment once per copy it writes (the attachments folder, the EML and
// the RSMF zip), so content is streamed and never held in memory.
type AttachmentSource interface {
	// OpenAttachment opens attachment index of the record. It returns an
	// error wrapping ErrAttachmentUnavailable when the archive holds no
	// content for it (never fetched, expired, too large); the export then
	// describes the attachment without its content.
	OpenAttachment(ctx context.Context, recordID string, index int) (io.ReadCloser, error)
}

// ErrAttachmentUnavailable marks an attachment whose content the archive
// does not hold.
var ErrAttachmentUnavailable = errors.New("export: attachment content unavailable")

// Items adapts a slice to the iterator Export reads, for callers that
// already hold the records.
func Items(items []Item) iter.Seq2[Item, error] {
	return func(yield func(Item, error) bool) {
		for _, it := range items {
			if !yield(it, nil) {
				return
			}
		}
	}
}

package verify

import (
	"fmt"

	"github.com/vigil-operator/vigil/internal/archive/tlog"
)

// checkCheckpoint verifies a signed checkpoint with the pinned key and
// origin and compares its root with the root of the leaves at its size. It
// returns the checkpoint and whether it verified and matched.
func checkCheckpoint(r *Report, where string, note []byte, verifier *tlog.Verifier, log *logView) (tlog.Checkpoint, bool) {
	cp, _, err := tlog.OpenCheckpoint(note, verifier.Name(), []*tlog.Verifier{verifier})
	if err != nil {
		r.problem(KindCheckpointSignature, where, "does not verify with the pinned key: %v", err)
		return tlog.Checkpoint{}, false
	}
	return cp, checkRootAt(r, KindCheckpointRoot, where, cp, log)
}

// checkRootAt compares a checkpoint's root with the root of the first
// cp.Size leaves. Two checkpoints that both pass are consistent with each
// other by construction: their roots come from one leaf sequence.
func checkRootAt(r *Report, kind Kind, where string, cp tlog.Checkpoint, log *logView) bool {
	if cp.Size > log.tree.Size() {
		r.problem(kind, where, "signs %d leaves but the log has only %d (leaves were removed)", cp.Size, log.tree.Size())
		return false
	}
	root, err := log.tree.RootAt(cp.Size)
	if err != nil {
		r.problem(kind, where, "cannot recompute the root at size %d: %v", cp.Size, err)
		return false
	}
	if root != cp.Root {
		r.problem(kind, where, "signs root %s at size %d, but the leaves hash to %s (history was rewritten)", cp.Root, cp.Size, root)
		return false
	}
	return true
}

// checkPrevious verifies a checkpoint the auditor kept from an earlier run
// and that the log as it is now extends it.
func checkPrevious(r *Report, where string, note []byte, verifier *tlog.Verifier, log *logView) (tlog.Checkpoint, bool) {
	cp, _, err := tlog.OpenCheckpoint(note, verifier.Name(), []*tlog.Verifier{verifier})
	if err != nil {
		r.problem(KindPreviousCheckpoint, where, "does not verify with the pinned key: %v", err)
		return tlog.Checkpoint{}, false
	}
	return cp, checkRootAt(r, KindPreviousCheckpoint, where, cp, log)
}

func summarize(cp tlog.Checkpoint) *CheckpointSummary {
	return &CheckpointSummary{Origin: cp.Origin, Size: cp.Size, Root: fmt.Sprint(cp.Root)}
}

package keys

import (
	"context"
	"errors"
	"fmt"
)

// rotatePage is how many wrapped DEKs Rotate reads per store call.
const rotatePage = 500

// RotationReport counts what Rotate did.
type RotationReport struct {
	// CurrentKEK is the KEK every live DEK is now wrapped under.
	CurrentKEK string `json:"currentKEK"`
	Examined   int    `json:"examined"`
	Rewrapped  int    `json:"rewrapped"`
	// AlreadyCurrent were under the current KEK (or were rewrapped by a
	// concurrent Rotate).
	AlreadyCurrent int `json:"alreadyCurrent"`
	// Destroyed are tombstones, or were destroyed while Rotate ran.
	Destroyed int `json:"destroyed"`
}

// Rotate rewraps every live DEK that is not under the ring's current KEK.
// The DEKs themselves do not change, so no record is re-encrypted and cached
// keys stay valid. It is safe to run beside Seal, Open, Destroy and another
// Rotate: each rewrap is a compare-and-swap in the store, and a destroyed
// key is never rewrapped back to life. Once the report is in and no error
// was returned, the old KEK can be removed from the ring.
func (m *Manager) Rotate(ctx context.Context) (RotationReport, error) {
	report := RotationReport{CurrentKEK: m.ring.CurrentID()}
	after := ""
	for {
		page, err := m.store.List(ctx, ListQuery{After: after, Limit: rotatePage})
		if err != nil {
			return report, fmt.Errorf("while listing DEKs after %q to rotate: %w", after, err)
		}
		for _, dek := range page {
			if err := m.rotateOne(ctx, dek, &report); err != nil {
				return report, err
			}
		}
		if len(page) < rotatePage {
			return report, nil
		}
		after = page[len(page)-1].ID
	}
}

func (m *Manager) rotateOne(ctx context.Context, dek WrappedDEK, report *RotationReport) error {
	report.Examined++
	if dek.Destroyed() {
		report.Destroyed++
		return nil
	}
	rewrapped, changed, err := m.ring.Rewrap(ctx, dek.Wrapped, dekAAD(dek.ID, dek.Scope))
	if err != nil {
		return fmt.Errorf("while rewrapping DEK %s of %s: %w", dek.ID, dek.Scope, err)
	}
	if !changed {
		report.AlreadyCurrent++
		return nil
	}
	err = m.store.Rewrap(ctx, dek.ID, dek.Wrapped, rewrapped, m.ring.CurrentID())
	switch {
	case err == nil:
		report.Rewrapped++
	case errors.Is(err, ErrShredded):
		report.Destroyed++
	case errors.Is(err, ErrConflict):
		// Someone else rewrapped it; check it landed under our KEK.
		now, getErr := m.store.Get(ctx, dek.ID)
		switch {
		case getErr != nil:
			return fmt.Errorf("while rechecking DEK %s after a concurrent rewrap: %w", dek.ID, getErr)
		case now.Destroyed():
			report.Destroyed++
		case now.KEKID == m.ring.CurrentID():
			report.AlreadyCurrent++
		default:
			return fmt.Errorf("DEK %s was rewrapped concurrently under KEK %q, not the current %q: %w", dek.ID, now.KEKID, m.ring.CurrentID(), ErrConflict)
		}
	default:
		return fmt.Errorf("while storing rewrapped DEK %s: %w", dek.ID, err)
	}
	return nil
}

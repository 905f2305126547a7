package keys

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"
)

// Destruction is what a crypto-shred destroyed, in the form a purge
// certificate lists it. An auditor holding an earlier copy of the key store
// (a snapshot or backup) checks WrappedSHA256 against the wrapped key it
// held, and checks the live store shows a tombstone for KeyID.
type Destruction struct {
	KeyID   string `json:"keyID"`
	Tenant  string `json:"tenant"`
	Account string `json:"account"`
	Bucket  Bucket `json:"bucket"`
	// KEKID wrapped the key when it was destroyed.
	KEKID       string    `json:"kekID"`
	CreatedAt   time.Time `json:"createdAt"`
	DestroyedAt time.Time `json:"destroyedAt"`
	// WrappedSHA256 is the hex SHA-256 of the wrapped key as erased.
	WrappedSHA256 string `json:"wrappedSHA256"`
}

// Destroy crypto-shreds the scope's DEK: every record sealed under it becomes
// unreadable. It waits for running Seal and Open calls on the key, zeroes the
// cached copy, and has the store erase the wrapped key, leaving a tombstone.
// Destroying an already destroyed key returns the same Destruction, so a
// purge that crashed after the erase can be retried and still certify it.
//
// Holds and eligibility are the caller's business: call Destroy only for a
// bucket whose End has passed and that no legal hold covers, in the same
// transaction discipline as the purge of its records.
func (m *Manager) Destroy(ctx context.Context, scope Scope) (Destruction, error) {
	if err := scope.Validate(); err != nil {
		return Destruction{}, err
	}
	unlock, err := m.locks.lock(ctx, scope)
	if err != nil {
		return Destruction{}, fmt.Errorf("while waiting to destroy the DEK of %s: %w", scope, err)
	}
	defer unlock()
	stored, err := m.store.Lookup(ctx, scope)
	if err != nil {
		return Destruction{}, fmt.Errorf("while looking up the DEK of %s to destroy it: %w", scope, err)
	}
	// Evict first: new operations then miss the cache and wait on the scope
	// lock, and retire waits for the ones already running.
	if k := m.cache.removeScope(scope); k != nil {
		k.retire()
	}
	tomb, err := m.store.Destroy(ctx, stored.ID, m.now())
	if err != nil {
		return Destruction{}, fmt.Errorf("while destroying DEK %s of %s: %w", stored.ID, scope, err)
	}
	return DestructionOf(tomb), nil
}

// DestructionOf describes a tombstone as a purge certificate lists it.
func DestructionOf(tomb WrappedDEK) Destruction {
	return Destruction{
		KeyID:         tomb.ID,
		Tenant:        tomb.Scope.Tenant,
		Account:       tomb.Scope.Account,
		Bucket:        tomb.Scope.Bucket,
		KEKID:         tomb.KEKID,
		CreatedAt:     tomb.CreatedAt,
		DestroyedAt:   tomb.DestroyedAt,
		WrappedSHA256: hex.EncodeToString(tomb.WrappedSHA256[:]),
	}
}

// Forget drops the scope's cached DEK and waits for running Seal and Open
// calls on it. A backend that erases wrapped keys in its own transaction
// (the SQLite and PostgreSQL archives destroy a bucket's key in the purge
// transaction that deletes its last record) calls it after the commit, so no
// cached copy outlives the stored one.
func (m *Manager) Forget(ctx context.Context, scope Scope) error {
	unlock, err := m.locks.lock(ctx, scope)
	if err != nil {
		return fmt.Errorf("while waiting to forget the DEK of %s: %w", scope, err)
	}
	defer unlock()
	if k := m.cache.removeScope(scope); k != nil {
		k.retire()
	}
	return nil
}

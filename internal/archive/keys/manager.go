package keys

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"
)

// DefaultCacheSize bounds the unwrapped DEKs a Manager keeps: enough for
// every account's current bucket on a large node (a DEK costs about 1 KB
// with its key schedule), small enough that memory holds few keys.
const DefaultCacheSize = 4096

// maxRetiredRetries bounds how often an operation reloads a key that was
// evicted under it; only a cache far too small for the load gets there.
const maxRetiredRetries = 8

// Options tune a Manager.
type Options struct {
	// CacheSize bounds the cached unwrapped DEKs; 0 means DefaultCacheSize.
	CacheSize int
	// Now is the clock for creation and destruction times; nil means
	// time.Now.
	Now func() time.Time
}

// Manager creates, caches and destroys DEKs and seals and opens records.
// Every method is safe for concurrent use.
type Manager struct {
	ring  *KeyRing
	store Store
	now   func() time.Time
	cache *keyCache
	locks *scopeLocks
}

// NewManager returns a Manager over a key ring and a store of wrapped DEKs.
func NewManager(ring *KeyRing, store Store, opts Options) (*Manager, error) {
	if ring == nil || store == nil {
		return nil, fmt.Errorf("%w: a key manager needs a key ring and a store", ErrInvalid)
	}
	if opts.CacheSize < 0 {
		return nil, fmt.Errorf("%w: cache size %d is negative", ErrInvalid, opts.CacheSize)
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = DefaultCacheSize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Manager{ring: ring, store: store, now: opts.Now, cache: newKeyCache(opts.CacheSize), locks: newScopeLocks()}, nil
}

// DEKFor returns the scope's DEK, loading it from the store or creating it.
// Creation is single-flight: concurrent callers in this process wait for one
// creation, and Store.CreateIfAbsent settles races between replicas. A scope
// whose DEK was destroyed fails with ErrShredded and never gets a new key:
// its bucket was purged and the purge certificate says so.
func (m *Manager) DEKFor(ctx context.Context, scope Scope) (*DataKey, error) {
	if k := m.cache.getByScope(scope); k != nil {
		return k, nil
	}
	if err := scope.Validate(); err != nil {
		return nil, err
	}
	unlock, err := m.locks.lock(ctx, scope)
	if err != nil {
		return nil, fmt.Errorf("while waiting for the DEK of %s: %w", scope, err)
	}
	defer unlock()
	if k := m.cache.getByScope(scope); k != nil {
		return k, nil
	}
	stored, err := m.store.Lookup(ctx, scope)
	if errors.Is(err, ErrKeyNotFound) {
		return m.create(ctx, scope)
	}
	if err != nil {
		return nil, fmt.Errorf("while looking up the DEK of %s: %w", scope, err)
	}
	return m.load(ctx, stored)
}

// create makes a DEK for scope, unless another replica got there first.
// The caller holds the scope lock.
func (m *Manager) create(ctx context.Context, scope Scope) (*DataKey, error) {
	raw := make([]byte, dekSize)
	rand.Read(raw) // never fails since Go 1.24: it crashes the program instead
	id := newDEKID()
	wrapped, err := m.ring.Wrap(ctx, raw, dekAAD(id, scope))
	if err != nil {
		clear(raw)
		return nil, fmt.Errorf("while wrapping a new DEK for %s: %w", scope, err)
	}
	fresh := WrappedDEK{ID: id, Scope: scope, KEKID: m.ring.CurrentID(), Wrapped: wrapped, CreatedAt: m.now().UTC()}
	stored, created, err := m.store.CreateIfAbsent(ctx, fresh)
	if err != nil {
		clear(raw)
		return nil, fmt.Errorf("while storing a new DEK for %s: %w", scope, err)
	}
	if !created {
		clear(raw)
		return m.load(ctx, stored)
	}
	k, err := newDataKey(stored, raw)
	if err != nil {
		return nil, err
	}
	m.cacheKey(k)
	return k, nil
}

// load unwraps a stored DEK into the cache. The caller holds the scope lock.
func (m *Manager) load(ctx context.Context, stored WrappedDEK) (*DataKey, error) {
	if stored.Destroyed() {
		return nil, fmt.Errorf("DEK %s of %s, destroyed %s: %w", stored.ID, stored.Scope, stored.DestroyedAt.Format(time.RFC3339), ErrShredded)
	}
	raw, err := m.ring.Unwrap(ctx, stored.Wrapped, dekAAD(stored.ID, stored.Scope))
	if err != nil {
		return nil, fmt.Errorf("while unwrapping DEK %s of %s: %w", stored.ID, stored.Scope, err)
	}
	k, err := newDataKey(stored, raw)
	if err != nil {
		return nil, err
	}
	m.cacheKey(k)
	return k, nil
}

func (m *Manager) cacheKey(k *DataKey) {
	for _, old := range m.cache.put(k) {
		old.retire()
	}
}

// keyByID returns the cached or stored DEK with the id, checking that it
// belongs to the record's tenant and account.
func (m *Manager) keyByID(ctx context.Context, ref RecordRef, id string) (*DataKey, error) {
	k := m.cache.getByID(id)
	if k == nil {
		stored, err := m.store.Get(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("while finding DEK %s of record %s: %w", truncate(id), truncate(ref.ID), err)
		}
		if err := checkOwner(ref, stored.Scope, id); err != nil {
			return nil, err
		}
		unlock, err := m.locks.lock(ctx, stored.Scope)
		if err != nil {
			return nil, fmt.Errorf("while waiting for DEK %s: %w", id, err)
		}
		defer unlock()
		if k = m.cache.getByID(id); k == nil {
			// Read again under the lock: a destroy may have finished
			// between the first read and the lock.
			if stored, err = m.store.Get(ctx, id); err != nil {
				return nil, fmt.Errorf("while finding DEK %s of record %s: %w", id, truncate(ref.ID), err)
			}
			return m.load(ctx, stored)
		}
	}
	return k, checkOwner(ref, k.scope, id)
}

func checkOwner(ref RecordRef, scope Scope, id string) error {
	if scope.Tenant != ref.Tenant || scope.Account != ref.Account {
		return fmt.Errorf("record %s names DEK %s, which belongs to another account: %w", truncate(ref.ID), id, ErrTampered)
	}
	return nil
}

// Seal encrypts a record under the DEK of its tenant, account and expiry
// bucket, binding the ciphertext to ref.
func (m *Manager) Seal(ctx context.Context, ref RecordRef, plaintext []byte) (Sealed, error) {
	if err := ref.Validate(); err != nil {
		return Sealed{}, err
	}
	if ref.ExpiresAt.IsZero() {
		return Sealed{}, fmt.Errorf("%w: record %s has no expiry to pick its key by", ErrInvalid, truncate(ref.ID))
	}
	scope := Scope{Tenant: ref.Tenant, Account: ref.Account, Bucket: BucketOf(ref.ExpiresAt)}
	for range maxRetiredRetries {
		k, err := m.DEKFor(ctx, scope)
		if err != nil {
			return Sealed{}, fmt.Errorf("while sealing record %s: %w", truncate(ref.ID), err)
		}
		sealed, err := k.seal(ref, plaintext)
		if !errors.Is(err, errRetired) {
			return sealed, err
		}
	}
	return Sealed{}, fmt.Errorf("while sealing record %s: the DEK of %s was evicted %d times in a row; raise the cache size", truncate(ref.ID), scope, maxRetiredRetries)
}

// Open decrypts a record. It fails with ErrShredded if the DEK was
// destroyed, ErrTampered if the ciphertext or its binding to ref does not
// authenticate, and ErrKeyNotFound if the store has no trace of the DEK.
func (m *Manager) Open(ctx context.Context, ref RecordRef, sealed Sealed) ([]byte, error) {
	if err := ref.Validate(); err != nil {
		return nil, err
	}
	if len(sealed.KeyID) == 0 || len(sealed.KeyID) > 255 {
		return nil, fmt.Errorf("record %s names a key id of %d bytes: %w", truncate(ref.ID), len(sealed.KeyID), ErrTampered)
	}
	for range maxRetiredRetries {
		k, err := m.keyByID(ctx, ref, sealed.KeyID)
		if err != nil {
			return nil, err
		}
		plain, err := k.open(ref, sealed)
		if !errors.Is(err, errRetired) {
			return plain, err
		}
	}
	return nil, fmt.Errorf("while opening record %s: DEK %s was evicted %d times in a row; raise the cache size", truncate(ref.ID), sealed.KeyID, maxRetiredRetries)
}

// Close zeroes every cached DEK. The Manager stays usable and reloads keys
// as needed; call Close when the process stops serving.
func (m *Manager) Close() {
	for _, k := range m.cache.removeAll() {
		k.retire()
	}
}

// String describes the manager without key material.
func (m *Manager) String() string {
	return fmt.Sprintf("keys.Manager(%s, %d DEKs cached, keys redacted)", m.ring, m.cache.len())
}

// GoString never shows key material.
func (m *Manager) GoString() string { return m.String() }

// Format makes every fmt verb print String.
func (m *Manager) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, m.String()) }

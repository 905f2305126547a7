// Package sealing is how every archive backend encrypts records at rest: a
// record and its findings are sealed with AES-256-GCM (internal/archive/keys)
// under the data key of (tenant, account, send month). With an account's
// retention R, every record of one send month leaves retention within the
// one calendar month M+R, so the month's key is what a purge destroys once
// the month's last record is gone. The month is taken from the send time,
// the time purges select on, and not from the expiry, which the archive
// does not know at ingest (retention is a RetentionRule's business, and may
// change). docs/archive-encryption.md has the formats.
package sealing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/capture"
)

// DefaultTenant owns the data keys of a single-tenant archive.
const DefaultTenant = "default"

// Schemas bound into the ciphertexts, so that a record's sealed findings
// cannot be passed off as the record or the reverse.
const (
	RecordSchema   = capture.SchemaVersion
	FindingsSchema = capture.SchemaVersion + "/findings"
)

// Sealer seals and opens records for one archive.
type Sealer struct {
	keys   *keys.Manager
	tenant string
	now    func() time.Time
}

// New returns a Sealer whose data keys are wrapped by ring and kept in ks
// (the backend's own table, so that a purge destroys a key in the
// transaction that deletes its last record). An empty tenant is
// DefaultTenant; nil now is time.Now.
func New(ring *keys.KeyRing, ks keys.Store, tenant string, now func() time.Time) (*Sealer, error) {
	if tenant == "" {
		tenant = DefaultTenant
	}
	if now == nil {
		now = time.Now
	}
	m, err := keys.NewManager(ring, ks, keys.Options{Now: now})
	if err != nil {
		return nil, fmt.Errorf("while setting up encryption at rest: %w", err)
	}
	return &Sealer{keys: m, tenant: tenant, now: now}, nil
}

// Tenant is bound into every ciphertext and owns every data key.
func (s *Sealer) Tenant() string { return s.tenant }

// Record is a record ready for a backend's writer: its plaintext encodings
// (which the log's leaf hashes commit to) and their ciphertexts.
type Record struct {
	Body, Findings             []byte
	SealedBody, SealedFindings []byte
	KeyID                      string
}

// refs are the metadata a record's two ciphertexts are bound to.
func (s *Sealer) refs(account store.AccountKey, id string, bucketTime time.Time) (rec, findings keys.RecordRef) {
	rec = keys.RecordRef{ID: id, Tenant: s.tenant, Account: string(account), Schema: RecordSchema, ExpiresAt: bucketTime}
	findings = rec
	findings.Schema = FindingsSchema
	return rec, findings
}

// SealEnvelope encodes and seals one envelope. Backends call it in the
// caller's goroutine, outside their writer, so encryption is spread over
// the callers and a data key created on the way is stored by a write of its
// own.
func (s *Sealer) SealEnvelope(ctx context.Context, account store.AccountKey, env capture.Envelope) (Record, error) {
	rec := env.Record
	var out Record
	var err error
	if out.Body, err = json.Marshal(rec); err != nil {
		return out, fmt.Errorf("while encoding record %s: %w", rec.ID, err)
	}
	if len(env.Findings) > 0 {
		if out.Findings, err = json.Marshal(env.Findings); err != nil {
			return out, fmt.Errorf("while encoding findings of %s: %w", rec.ID, err)
		}
	}
	return out, s.Seal(ctx, account, rec.ID, rec.SentAt, &out)
}

// Seal fills in the ciphertexts of r from its plaintexts. A record sent in a
// month whose key a purge already destroyed (a late backfill of old history)
// is sealed under the current month's key instead: its capture is never
// refused, and the next purge removes it, its send time being past the
// cutoff already.
func (s *Sealer) Seal(ctx context.Context, account store.AccountKey, id string, sentAt time.Time, r *Record) error {
	recRef, findingsRef := s.refs(account, id, sentAt)
	sealed, err := s.keys.Seal(ctx, recRef, r.Body)
	if errors.Is(err, keys.ErrShredded) {
		recRef.ExpiresAt, findingsRef.ExpiresAt = s.now(), s.now()
		sealed, err = s.keys.Seal(ctx, recRef, r.Body)
	}
	if err != nil {
		return fmt.Errorf("while encrypting record %s: %w", id, err)
	}
	if r.SealedBody, err = sealed.MarshalBinary(); err != nil {
		return err
	}
	r.KeyID = sealed.KeyID
	r.SealedFindings = nil
	if len(r.Findings) > 0 {
		sf, err := s.keys.Seal(ctx, findingsRef, r.Findings)
		if err != nil {
			return fmt.Errorf("while encrypting findings of %s: %w", id, err)
		}
		if sf.KeyID != sealed.KeyID {
			// The month's key was destroyed between the two seals: seal
			// both again so a record never spans two keys.
			return s.Seal(ctx, account, id, sentAt, r)
		}
		if r.SealedFindings, err = sf.MarshalBinary(); err != nil {
			return err
		}
	}
	return nil
}

// Open decrypts a stored record and its findings. An empty keyID marks a
// row stored before encryption at rest, returned as stored.
func (s *Sealer) Open(ctx context.Context, account store.AccountKey, id, keyID string, body, findings []byte) ([]byte, []byte, error) {
	if keyID == "" {
		return body, findings, nil
	}
	recRef, findingsRef := s.refs(account, id, time.Time{})
	open := func(ref keys.RecordRef, b []byte) ([]byte, error) {
		sealed, err := keys.ParseSealed(b)
		if err != nil {
			return nil, err
		}
		if sealed.KeyID != keyID {
			return nil, fmt.Errorf("sealed under %s but the row names %s: %w", sealed.KeyID, keyID, keys.ErrTampered)
		}
		return s.keys.Open(ctx, ref, sealed)
	}
	plainBody, err := open(recRef, body)
	if err != nil {
		return nil, nil, fmt.Errorf("while decrypting record %s: %w", id, err)
	}
	var plainFindings []byte
	if len(findings) > 0 {
		if plainFindings, err = open(findingsRef, findings); err != nil {
			return nil, nil, fmt.Errorf("while decrypting the findings of record %s: %w", id, err)
		}
	}
	return plainBody, plainFindings, nil
}

// Forget drops cached copies of keys a backend destroyed in its own
// transaction; call it after the commit.
func (s *Sealer) Forget(ctx context.Context, destroyed ...keys.Destruction) error {
	for _, d := range destroyed {
		if err := s.keys.Forget(ctx, keys.Scope{Tenant: d.Tenant, Account: d.Account, Bucket: d.Bucket}); err != nil {
			return err
		}
	}
	return nil
}

// ForgetDestroyed drops cached copies of those of ids that ks holds as
// destroyed: a backend's writer refused a batch sealed under one of them
// (it lost a race with a purge), and the batch is about to be sealed again.
func (s *Sealer) ForgetDestroyed(ctx context.Context, ks keys.Store, ids ...string) error {
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		d, err := ks.Get(ctx, id)
		if err != nil {
			return err
		}
		if d.Destroyed() {
			if err := s.keys.Forget(ctx, d.Scope); err != nil {
				return err
			}
		}
	}
	return nil
}

// Close zeroes the cached data keys.
func (s *Sealer) Close() { s.keys.Close() }

package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/capture"
)

// Encryption at rest. Each record and its findings are sealed with
// AES-256-GCM under the data key of (tenant, account, capture month): with
// an account's retention R, every record of one capture month leaves
// retention within the one calendar month M+R, so the month's key is what a
// purge destroys once the month's last record is gone. The month is taken
// from the send time, the time purges select on, and not from the expiry,
// which the archive does not know at ingest (retention is a RetentionRule's
// business, and may change). What stays in the clear: identifiers, the
// account and custodian, times, the system flag and the search index terms.
// docs/archive-encryption.md has the formats.

// KEKFile holds the key-encryption key generated when none is given.
const KEKFile = "kek.key"

// GeneratedKEKID names the key in KEKFile.
const GeneratedKEKID = "local-1"

// Schemas bound into the ciphertexts, so that a record's sealed findings
// cannot be passed off as the record or the reverse.
const (
	recordSchema   = capture.SchemaVersion
	findingsSchema = capture.SchemaVersion + "/findings"
)

// openKeys sets up the key manager over the database's key store.
func (s *Store) openKeys(dir string, opts Options) error {
	s.tenant = opts.Tenant
	if s.tenant == "" {
		s.tenant = DefaultTenant
	}
	ring := opts.KeyRing
	if ring == nil {
		kek, generated, err := LoadOrCreateKEK(dir)
		if err != nil {
			return err
		}
		if generated {
			s.log.Info("Generated a key-encryption key in the data directory; give the archive one from a Secret (--kek-file) so that a copy of the volume alone does not open the records",
				"file", filepath.Join(dir, KEKFile))
		}
		if ring, err = keys.NewKeyRing(kek); err != nil {
			return err
		}
	}
	m, err := keys.NewManager(ring, keyStore{s}, keys.Options{Now: s.now})
	if err != nil {
		return fmt.Errorf("while setting up encryption at rest: %w", err)
	}
	s.keys = m
	return nil
}

// LoadOrCreateKEK reads the key-encryption key kept in dir, or creates one
// (32 random bytes, base64, mode 0600). generated says it was just created.
func LoadOrCreateKEK(dir string) (kek *keys.LocalKEK, generated bool, err error) {
	path := filepath.Join(dir, KEKFile)
	if _, err := os.Stat(path); err == nil {
		kek, err := keys.LoadLocalKEK(GeneratedKEKID, path)
		return kek, false, err
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("while reading the key-encryption key: %w", err)
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	defer clear(raw)
	encoded := []byte(base64.StdEncoding.EncodeToString(raw) + "\n")
	defer clear(encoded)
	if err := os.WriteFile(path, encoded, 0o600); err != nil {
		return nil, false, fmt.Errorf("while saving the key-encryption key: %w", err)
	}
	kek, err = keys.ParseLocalKEK(GeneratedKEKID, encoded)
	return kek, true, err
}

// sealedRecord is a record ready for the writer: its plaintext encodings
// (which the log's leaf hashes commit to) and their ciphertexts.
type sealedRecord struct {
	body, findings             []byte
	sealedBody, sealedFindings []byte
	keyID                      string
}

// recordRefs are the metadata a record's two ciphertexts are bound to.
func (s *Store) recordRefs(account store.AccountKey, id string, bucketTime time.Time) (rec, findings keys.RecordRef) {
	rec = keys.RecordRef{ID: id, Tenant: s.tenant, Account: string(account), Schema: recordSchema, ExpiresAt: bucketTime}
	findings = rec
	findings.Schema = findingsSchema
	return rec, findings
}

// sealEnvelope encodes and seals one envelope. It runs in the caller's
// goroutine, outside the writer, so encryption is spread over the callers
// and a data key created on the way is stored by a write of its own.
func (s *Store) sealEnvelope(ctx context.Context, account store.AccountKey, env capture.Envelope) (sealedRecord, error) {
	rec := env.Record
	var out sealedRecord
	var err error
	if out.body, err = json.Marshal(rec); err != nil {
		return out, fmt.Errorf("while encoding record %s: %w", rec.ID, err)
	}
	if len(env.Findings) > 0 {
		if out.findings, err = json.Marshal(env.Findings); err != nil {
			return out, fmt.Errorf("while encoding findings of %s: %w", rec.ID, err)
		}
	}
	return out, s.seal(ctx, account, rec.ID, rec.SentAt, &out)
}

// seal fills in the ciphertexts of r. A record sent in a month whose key a
// purge already destroyed (a late backfill of old history) is sealed under
// the current month's key instead: its capture is never refused, and it is
// purged with that month.
func (s *Store) seal(ctx context.Context, account store.AccountKey, id string, sentAt time.Time, r *sealedRecord) error {
	recRef, findingsRef := s.recordRefs(account, id, sentAt)
	sealed, err := s.keys.Seal(ctx, recRef, r.body)
	if errors.Is(err, keys.ErrShredded) {
		recRef.ExpiresAt, findingsRef.ExpiresAt = s.now(), s.now()
		sealed, err = s.keys.Seal(ctx, recRef, r.body)
	}
	if err != nil {
		return fmt.Errorf("while encrypting record %s: %w", id, err)
	}
	if r.sealedBody, err = sealed.MarshalBinary(); err != nil {
		return err
	}
	r.keyID = sealed.KeyID
	r.sealedFindings = nil
	if len(r.findings) > 0 {
		sf, err := s.keys.Seal(ctx, findingsRef, r.findings)
		if err != nil {
			return fmt.Errorf("while encrypting findings of %s: %w", id, err)
		}
		if sf.KeyID != sealed.KeyID {
			// The month's key was destroyed between the two seals: seal
			// both again so a record never spans two keys.
			return s.seal(ctx, account, id, sentAt, r)
		}
		if r.sealedFindings, err = sf.MarshalBinary(); err != nil {
			return err
		}
	}
	return nil
}

// openRow decrypts a records row's record and findings. A row with no key
// id predates encryption and is returned as stored.
func (s *Store) openRow(ctx context.Context, account store.AccountKey, id string, keyID sql.NullString, body, findings []byte) ([]byte, []byte, error) {
	if !keyID.Valid {
		return body, findings, nil
	}
	recRef, findingsRef := s.recordRefs(account, id, time.Time{})
	open := func(ref keys.RecordRef, b []byte) ([]byte, error) {
		sealed, err := keys.ParseSealed(b)
		if err != nil {
			return nil, err
		}
		if sealed.KeyID != keyID.String {
			return nil, fmt.Errorf("sealed under %s but the row names %s: %w", sealed.KeyID, keyID.String, keys.ErrTampered)
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

// sealPlaintextRecords seals records stored before encryption at rest, a
// batch per transaction, and clears their text column. Their log leaves
// committed to the plaintext, which is unchanged; the search index was
// built from the text already.
func (s *Store) sealPlaintextRecords(ctx context.Context) error {
	const batch = 500
	for {
		type legacy struct {
			seq         int64
			id, account string
			sentAt      int64
			sealedRecord
		}
		rows, err := s.reader.QueryContext(ctx, `SELECT seq, id, account, sent_at, record, findings FROM records
			WHERE key_id IS NULL ORDER BY seq LIMIT ?`, batch)
		if err != nil {
			return fmt.Errorf("while finding records to encrypt: %w", err)
		}
		var todo []legacy
		for rows.Next() {
			var l legacy
			if err := rows.Scan(&l.seq, &l.id, &l.account, &l.sentAt, &l.body, &l.findings); err != nil {
				rows.Close()
				return err
			}
			todo = append(todo, l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(todo) == 0 {
			return nil
		}
		for i := range todo {
			if err := s.seal(ctx, store.AccountKey(todo[i].account), todo[i].id, fromNanos(todo[i].sentAt), &todo[i].sealedRecord); err != nil {
				return err
			}
		}
		err = s.exclusive(ctx, func(ctx context.Context, tx *sql.Tx) error {
			for _, l := range todo {
				if _, err := tx.ExecContext(ctx, `UPDATE records SET record = ?, findings = ?, key_id = ?, text = '' WHERE seq = ? AND key_id IS NULL`,
					l.sealedBody, l.sealedFindings, l.keyID, l.seq); err != nil {
					return fmt.Errorf("while encrypting record %s: %w", l.id, err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		s.log.Info("Encrypted records stored before encryption at rest", "records", len(todo))
	}
}

package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/sealing"
	"github.com/vigil-operator/vigil/internal/capture"
)

// Encryption at rest (internal/archive/store/sealing): the record and
// findings columns hold ciphertexts, key_id names the data key, and the
// text column is empty. What stays in the clear: identifiers, the account
// and custodian, times, the system flag and the search index terms.

// KEKFile holds the key-encryption key generated when none is given.
const KEKFile = "kek.key"

// GeneratedKEKID names the key in KEKFile.
const GeneratedKEKID = "local-1"

// DefaultTenant owns the data keys of a single-tenant archive.
const DefaultTenant = sealing.DefaultTenant

// openKeys sets up sealing over the database's key store.
func (s *Store) openKeys(dir string, opts Options) error {
	ring := opts.KeyRing
	if ring == nil {
		path := filepath.Join(dir, KEKFile)
		kek, generated, err := keys.LoadOrCreateLocalKEK(GeneratedKEKID, path)
		if err != nil {
			return err
		}
		if generated {
			s.log.Info("Generated a key-encryption key in the data directory; give the archive one from a Secret (--kek-file) so that a copy of the volume alone does not open the records",
				"file", path)
		}
		if ring, err = keys.NewKeyRing(kek); err != nil {
			return err
		}
	}
	sealer, err := sealing.New(ring, keyStore{s}, opts.Tenant, s.now)
	if err != nil {
		return err
	}
	s.sealer = sealer
	return nil
}

// openRow decrypts a records row's record and findings.
func (s *Store) openRow(ctx context.Context, account store.AccountKey, id string, keyID sql.NullString, body, findings []byte) ([]byte, []byte, error) {
	return s.sealer.Open(ctx, account, id, keyID.String, body, findings)
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
			sealing.Record
		}
		rows, err := s.reader.QueryContext(ctx, `SELECT seq, id, account, sent_at, record, findings FROM records
			WHERE key_id IS NULL ORDER BY seq LIMIT ?`, batch)
		if err != nil {
			return fmt.Errorf("while finding records to encrypt: %w", err)
		}
		var todo []legacy
		for rows.Next() {
			var l legacy
			if err := rows.Scan(&l.seq, &l.id, &l.account, &l.sentAt, &l.Body, &l.Findings); err != nil {
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
		facets := make([]store.Facets, len(todo))
		for i := range todo {
			if err := s.sealer.Seal(ctx, store.AccountKey(todo[i].account), todo[i].id, fromNanos(todo[i].sentAt), &todo[i].Record); err != nil {
				return err
			}
			var rec capture.Record
			var findings []capture.Finding
			if err := json.Unmarshal(todo[i].Body, &rec); err != nil {
				return fmt.Errorf("while decoding record %s: %w", todo[i].id, err)
			}
			if len(todo[i].Findings) > 0 {
				if err := json.Unmarshal(todo[i].Findings, &findings); err != nil {
					return fmt.Errorf("while decoding the findings of record %s: %w", todo[i].id, err)
				}
			}
			facets[i] = store.FacetsOf(&rec, findings)
		}
		err = s.exclusive(ctx, func(ctx context.Context, tx *sql.Tx) error {
			var sealedUnder keyCounts
			for i, l := range todo {
				res, err := tx.ExecContext(ctx, `UPDATE records SET record = ?, findings = ?, key_id = ?, text = '',
					conversation = ?, categories = ?, severity = ? WHERE seq = ? AND key_id IS NULL`,
					l.SealedBody, l.SealedFindings, l.KeyID, facets[i].Conversation, facets[i].Categories, facets[i].Severity, l.seq)
				if err != nil {
					return fmt.Errorf("while encrypting record %s: %w", l.id, err)
				}
				if n, _ := res.RowsAffected(); n == 1 {
					sealedUnder.add(l.KeyID, 1)
				}
			}
			return sealedUnder.apply(ctx, tx.StmtContext(ctx, s.stmts.countKeyRecords))
		})
		if err != nil {
			return err
		}
		s.log.Info("Encrypted records stored before encryption at rest", "records", len(todo))
	}
}

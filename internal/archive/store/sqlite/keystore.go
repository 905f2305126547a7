package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/keys"
)

// keyStore is the archive's keys.Store: wrapped data keys live in the
// archive database, so that a purge erases a bucket's key in the same
// transaction that deletes the bucket's last record, and a backup of the
// database never holds a key without the records it opens or the reverse.
// Writes go through the single writer like every other write.
type keyStore struct{ s *Store }

var _ keys.Store = keyStore{}

const dataKeyColumns = `id, tenant, account, bucket, kek_id, wrapped, created_at, destroyed_at, wrapped_sha256`

// scanDataKey reads one data_keys row.
func scanDataKey(row interface{ Scan(...any) error }) (keys.WrappedDEK, error) {
	var d keys.WrappedDEK
	var bucket string
	var created int64
	var destroyed sql.NullInt64
	var wrappedSum []byte
	if err := row.Scan(&d.ID, &d.Scope.Tenant, &d.Scope.Account, &bucket, &d.KEKID, &d.Wrapped, &created, &destroyed, &wrappedSum); err != nil {
		return keys.WrappedDEK{}, err
	}
	b, err := keys.ParseBucket(bucket)
	if err != nil {
		return keys.WrappedDEK{}, fmt.Errorf("data key %s has a malformed bucket: %w", d.ID, err)
	}
	d.Scope.Bucket = b
	d.CreatedAt = fromNanos(created)
	if destroyed.Valid {
		d.DestroyedAt = fromNanos(destroyed.Int64)
		copy(d.WrappedSHA256[:], wrappedSum)
		d.Wrapped = nil
	}
	return d, nil
}

func lookupDataKey(ctx context.Context, q rowQuerier, where string, args ...any) (keys.WrappedDEK, error) {
	d, err := scanDataKey(q.QueryRowContext(ctx, `SELECT `+dataKeyColumns+` FROM data_keys WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return keys.WrappedDEK{}, keys.ErrKeyNotFound
	}
	if err != nil {
		return keys.WrappedDEK{}, fmt.Errorf("while reading a data key: %w", err)
	}
	return d, nil
}

// CreateIfAbsent implements keys.Store.
func (k keyStore) CreateIfAbsent(ctx context.Context, dek keys.WrappedDEK) (keys.WrappedDEK, bool, error) {
	if err := keys.ValidateNewDEK(dek); err != nil {
		return keys.WrappedDEK{}, false, err
	}
	var stored keys.WrappedDEK
	created := false
	err := k.s.exclusive(ctx, func(ctx context.Context, tx *sql.Tx) error {
		existing, err := lookupDataKey(ctx, tx, `tenant = ? AND account = ? AND bucket = ?`,
			dek.Scope.Tenant, dek.Scope.Account, dek.Scope.Bucket.String())
		if err == nil {
			stored = existing
			return nil
		}
		if !errors.Is(err, keys.ErrKeyNotFound) {
			return err
		}
		if _, err := lookupDataKey(ctx, tx, `id = ?`, dek.ID); err == nil {
			return fmt.Errorf("%w: DEK id %s already names another scope", keys.ErrConflict, dek.ID)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO data_keys (id, tenant, account, bucket, kek_id, wrapped, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, dek.ID, dek.Scope.Tenant, dek.Scope.Account, dek.Scope.Bucket.String(),
			dek.KEKID, dek.Wrapped, nanos(dek.CreatedAt)); err != nil {
			return fmt.Errorf("while storing data key %s: %w", dek.ID, err)
		}
		stored, created = dek, true
		stored.Wrapped = bytes.Clone(dek.Wrapped)
		return nil
	})
	if err != nil {
		return keys.WrappedDEK{}, false, err
	}
	return stored, created, nil
}

// Get implements keys.Store.
func (k keyStore) Get(ctx context.Context, id string) (keys.WrappedDEK, error) {
	return readOnlyKeys{k.s.reader}.Get(ctx, id)
}

// Lookup implements keys.Store.
func (k keyStore) Lookup(ctx context.Context, scope keys.Scope) (keys.WrappedDEK, error) {
	return readOnlyKeys{k.s.reader}.Lookup(ctx, scope)
}

// Destroy implements keys.Store.
func (k keyStore) Destroy(ctx context.Context, id string, at time.Time) (keys.WrappedDEK, error) {
	var tomb keys.WrappedDEK
	err := k.s.exclusive(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		tomb, err = destroyDataKey(ctx, tx, id, at)
		return err
	})
	return tomb, err
}

// destroyDataKey erases a wrapped key in tx, leaving its tombstone. The
// database runs with secure_delete, so the erased bytes are overwritten in
// the file, not only unlinked from the b-tree.
func destroyDataKey(ctx context.Context, tx *sql.Tx, id string, at time.Time) (keys.WrappedDEK, error) {
	d, err := lookupDataKey(ctx, tx, `id = ?`, id)
	if err != nil {
		return keys.WrappedDEK{}, fmt.Errorf("DEK %s: %w", id, err)
	}
	if d.Destroyed() {
		return d, nil
	}
	tomb := d.Tombstone(at)
	if _, err := tx.ExecContext(ctx, `UPDATE data_keys SET wrapped = NULL, destroyed_at = ?, wrapped_sha256 = ? WHERE id = ?`,
		nanos(tomb.DestroyedAt), tomb.WrappedSHA256[:], id); err != nil {
		return keys.WrappedDEK{}, fmt.Errorf("while destroying data key %s: %w", id, err)
	}
	return tomb, nil
}

// Rewrap implements keys.Store.
func (k keyStore) Rewrap(ctx context.Context, id string, old, rewrapped []byte, kekID string) error {
	if err := keys.ValidateKEKID(kekID); err != nil {
		return err
	}
	if len(rewrapped) == 0 {
		return fmt.Errorf("%w: rewrapped key is empty", keys.ErrInvalid)
	}
	return k.s.exclusive(ctx, func(ctx context.Context, tx *sql.Tx) error {
		d, err := lookupDataKey(ctx, tx, `id = ?`, id)
		switch {
		case err != nil:
			return fmt.Errorf("DEK %s: %w", id, err)
		case d.Destroyed():
			return fmt.Errorf("DEK %s: %w", id, keys.ErrShredded)
		case !bytes.Equal(d.Wrapped, old):
			return fmt.Errorf("DEK %s was rewrapped by someone else: %w", id, keys.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE data_keys SET wrapped = ?, kek_id = ? WHERE id = ?`, rewrapped, kekID, id); err != nil {
			return fmt.Errorf("while rewrapping data key %s: %w", id, err)
		}
		return nil
	})
}

// List implements keys.Store.
func (k keyStore) List(ctx context.Context, q keys.ListQuery) ([]keys.WrappedDEK, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	where, args := `id > ?`, []any{q.After}
	if !q.Bucket.IsZero() {
		where += ` AND bucket = ?`
		args = append(args, q.Bucket.String())
	}
	rows, err := k.s.reader.QueryContext(ctx, `SELECT `+dataKeyColumns+` FROM data_keys WHERE `+where+` ORDER BY id LIMIT ?`, append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("while listing data keys: %w", err)
	}
	defer rows.Close()
	var out []keys.WrappedDEK
	for rows.Next() {
		d, err := scanDataKey(rows)
		if err != nil {
			return nil, fmt.Errorf("while listing data keys: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// rowQuerier is what reading a data key needs: a *sql.DB or a *sql.Tx.
type rowQuerier interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// errReadOnlyKeys refuses every change to a read-only key store.
var errReadOnlyKeys = errors.New("this key store is read-only")

// ReadOnlyKeys is a keys.Store over an archive database read through q (an
// auditor's read transaction, say): it finds keys and refuses every change,
// so opening records with it can never create or destroy one.
func ReadOnlyKeys(q rowQuerier) keys.Store { return readOnlyKeys{q} }

type readOnlyKeys struct{ q rowQuerier }

func (k readOnlyKeys) Get(ctx context.Context, id string) (keys.WrappedDEK, error) {
	d, err := lookupDataKey(ctx, k.q, `id = ?`, id)
	if err != nil {
		return d, fmt.Errorf("DEK %s: %w", id, err)
	}
	return d, nil
}

func (k readOnlyKeys) Lookup(ctx context.Context, scope keys.Scope) (keys.WrappedDEK, error) {
	d, err := lookupDataKey(ctx, k.q, `tenant = ? AND account = ? AND bucket = ?`, scope.Tenant, scope.Account, scope.Bucket.String())
	if err != nil {
		return d, fmt.Errorf("DEK of %s: %w", scope, err)
	}
	return d, nil
}

func (readOnlyKeys) CreateIfAbsent(context.Context, keys.WrappedDEK) (keys.WrappedDEK, bool, error) {
	return keys.WrappedDEK{}, false, errReadOnlyKeys
}

func (readOnlyKeys) Destroy(context.Context, string, time.Time) (keys.WrappedDEK, error) {
	return keys.WrappedDEK{}, errReadOnlyKeys
}

func (readOnlyKeys) Rewrap(context.Context, string, []byte, []byte, string) error {
	return errReadOnlyKeys
}

func (readOnlyKeys) List(context.Context, keys.ListQuery) ([]keys.WrappedDEK, error) {
	return nil, errReadOnlyKeys
}

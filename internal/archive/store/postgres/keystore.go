package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-operator/vigil/internal/archive/keys"
)

// keyStore is the archive's keys.Store: wrapped data keys live in the
// archive's database, so that a purge erases a month's key in the same
// transaction that deletes the month's last record, and a backup of the
// database never holds a key without the records it opens or the reverse.
// Writes go through the writer, under the write lock, like every other
// write: an ingest's check that its keys are live cannot race a destroy.
type keyStore struct{ s *Store }

var _ keys.Store = keyStore{}

// KeyStore is the store's keys.Store over its data_keys table.
func (s *Store) KeyStore() keys.Store { return keyStore{s} }

const dataKeyColumns = `id, tenant, account, bucket, kek_id, wrapped, created_at, destroyed_at, wrapped_sha256`

// scanDataKey reads one data_keys row.
func scanDataKey(row pgx.Row) (keys.WrappedDEK, error) {
	var d keys.WrappedDEK
	var bucket string
	var created int64
	var destroyed *int64
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
	if destroyed != nil {
		d.DestroyedAt = fromNanos(*destroyed)
		copy(d.WrappedSHA256[:], wrappedSum)
		d.Wrapped = nil
	}
	return d, nil
}

func lookupDataKey(ctx context.Context, q querier, where string, args ...any) (keys.WrappedDEK, error) {
	d, err := scanDataKey(q.QueryRow(ctx, `SELECT `+dataKeyColumns+` FROM data_keys WHERE `+where, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return keys.WrappedDEK{}, keys.ErrKeyNotFound
	}
	if err != nil {
		return keys.WrappedDEK{}, fmt.Errorf("while reading a data key: %w", err)
	}
	return d, nil
}

// read runs a lookup on a reader connection.
func (k keyStore) read(ctx context.Context, where string, args ...any) (keys.WrappedDEK, error) {
	var d keys.WrappedDEK
	err := k.s.reader.with(ctx, func(c *pgx.Conn) error {
		var err error
		d, err = lookupDataKey(ctx, c, where, args...)
		return err
	})
	return d, err
}

// CreateIfAbsent implements keys.Store.
func (k keyStore) CreateIfAbsent(ctx context.Context, dek keys.WrappedDEK) (keys.WrappedDEK, bool, error) {
	if err := keys.ValidateNewDEK(dek); err != nil {
		return keys.WrappedDEK{}, false, err
	}
	var stored keys.WrappedDEK
	created := false
	err := k.s.exclusive(ctx, func(ctx context.Context, t *txn) error {
		existing, err := lookupDataKey(ctx, t, `tenant = $1 AND account = $2 AND bucket = $3`,
			dek.Scope.Tenant, dek.Scope.Account, dek.Scope.Bucket.String())
		if err == nil {
			stored = existing
			return nil
		}
		if !errors.Is(err, keys.ErrKeyNotFound) {
			return err
		}
		if _, err := lookupDataKey(ctx, t, `id = $1`, dek.ID); err == nil {
			return fmt.Errorf("%w: DEK id %s already names another scope", keys.ErrConflict, dek.ID)
		}
		if _, err := t.Exec(ctx, `INSERT INTO data_keys (id, tenant, account, bucket, kek_id, wrapped, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, dek.ID, dek.Scope.Tenant, dek.Scope.Account, dek.Scope.Bucket.String(),
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
	d, err := k.read(ctx, `id = $1`, id)
	if err != nil {
		return d, fmt.Errorf("DEK %s: %w", id, err)
	}
	return d, nil
}

// Lookup implements keys.Store.
func (k keyStore) Lookup(ctx context.Context, scope keys.Scope) (keys.WrappedDEK, error) {
	d, err := k.read(ctx, `tenant = $1 AND account = $2 AND bucket = $3`, scope.Tenant, scope.Account, scope.Bucket.String())
	if err != nil {
		return d, fmt.Errorf("DEK of %s: %w", scope, err)
	}
	return d, nil
}

// Destroy implements keys.Store.
func (k keyStore) Destroy(ctx context.Context, id string, at time.Time) (keys.WrappedDEK, error) {
	var tomb keys.WrappedDEK
	err := k.s.exclusive(ctx, func(ctx context.Context, t *txn) error {
		var err error
		tomb, err = destroyDataKey(ctx, t, id, at)
		return err
	})
	return tomb, err
}

// destroyDataKey erases a wrapped key in t, leaving its tombstone. The old
// row version keeps the bytes until a vacuum reclaims it (see vacuumKeys).
func destroyDataKey(ctx context.Context, t *txn, id string, at time.Time) (keys.WrappedDEK, error) {
	d, err := lookupDataKey(ctx, t, `id = $1`, id)
	if err != nil {
		return keys.WrappedDEK{}, fmt.Errorf("DEK %s: %w", id, err)
	}
	if d.Destroyed() {
		return d, nil
	}
	tomb := d.Tombstone(at)
	if _, err := t.Exec(ctx, `UPDATE data_keys SET wrapped = NULL, destroyed_at = $1, wrapped_sha256 = $2 WHERE id = $3`,
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
	return k.s.exclusive(ctx, func(ctx context.Context, t *txn) error {
		d, err := lookupDataKey(ctx, t, `id = $1`, id)
		switch {
		case err != nil:
			return fmt.Errorf("DEK %s: %w", id, err)
		case d.Destroyed():
			return fmt.Errorf("DEK %s: %w", id, keys.ErrShredded)
		case !bytes.Equal(d.Wrapped, old):
			return fmt.Errorf("DEK %s was rewrapped by someone else: %w", id, keys.ErrConflict)
		}
		if _, err := t.Exec(ctx, `UPDATE data_keys SET wrapped = $1, kek_id = $2 WHERE id = $3`, rewrapped, kekID, id); err != nil {
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
	where, args := `id > $1`, []any{q.After}
	if !q.Bucket.IsZero() {
		where += ` AND bucket = $2`
		args = append(args, q.Bucket.String())
	}
	args = append(args, q.Limit)
	sql := fmt.Sprintf(`SELECT %s FROM data_keys WHERE %s ORDER BY id LIMIT $%d`, dataKeyColumns, where, len(args))
	var out []keys.WrappedDEK
	err := k.s.reader.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (keys.WrappedDEK, error) { return scanDataKey(row) })
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("while listing data keys: %w", err)
	}
	return out, nil
}

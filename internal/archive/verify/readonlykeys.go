package verify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-operator/vigil/internal/archive/keys"
)

// errReadOnly refuses every change: verify only reads keys.
var errReadOnly = errors.New("vigil verify never changes the key store")

// readOnlyKeys reads wrapped data keys from the archive's data_keys table
// inside verify's read transaction, so opening a record uses the key as the
// snapshot holds it.
type readOnlyKeys struct{ tx *sql.Tx }

var _ keys.Store = readOnlyKeys{}

func (k readOnlyKeys) lookup(ctx context.Context, where string, args ...any) (keys.WrappedDEK, error) {
	var d keys.WrappedDEK
	var bucket string
	var created int64
	var destroyed sql.NullInt64
	err := k.tx.QueryRowContext(ctx, `SELECT id, tenant, account, bucket, kek_id, wrapped, created_at, destroyed_at FROM data_keys WHERE `+where, args...).
		Scan(&d.ID, &d.Scope.Tenant, &d.Scope.Account, &bucket, &d.KEKID, &d.Wrapped, &created, &destroyed)
	if errors.Is(err, sql.ErrNoRows) {
		return d, keys.ErrKeyNotFound
	}
	if err != nil {
		return d, fmt.Errorf("while reading a data key: %w", err)
	}
	if d.Scope.Bucket, err = keys.ParseBucket(bucket); err != nil {
		return d, fmt.Errorf("data key %s: %w", d.ID, err)
	}
	d.CreatedAt = time.Unix(0, created).UTC()
	if destroyed.Valid {
		d.DestroyedAt = time.Unix(0, destroyed.Int64).UTC()
		d.Wrapped = nil
	}
	return d, nil
}

func (k readOnlyKeys) Get(ctx context.Context, id string) (keys.WrappedDEK, error) {
	return k.lookup(ctx, `id = ?`, id)
}

func (k readOnlyKeys) Lookup(ctx context.Context, s keys.Scope) (keys.WrappedDEK, error) {
	return k.lookup(ctx, `tenant = ? AND account = ? AND bucket = ?`, s.Tenant, s.Account, s.Bucket.String())
}

func (readOnlyKeys) CreateIfAbsent(context.Context, keys.WrappedDEK) (keys.WrappedDEK, bool, error) {
	return keys.WrappedDEK{}, false, errReadOnly
}

func (readOnlyKeys) Destroy(context.Context, string, time.Time) (keys.WrappedDEK, error) {
	return keys.WrappedDEK{}, errReadOnly
}

func (readOnlyKeys) Rewrap(context.Context, string, []byte, []byte, string) error { return errReadOnly }

func (readOnlyKeys) List(context.Context, keys.ListQuery) ([]keys.WrappedDEK, error) {
	return nil, errReadOnly
}

package segments

import (
	"fmt"
	"strings"

	"github.com/oklog/ulid/v2"

	"github.com/vigil-operator/vigil/internal/archive/keys"
)

// KeyPrefix is the first path segment of every segment object key, so a
// bucket or directory shared with other data keeps segments apart.
const KeyPrefix = "segments/"

// keySuffix marks segment objects, so stray files in a segment directory
// are not mistaken for segments.
const keySuffix = ".seg"

// Key is the object key of a segment:
//
//	segments/<account>/<YYYY-MM>/<segment id>.seg
//
// The account and the expiry bucket lead so that one account's segments,
// and one bucket of it, list under a single prefix: a purge of a bucket
// lists exactly the objects it may delete, and a legal hold on an account
// finds every segment to hold. The account "namespace/name" contributes two
// path segments.
func Key(h Header) string {
	return BucketPrefix(h.Account, h.Bucket) + h.ID.String() + keySuffix
}

// AccountPrefix lists every segment of an account.
func AccountPrefix(account string) string { return KeyPrefix + account + "/" }

// BucketPrefix lists every segment of an account's expiry bucket.
func BucketPrefix(account string, b keys.Bucket) string {
	return AccountPrefix(account) + b.String() + "/"
}

// ParseKey splits a segment key into its account, bucket and id. It accepts
// exactly what Key produces for a valid header.
func ParseKey(key string) (account string, bucket keys.Bucket, id ulid.ULID, err error) {
	rest, ok := strings.CutPrefix(key, KeyPrefix)
	if !ok {
		return "", keys.Bucket{}, ulid.ULID{}, fmt.Errorf("%w: key %q does not start with %q", ErrInvalid, key, KeyPrefix)
	}
	rest, ok = strings.CutSuffix(rest, keySuffix)
	if !ok {
		return "", keys.Bucket{}, ulid.ULID{}, fmt.Errorf("%w: key %q does not end with %q", ErrInvalid, key, keySuffix)
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 3 {
		return "", keys.Bucket{}, ulid.ULID{}, fmt.Errorf("%w: key %q is not segments/<account>/<YYYY-MM>/<id>.seg", ErrInvalid, key)
	}
	account = strings.Join(parts[:len(parts)-2], "/")
	if err := ValidateAccount(account); err != nil {
		return "", keys.Bucket{}, ulid.ULID{}, fmt.Errorf("key %q: %w", key, err)
	}
	bucket, err = keys.ParseBucket(parts[len(parts)-2])
	if err != nil {
		return "", keys.Bucket{}, ulid.ULID{}, fmt.Errorf("%w: key %q: %v", ErrInvalid, key, err)
	}
	idText := parts[len(parts)-1]
	id, err = ulid.ParseStrict(idText)
	if err != nil || id.String() != idText || id == (ulid.ULID{}) {
		return "", keys.Bucket{}, ulid.ULID{}, fmt.Errorf("%w: key %q: segment id %q is not a canonical non-zero ULID", ErrInvalid, key, idText)
	}
	return account, bucket, id, nil
}

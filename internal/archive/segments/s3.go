package segments

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 is a Backend on S3-compatible object storage with Object Lock (AWS S3,
// MinIO, Ceph RGW). Every segment is stored with COMPLIANCE
// retention until its retain-until date and, when held, a legal hold, so
// the storage refuses to delete it or shorten its retention; this code
// never decides that itself. It refuses to start on a bucket without
// Object Lock, where the same calls would store unprotected objects.
type S3 struct {
	client *minio.Client
	bucket string
}

// S3Config connects to a bucket.
type S3Config struct {
	// Endpoint is the host[:port] of the S3 API, e.g. "s3.eu-west-1.amazonaws.com".
	Endpoint string
	// Region of the bucket; empty asks the endpoint.
	Region string
	// Bucket must have Object Lock enabled.
	Bucket string
	// AccessKeyID and SecretAccessKey (and SessionToken for temporary
	// credentials) authenticate; when empty, the AWS environment variables,
	// the shared credentials file, and the web-identity and instance-role
	// providers (IRSA, EKS Pod Identity, EC2) are tried in that order.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// Insecure uses plain HTTP, for test servers on loopback only.
	Insecure bool
}

// NewS3 connects to the bucket in cfg and checks it has Object Lock.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	creds := credentials.NewStaticV4(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)
	if cfg.AccessKeyID == "" {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{},
			&credentials.FileAWSCredentials{},
			&credentials.IAM{},
		})
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{Creds: creds, Secure: !cfg.Insecure, Region: cfg.Region})
	if err != nil {
		return nil, fmt.Errorf("S3 endpoint %q: %w", cfg.Endpoint, err)
	}
	return NewS3WithClient(ctx, client, cfg.Bucket)
}

// NewS3WithClient uses an existing client. It checks that the bucket exists
// and has Object Lock enabled (which implies versioning), and refuses to
// start otherwise: without it COMPLIANCE retention cannot be set, and the
// archive would believe its segments protected when they are not.
func NewS3WithClient(ctx context.Context, client *minio.Client, bucket string) (*S3, error) {
	exists, err := client.BucketExists(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("while checking S3 bucket %q: %w", bucket, err)
	}
	if !exists {
		return nil, fmt.Errorf("S3 bucket %q does not exist; create it with Object Lock enabled (see docs/archive-segments.md)", bucket)
	}
	lock, _, _, _, err := client.GetObjectLockConfig(ctx, bucket)
	if err != nil && minio.ToErrorResponse(err).Code != "ObjectLockConfigurationNotFoundError" {
		return nil, fmt.Errorf("while reading the Object Lock configuration of S3 bucket %q: %w", bucket, err)
	}
	if lock != "Enabled" {
		return nil, fmt.Errorf("S3 bucket %q does not have Object Lock enabled: segments need COMPLIANCE retention, which only a bucket with Object Lock can give; "+
			"create the bucket with Object Lock (aws s3api create-bucket --object-lock-enabled-for-bucket, mc mb --with-lock) or enable it on the versioned bucket (AWS only); see docs/archive-segments.md", bucket)
	}
	versioning, err := client.GetBucketVersioning(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("while reading the versioning of S3 bucket %q: %w", bucket, err)
	}
	if !versioning.Enabled() {
		return nil, fmt.Errorf("S3 bucket %q has Object Lock but versioning is %q; Object Lock needs versioning enabled", bucket, versioning.Status)
	}
	return &S3{client: client, bucket: bucket}, nil
}

// Bucket is the bucket segments are stored in.
func (s *S3) Bucket() string { return s.bucket }

// Put implements Backend.
func (s *S3) Put(ctx context.Context, key string, body io.Reader, size int64, lock Lock) (string, error) {
	if err := validateKey(key); err != nil {
		return "", err
	}
	retainUntil := ceilSecond(lock.RetainUntil)
	// The storage refuses past dates too; checking here gives the same error
	// on every implementation, and guards against one that would not refuse.
	if !retainUntil.After(time.Now()) {
		return "", fmt.Errorf("%w: retain-until %s is not in the future", ErrInvalid, retainUntil.Format(time.RFC3339))
	}
	opts := minio.PutObjectOptions{
		ContentType:     "application/octet-stream",
		Mode:            minio.Compliance,
		RetainUntilDate: retainUntil,
		// AWS requires an integrity checksum on every PUT that sets Object
		// Lock retention.
		SendContentMd5: true,
		// One request, so If-None-Match below guards the whole upload (a
		// segment is at most a target size plus one blob, far below the
		// 5 GiB single-PUT limit).
		DisableMultipart: true,
	}
	if lock.LegalHold {
		opts.LegalHold = minio.LegalHoldEnabled
	}
	// If-None-Match: * makes the storage refuse a second object under the
	// key instead of stacking a new version on the locked one.
	opts.SetMatchETagExcept("*")
	info, err := s.client.PutObject(ctx, s.bucket, key, body, size, opts)
	if err != nil {
		switch minio.ToErrorResponse(err).Code {
		case "PreconditionFailed":
			return "", fmt.Errorf("%w: %s: %w", ErrExists, key, err)
		case "InvalidArgument", "InvalidRequest":
			return "", fmt.Errorf("%w: storing %s: %w", ErrInvalid, key, err)
		}
		return "", fmt.Errorf("while storing %s in S3 bucket %q: %w", key, s.bucket, err)
	}
	if info.VersionID == "" {
		return "", fmt.Errorf("S3 bucket %q stored %s without a version id: versioning is off, so the object is not locked", s.bucket, key)
	}
	return info.VersionID, nil
}

// Get implements Backend.
func (s *S3) Get(ctx context.Context, key, versionID string) (io.ReadCloser, error) {
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{VersionID: versionID})
	if err != nil {
		return nil, s.mapErr("reading", key, versionID, err)
	}
	// GetObject is lazy; Stat sends the request, so a missing object is
	// reported here rather than at the first Read.
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		return nil, s.mapErr("reading", key, versionID, err)
	}
	return obj, nil
}

// GetRange implements Backend.
func (s *S3) GetRange(ctx context.Context, key, versionID string, offset, length int64) ([]byte, error) {
	if offset < 0 || length < 1 {
		return nil, fmt.Errorf("%w: range of %d bytes at %d of %s", ErrInvalid, length, offset, key)
	}
	opts := minio.GetObjectOptions{VersionID: versionID}
	if err := opts.SetRange(offset, offset+length-1); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, opts)
	if err != nil {
		return nil, s.mapErr("reading", key, versionID, err)
	}
	defer obj.Close()
	buf := make([]byte, length)
	// S3 answers a range that runs past the end with what there is; a short
	// read is the only sign, and it must not pass for a record.
	if _, err := io.ReadFull(obj, buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || minio.ToErrorResponse(err).Code == "InvalidRange" {
			return nil, fmt.Errorf("%w: range of %d bytes at %d is outside %s", ErrInvalid, length, offset, key)
		}
		return nil, s.mapErr("reading", key, versionID, err)
	}
	return buf, nil
}

// Stat implements Backend.
func (s *S3) Stat(ctx context.Context, key, versionID string) (ObjectInfo, error) {
	oi, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{VersionID: versionID})
	if err != nil {
		return ObjectInfo{}, s.mapErr("describing", key, versionID, err)
	}
	if oi.IsDeleteMarker {
		return ObjectInfo{}, fmt.Errorf("%w: %s version %s is a delete marker", ErrNotFound, key, oi.VersionID)
	}
	info := ObjectInfo{Key: key, VersionID: oi.VersionID, Size: oi.Size, Modified: oi.LastModified}
	// HEAD answers carry the lock state when the caller may read it (AWS,
	// MinIO, Ceph), which saves two requests; otherwise ask for it.
	if until := oi.Metadata.Get("X-Amz-Object-Lock-Retain-Until-Date"); until != "" {
		t, err := time.Parse(time.RFC3339, until)
		if err != nil {
			return ObjectInfo{}, fmt.Errorf("S3 bucket %q: retain-until %q of %s: %w", s.bucket, until, key, err)
		}
		info.RetainUntil = t.UTC()
	} else if _, t, err := s.client.GetObjectRetention(ctx, s.bucket, key, oi.VersionID); err == nil && t != nil {
		info.RetainUntil = t.UTC()
	} else if err != nil && minio.ToErrorResponse(err).Code != "NoSuchObjectLockConfiguration" {
		return ObjectInfo{}, s.mapErr("reading the retention of", key, oi.VersionID, err)
	}
	if hold := oi.Metadata.Get("X-Amz-Object-Lock-Legal-Hold"); hold != "" {
		info.LegalHold = hold == string(minio.LegalHoldEnabled)
	} else if h, err := s.client.GetObjectLegalHold(ctx, s.bucket, key, minio.GetObjectLegalHoldOptions{VersionID: oi.VersionID}); err == nil && h != nil {
		info.LegalHold = *h == minio.LegalHoldEnabled
	} else if err != nil && minio.ToErrorResponse(err).Code != "NoSuchObjectLockConfiguration" {
		return ObjectInfo{}, s.mapErr("reading the legal hold of", key, oi.VersionID, err)
	}
	return info, nil
}

// SetLegalHold implements Backend.
func (s *S3) SetLegalHold(ctx context.Context, key, versionID string, on bool) error {
	if versionID == "" {
		return fmt.Errorf("%w: a legal hold on %s needs a version id", ErrInvalid, key)
	}
	status := minio.LegalHoldDisabled
	if on {
		status = minio.LegalHoldEnabled
	}
	if err := s.client.PutObjectLegalHold(ctx, s.bucket, key, minio.PutObjectLegalHoldOptions{VersionID: versionID, Status: &status}); err != nil {
		return s.mapErr("setting the legal hold of", key, versionID, err)
	}
	return nil
}

// ExtendRetention implements Backend. The request goes to the storage as
// is: an earlier date is refused there, which is the point.
func (s *S3) ExtendRetention(ctx context.Context, key, versionID string, until time.Time) error {
	if versionID == "" {
		return fmt.Errorf("%w: extending the retention of %s needs a version id", ErrInvalid, key)
	}
	mode := minio.Compliance
	until = ceilSecond(until)
	err := s.client.PutObjectRetention(ctx, s.bucket, key, minio.PutObjectRetentionOptions{Mode: &mode, RetainUntilDate: &until, VersionID: versionID})
	if err != nil {
		return s.refusal(ctx, "extending the retention of", key, versionID, err)
	}
	return nil
}

// Delete implements Backend.
func (s *S3) Delete(ctx context.Context, key, versionID string) error {
	if versionID == "" {
		return fmt.Errorf("%w: deleting %s needs a version id; without one S3 only adds a delete marker", ErrInvalid, key)
	}
	// S3 answers a delete of a version that does not exist with success;
	// asking first tells a typo from a purge.
	if _, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{VersionID: versionID}); err != nil {
		return s.mapErr("deleting", key, versionID, err)
	}
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{VersionID: versionID}); err != nil {
		return s.refusal(ctx, "deleting", key, versionID, err)
	}
	return nil
}

// refusal maps an error from a call that Object Lock may refuse. Stores
// word the refusal differently (AWS and Ceph: 403 AccessDenied; MinIO: 400
// InvalidRequest "Object is WORM protected"), and the same statuses also
// mean a missing permission or a malformed request, so the object's own
// lock state decides: a client error on an object that is retained or held
// is the lock at work.
func (s *S3) refusal(ctx context.Context, op, key, versionID string, err error) error {
	if status := minio.ToErrorResponse(err).StatusCode; status == http.StatusForbidden || status == http.StatusBadRequest {
		if info, statErr := s.Stat(ctx, key, versionID); statErr == nil && (info.LegalHold || info.RetainUntil.After(time.Now())) {
			return fmt.Errorf("%w: %s %s version %s refused by the storage (retained until %s, legal hold %t): %w",
				ErrLocked, op, key, versionID, info.RetainUntil.Format(time.RFC3339), info.LegalHold, err)
		}
	}
	return s.mapErr(op, key, versionID, err)
}

// List implements Backend. It lists versions, not just current objects, so
// that nothing stays hidden behind a delete marker; delete markers
// themselves are skipped.
func (s *S3) List(ctx context.Context, prefix string) iter.Seq2[ObjectInfo, error] {
	return func(yield func(ObjectInfo, error) bool) {
		for oi := range s.client.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true, WithVersions: true}) {
			if oi.Err != nil {
				yield(ObjectInfo{}, fmt.Errorf("while listing %q in S3 bucket %q: %w", prefix, s.bucket, oi.Err))
				return
			}
			if oi.IsDeleteMarker {
				continue
			}
			if !yield(ObjectInfo{Key: oi.Key, VersionID: oi.VersionID, Size: oi.Size, Modified: oi.LastModified}, nil) {
				return
			}
		}
	}
}

func (s *S3) mapErr(op, key, versionID string, err error) error {
	what := key
	if versionID != "" {
		what += " version " + versionID
	}
	switch minio.ToErrorResponse(err).Code {
	case "NoSuchKey", "NoSuchVersion", "NoSuchObject":
		return fmt.Errorf("%w: %s %s: %w", ErrNotFound, op, what, err)
	case "InvalidArgument", "InvalidRequest":
		return fmt.Errorf("%w: %s %s: %w", ErrInvalid, op, what, err)
	}
	return fmt.Errorf("while %s %s in S3 bucket %q: %w", op, what, s.bucket, err)
}

// ceilSecond rounds up to a whole second: S3 keeps retain-until dates to
// the second, and rounding down would retain for less than asked.
func ceilSecond(t time.Time) time.Time {
	t = t.UTC()
	if r := t.Truncate(time.Second); !r.Equal(t) {
		return r.Add(time.Second)
	}
	return t
}

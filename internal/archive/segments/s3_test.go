package segments_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/oklog/ulid/v2"

	"github.com/vigil-operator/vigil/internal/archive/segments"
	"github.com/vigil-operator/vigil/internal/archive/segments/backendtest"
	"github.com/vigil-operator/vigil/internal/testenv"
)

// These tests run against a real S3 server (MinIO, built from its Go module
// by hack/install-s3-server.sh on first use) that enforces Object Lock
// itself: every refusal asserted here comes from the server.

func s3Client(t testing.TB, srv *testenv.S3) *minio.Client {
	t.Helper()
	c, err := minio.New(srv.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, ""),
		Region: srv.Region,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// makeBucket creates a bucket, with Object Lock when locked.
func makeBucket(t testing.TB, c *minio.Client, locked bool) string {
	t.Helper()
	name := "vigil-" + strings.ToLower(ulid.Make().String())
	if err := c.MakeBucket(t.Context(), name, minio.MakeBucketOptions{ObjectLocking: locked}); err != nil {
		t.Fatalf("creating bucket %s: %v", name, err)
	}
	return name
}

func newS3(t testing.TB, srv *testenv.S3, bucket string) *segments.S3 {
	t.Helper()
	b, err := segments.NewS3(t.Context(), segments.S3Config{
		Endpoint: srv.Endpoint, Region: srv.Region, Bucket: bucket,
		AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey, Insecure: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// isLockRefusal recognises the server refusing because of Object Lock: AWS
// and Ceph answer 403 AccessDenied, MinIO 400 InvalidRequest "Object is
// WORM protected and cannot be overwritten".
func isLockRefusal(err error) bool {
	resp := minio.ToErrorResponse(err)
	switch {
	case err == nil:
		return false
	case resp.StatusCode == http.StatusForbidden && resp.Code == "AccessDenied":
		return true
	case resp.StatusCode == http.StatusBadRequest && resp.Code == "InvalidRequest" && strings.Contains(resp.Message, "WORM protected"):
		return true
	}
	return false
}

func TestS3Conformance(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	c := s3Client(t, srv)
	backendtest.Run(t, func(t *testing.T) segments.Backend {
		return newS3(t, srv, makeBucket(t, c, true))
	})
}

// TestS3RefusesBucketWithoutObjectLock: without Object Lock the same calls
// would store unprotected objects, so the backend will not start.
func TestS3RefusesBucketWithoutObjectLock(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	c := s3Client(t, srv)
	plain := makeBucket(t, c, false)
	_, err := segments.NewS3(t.Context(), segments.S3Config{
		Endpoint: srv.Endpoint, Region: srv.Region, Bucket: plain,
		AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey, Insecure: true,
	})
	if err == nil || !strings.Contains(err.Error(), "does not have Object Lock enabled") {
		t.Fatalf("NewS3 on a bucket without Object Lock: %v", err)
	}
	_, err = segments.NewS3WithClient(t.Context(), c, "vigil-no-such-bucket")
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("NewS3 on a missing bucket: %v", err)
	}

	locked := makeBucket(t, c, true)
	mode, _, _, _, err := c.GetObjectLockConfig(t.Context(), locked)
	if err != nil || mode != "Enabled" {
		t.Fatalf("Object Lock configuration of a locked bucket: %q, %v", mode, err)
	}
	if v, err := c.GetBucketVersioning(t.Context(), locked); err != nil || !v.Enabled() {
		t.Fatalf("versioning of a locked bucket: %+v, %v", v, err)
	}
	newS3(t, srv, locked)
}

// TestS3ServerEnforcesCompliance goes around the backend and asks the
// server directly to do what COMPLIANCE mode forbids, including with the
// governance bypass a bucket owner could use on GOVERNANCE objects.
func TestS3ServerEnforcesCompliance(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	c := s3Client(t, srv)
	bucket := makeBucket(t, c, true)
	b := newS3(t, srv, bucket)
	ctx := t.Context()

	key := "segments/desk/alice/2030-01/" + ulid.Make().String() + ".seg"
	body := []byte("a sealed segment")
	until := time.Now().Add(time.Hour).Truncate(time.Second)
	v, err := b.Put(ctx, key, bytes.NewReader(body), int64(len(body)), segments.Lock{RetainUntil: until})
	if err != nil {
		t.Fatal(err)
	}
	mode, retained, err := c.GetObjectRetention(ctx, bucket, key, v)
	if err != nil || mode == nil || *mode != minio.Compliance || !retained.Equal(until) {
		t.Fatalf("stored retention %v until %v (%v); want COMPLIANCE until %s", mode, retained, err, until)
	}

	refused := func(what string, err error) {
		t.Helper()
		if !isLockRefusal(err) {
			t.Fatalf("%s: the server answered %v; want an Object Lock refusal", what, err)
		}
	}
	refused("delete of the version", c.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{VersionID: v}))
	refused("delete with governance bypass", c.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{VersionID: v, GovernanceBypass: true}))
	earlier := until.Add(-30 * time.Minute)
	compliance, governance := minio.Compliance, minio.Governance
	refused("shortening the retention", c.PutObjectRetention(ctx, bucket, key, minio.PutObjectRetentionOptions{VersionID: v, Mode: &compliance, RetainUntilDate: &earlier}))
	refused("shortening with governance bypass", c.PutObjectRetention(ctx, bucket, key, minio.PutObjectRetentionOptions{VersionID: v, Mode: &compliance, RetainUntilDate: &earlier, GovernanceBypass: true}))
	refused("downgrading to GOVERNANCE", c.PutObjectRetention(ctx, bucket, key, minio.PutObjectRetentionOptions{VersionID: v, Mode: &governance, RetainUntilDate: &until, GovernanceBypass: true}))

	// The backend's refusals are the server's, passed on.
	err = b.Delete(ctx, key, v)
	var resp minio.ErrorResponse
	if !errors.Is(err, segments.ErrLocked) || !errors.As(err, &resp) || !isLockRefusal(resp) {
		t.Fatalf("backend Delete: %v; want ErrLocked wrapping the server's refusal", err)
	}

	// An overwrite without the backend's If-None-Match can only stack a new
	// version on top; the locked version stays, unchanged and locked.
	other := []byte("replacement")
	if _, err := c.PutObject(ctx, bucket, key, bytes.NewReader(other), int64(len(other)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("plain PUT over a locked key: %v", err)
	}
	// So does a delete without a version id: it adds a delete marker.
	if err := c.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{}); err != nil {
		t.Fatalf("unversioned delete: %v", err)
	}
	r, err := b.Get(ctx, key, v)
	if err != nil {
		t.Fatalf("the locked version after an overwrite and a delete marker: %v", err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(got, body) {
		t.Fatalf("the locked version reads %q", got)
	}
	if info, err := b.Stat(ctx, key, v); err != nil || !info.RetainUntil.Equal(until) {
		t.Fatalf("the locked version's retention after the attempts: %+v, %v", info, err)
	}
	var versions []string
	for oi, err := range b.List(ctx, key) {
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, oi.VersionID)
	}
	if len(versions) != 2 || (versions[0] != v && versions[1] != v) {
		t.Fatalf("List shows versions %q; want the locked %s and the overwrite, not the delete marker", versions, v)
	}
}

// TestS3LegalHoldOutlivesRetention: with retention over, the server still
// refuses a delete while a hold is on, bypass or not.
func TestS3LegalHoldOutlivesRetention(t *testing.T) {
	t.Parallel()
	srv := testenv.StartS3(t)
	c := s3Client(t, srv)
	bucket := makeBucket(t, c, true)
	b := newS3(t, srv, bucket)
	ctx := t.Context()
	key := "segments/desk/alice/2030-01/" + ulid.Make().String() + ".seg"
	until := time.Now().Add(2 * time.Second)
	v, err := b.Put(ctx, key, strings.NewReader("held"), 4, segments.Lock{RetainUntil: until, LegalHold: true})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(until) + 1500*time.Millisecond)
	for _, bypass := range []bool{false, true} {
		err := c.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{VersionID: v, GovernanceBypass: bypass})
		if !isLockRefusal(err) {
			t.Fatalf("delete of a held version after retention (bypass %t): %v; want an Object Lock refusal", bypass, err)
		}
	}
	if err := b.SetLegalHold(ctx, key, v, false); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{VersionID: v}); err != nil {
		t.Fatalf("delete after retention with the hold off: %v", err)
	}
}

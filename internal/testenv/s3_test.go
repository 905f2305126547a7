package testenv

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// TestS3IsRealAndLocks: the fixture is a real S3 server whose Object Lock
// refuses to delete a COMPLIANCE object version, and Stop ends it.
func TestS3IsRealAndLocks(t *testing.T) {
	srv := StartS3(t)
	c, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, ""), Region: srv.Region})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := c.MakeBucket(ctx, "locked", minio.MakeBucketOptions{ObjectLocking: true}); err != nil {
		t.Fatal(err)
	}
	info, err := c.PutObject(ctx, "locked", "k", bytes.NewReader([]byte("v")), 1, minio.PutObjectOptions{
		Mode: minio.Compliance, RetainUntilDate: time.Now().Add(time.Hour), SendContentMd5: true,
	})
	if err != nil || info.VersionID == "" {
		t.Fatalf("locked PUT: version %q, %v", info.VersionID, err)
	}
	err = c.RemoveObject(ctx, "locked", "k", minio.RemoveObjectOptions{VersionID: info.VersionID})
	if status := minio.ToErrorResponse(err).StatusCode; status != http.StatusBadRequest && status != http.StatusForbidden {
		t.Fatalf("deleting a COMPLIANCE version: %v; want a refusal", err)
	}

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: time.Second}
	if _, err := client.Get("http://" + srv.Endpoint + "/minio/health/live"); err == nil {
		t.Fatal("the server still answers after Stop")
	}
}

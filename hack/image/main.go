// Command image builds the vigil OCI image without a container engine:
//
//	go run ./hack/image --binary-dir bin --tag ghcr.io/vigil-operator/vigil:dev --out bin/vigil-image.tar
//
// The image has one layer: the static binary /vigil, minimal /etc/passwd and
// /etc/group naming the nonroot user 65532, and the CA bundle connectors need
// to reach chat platforms over TLS. It runs as 65532:65532 with /vigil as its
// entrypoint. Every timestamp is fixed, so the same binary always gives the
// same image digest.
//
// The tarball is both an OCI image layout (oci-layout, index.json, blobs/) and
// a `docker save` archive (manifest.json), so docker load, podman load,
// ctr image import, kind load image-archive, skopeo (oci-archive:) and
// go-containerregistry's tarball package all read it.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	binaryDir string
	tag       string
	out       string
	arch      string
	caCerts   string
	created   string
	version   string
	revision  string
}

// run builds and writes the image, printing its manifest digest on stdout.
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var o options
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.binaryDir, "binary-dir", "bin", "directory holding the static linux vigil binary")
	fs.StringVar(&o.tag, "tag", "ghcr.io/vigil-operator/vigil:dev", "image reference recorded in the tarball")
	fs.StringVar(&o.out, "out", "bin/vigil-image.tar", "path of the image tarball to write")
	fs.StringVar(&o.arch, "arch", "amd64", "architecture of the binary and the image (amd64 or arm64)")
	fs.StringVar(&o.caCerts, "ca-certs", "/etc/ssl/certs/ca-certificates.crt",
		"CA bundle copied to /etc/ssl/certs/ca-certificates.crt in the image; empty leaves it out")
	fs.StringVar(&o.created, "created", "",
		"creation time recorded in the image (RFC 3339); defaults to $SOURCE_DATE_EPOCH, else 1970-01-01T00:00:00Z")
	fs.StringVar(&o.version, "version", "", "org.opencontainers.image.version label; defaults to the tag")
	fs.StringVar(&o.revision, "revision", "", "org.opencontainers.image.revision label (a VCS commit); empty leaves it out")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	ref, err := name.NewTag(o.tag, name.StrictValidation)
	if err != nil {
		return fmt.Errorf("while parsing --tag %q: %w", o.tag, err)
	}
	created, err := creationTime(o.created, getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		return err
	}
	version := o.version
	if version == "" {
		version = ref.TagStr()
	}
	spec := imageSpec{
		binary:   filepath.Join(o.binaryDir, "vigil"),
		arch:     o.arch,
		caCerts:  o.caCerts,
		created:  created,
		version:  version,
		revision: o.revision,
	}
	img, err := buildImage(spec)
	if err != nil {
		return err
	}
	if err := writeArchiveFile(o.out, ref, img, created); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return fmt.Errorf("while computing the image digest: %w", err)
	}
	if _, err := fmt.Fprintf(stderr, "image: wrote %s (%s, linux/%s)\n", o.out, ref.Name(), o.arch); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, digest.String())
	return err
}

// creationTime picks the time recorded in the image: the flag, else
// SOURCE_DATE_EPOCH (the reproducible-builds convention), else the Unix epoch.
// Never the clock, which would change the digest on every build.
func creationTime(flagValue, sourceDateEpoch string) (time.Time, error) {
	switch {
	case flagValue != "":
		t, err := time.Parse(time.RFC3339, flagValue)
		if err != nil {
			return time.Time{}, fmt.Errorf("while parsing --created: %w", err)
		}
		return t.UTC(), nil
	case sourceDateEpoch != "":
		secs, err := strconv.ParseInt(sourceDateEpoch, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("while parsing SOURCE_DATE_EPOCH %q: %w", sourceDateEpoch, err)
		}
		return time.Unix(secs, 0).UTC(), nil
	default:
		return time.Unix(0, 0).UTC(), nil
	}
}

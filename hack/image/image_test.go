package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const testTag = "registry.example.com/vigil/vigil:v9.8.7"

// testProgram stands in for vigil: small, and quick to build.
const testProgram = `package main

import "fmt"

func main() { fmt.Println("hello from the image test") }
`

// buildTestBinary compiles testProgram for linux/arch into dir/vigil.
func buildTestBinary(t *testing.T, dir, arch string) string {
	t.Helper()
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(testProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module imagetest\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "vigil")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the test binary: %v\n%s", err, b)
	}
	return out
}

// testCABundle is a syntactically plausible PEM file; the image builder only
// checks that it holds a certificate block.
const testCABundle = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"

type buildResult struct {
	out    string
	digest string
}

func runBuild(t *testing.T, binDir, out string, env map[string]string, extra ...string) (buildResult, error) {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, []byte(testCABundle), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--binary-dir", binDir, "--tag", testTag, "--out", out, "--ca-certs", ca}, extra...)
	var stdout, stderr bytes.Buffer
	err := run(args, &stdout, &stderr, func(k string) string { return env[k] })
	return buildResult{out: out, digest: strings.TrimSpace(stdout.String())}, err
}

func TestImageIsReproducibleAndWellFormed(t *testing.T) {
	binDir := t.TempDir()
	bin := buildTestBinary(t, binDir, "amd64")
	binary, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}

	first, err := runBuild(t, binDir, filepath.Join(t.TempDir(), "a.tar"), nil)
	if err != nil {
		t.Fatalf("first build: %v", err)
	}
	// Touching the binary must not change anything: only contents count.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(bin, later, later); err != nil {
		t.Fatal(err)
	}
	second, err := runBuild(t, binDir, filepath.Join(t.TempDir(), "b.tar"), nil)
	if err != nil {
		t.Fatalf("second build: %v", err)
	}
	if !strings.HasPrefix(first.digest, "sha256:") || len(first.digest) != len("sha256:")+64 {
		t.Fatalf("printed digest %q is not a sha256 digest", first.digest)
	}
	if first.digest != second.digest {
		t.Fatalf("two builds of the same binary gave different digests: %s and %s", first.digest, second.digest)
	}
	a, _ := os.ReadFile(first.out)
	b, _ := os.ReadFile(second.out)
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of the same binary gave different tarballs")
	}

	// Read back as a docker-save archive (manifest.json). That format has
	// no manifest of its own (loaders write one), so the image is the same
	// when its config and layers are.
	img, err := tarball.ImageFromPath(first.out, nil)
	if err != nil {
		t.Fatalf("reading the tarball with go-containerregistry: %v", err)
	}
	checkImage(t, img, binary, false)

	// Read back as an OCI image layout (index.json).
	dir := t.TempDir()
	extractTar(t, first.out, dir)
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatalf("reading the OCI layout: %v", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("index.json lists %d manifests, want 1", len(im.Manifests))
	}
	desc := im.Manifests[0]
	if desc.Digest.String() != first.digest || desc.MediaType != types.OCIManifestSchema1 {
		t.Fatalf("index.json points at %s (%s), want %s (%s)", desc.Digest, desc.MediaType, first.digest, types.OCIManifestSchema1)
	}
	if got := desc.Annotations["io.containerd.image.name"]; got != testTag {
		t.Errorf("io.containerd.image.name = %q, want %q", got, testTag)
	}
	if got := desc.Annotations["org.opencontainers.image.ref.name"]; got != "v9.8.7" {
		t.Errorf("org.opencontainers.image.ref.name = %q, want v9.8.7", got)
	}
	layoutImg, err := idx.Image(desc.Digest)
	if err != nil {
		t.Fatalf("reading the image from the OCI layout: %v", err)
	}
	if d, err := layoutImg.Digest(); err != nil || d.String() != first.digest {
		t.Fatalf("OCI layout image digest = %v (%v), printed %s", d, err, first.digest)
	}
	checkImage(t, layoutImg, binary, true)

	// Both views hold the same config and layer blobs.
	if a, b := mustConfigName(t, img), mustConfigName(t, layoutImg); a != b {
		t.Errorf("config digests differ between the two views: %s and %s", a, b)
	}
	dl, _ := mustLayer(t, img).Digest()
	ol, _ := mustLayer(t, layoutImg).Digest()
	if dl != ol {
		t.Errorf("layer digests differ between the two views: %s and %s", dl, ol)
	}
}

func mustConfigName(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	h, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// checkImage checks the configuration and the layer; oci says whether img
// comes with the manifest as written (OCI layout) or a synthesized one.
func checkImage(t *testing.T, img v1.Image, binary []byte, oci bool) {
	t.Helper()
	if oci {
		if mt, err := img.MediaType(); err != nil || mt != types.OCIManifestSchema1 {
			t.Errorf("manifest media type = %s (%v), want %s", mt, err, types.OCIManifestSchema1)
		}
		if mt, _ := mustLayer(t, img).MediaType(); mt != types.OCILayer {
			t.Errorf("layer media type = %s, want %s", mt, types.OCILayer)
		}
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatalf("reading the config: %v", err)
	}
	if cfg.Config.User != "65532:65532" {
		t.Errorf("User = %q, want 65532:65532", cfg.Config.User)
	}
	if len(cfg.Config.Entrypoint) != 1 || cfg.Config.Entrypoint[0] != "/vigil" {
		t.Errorf("Entrypoint = %q, want [/vigil]", cfg.Config.Entrypoint)
	}
	if len(cfg.Config.Cmd) != 0 {
		t.Errorf("Cmd = %q, want none", cfg.Config.Cmd)
	}
	if cfg.Config.WorkingDir != "/" {
		t.Errorf("WorkingDir = %q, want /", cfg.Config.WorkingDir)
	}
	if cfg.OS != "linux" || cfg.Architecture != "amd64" {
		t.Errorf("platform = %s/%s, want linux/amd64", cfg.OS, cfg.Architecture)
	}
	if !cfg.Created.Time.Equal(time.Unix(0, 0)) {
		t.Errorf("Created = %s, want the Unix epoch", cfg.Created.Time)
	}
	for k, want := range map[string]string{
		"org.opencontainers.image.title":   "vigil",
		"org.opencontainers.image.version": "v9.8.7",
		"org.opencontainers.image.source":  "https://github.com/vigil-operator/vigil",
		"org.opencontainers.image.created": "1970-01-01T00:00:00Z",
	} {
		if got := cfg.Config.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}

	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("image has %d layers, want 1", len(layers))
	}
	if len(cfg.RootFS.DiffIDs) != 1 {
		t.Fatalf("config lists %d diff ids, want 1", len(cfg.RootFS.DiffIDs))
	}
	if id, _ := layers[0].DiffID(); id != cfg.RootFS.DiffIDs[0] {
		t.Errorf("layer diff id %s does not match the config's %s", id, cfg.RootFS.DiffIDs[0])
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Close() }()
	entries := readTar(t, rc)

	wantNames := []string{"etc/", "etc/group", "etc/passwd", "etc/ssl/", "etc/ssl/certs/", "etc/ssl/certs/ca-certificates.crt", "vigil"}
	var names []string
	for _, e := range entries {
		names = append(names, e.hdr.Name)
		if e.hdr.Uid != 0 || e.hdr.Gid != 0 {
			t.Errorf("%s is owned by %d:%d, want 0:0", e.hdr.Name, e.hdr.Uid, e.hdr.Gid)
		}
		if !e.hdr.ModTime.Equal(time.Unix(0, 0)) {
			t.Errorf("%s has mtime %s, want the Unix epoch", e.hdr.Name, e.hdr.ModTime)
		}
	}
	if strings.Join(names, " ") != strings.Join(wantNames, " ") {
		t.Fatalf("layer entries = %q, want %q", names, wantNames)
	}
	byName := map[string]tarEntry{}
	for _, e := range entries {
		byName[e.hdr.Name] = e
	}
	vigil := byName["vigil"]
	if vigil.hdr.Typeflag != tar.TypeReg || vigil.hdr.Mode != 0o755 {
		t.Errorf("/vigil: type %c mode %o, want a regular file with mode 755", vigil.hdr.Typeflag, vigil.hdr.Mode)
	}
	if !bytes.Equal(vigil.data, binary) {
		t.Error("/vigil in the layer differs from the binary")
	}
	if !strings.Contains(string(byName["etc/passwd"].data), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd does not name uid 65532: %q", byName["etc/passwd"].data)
	}
	if string(byName["etc/ssl/certs/ca-certificates.crt"].data) != testCABundle {
		t.Error("the CA bundle in the layer differs from the one given")
	}
}

func TestImageDigestFollowsContentsAndTime(t *testing.T) {
	binDir := t.TempDir()
	bin := buildTestBinary(t, binDir, "amd64")
	base, err := runBuild(t, binDir, filepath.Join(t.TempDir(), "base.tar"), nil)
	if err != nil {
		t.Fatal(err)
	}

	dated, err := runBuild(t, binDir, filepath.Join(t.TempDir(), "dated.tar"), map[string]string{"SOURCE_DATE_EPOCH": "1700000000"})
	if err != nil {
		t.Fatal(err)
	}
	if dated.digest == base.digest {
		t.Error("SOURCE_DATE_EPOCH did not change the digest")
	}
	img, err := tarball.ImageFromPath(dated.out, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Created.Time.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("Created = %s, want SOURCE_DATE_EPOCH 1700000000", cfg.Created.Time)
	}

	// One more byte in the binary is another image.
	f, err := os.OpenFile(bin, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte{0}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	changed, err := runBuild(t, binDir, filepath.Join(t.TempDir(), "changed.tar"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if changed.digest == base.digest {
		t.Error("a different binary gave the same digest")
	}
}

func TestImageRefusesBinariesItCannotRun(t *testing.T) {
	armDir := t.TempDir()
	buildTestBinary(t, armDir, "arm64")
	notELF := t.TempDir()
	if err := os.WriteFile(filepath.Join(notELF, "vigil"), []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		binDir string
		extra  []string
		want   string
	}{
		"built for another architecture": {binDir: armDir, want: "not linux/amd64"},
		"a shell script":                 {binDir: notELF, want: "ELF"},
		"missing":                        {binDir: t.TempDir(), want: "no such file"},
		"unsupported architecture":       {binDir: armDir, extra: []string{"--arch", "riscv64"}, want: "unsupported architecture"},
		"bad tag":                        {binDir: armDir, extra: []string{"--tag", "Not A Tag"}, want: "--tag"},
	}
	// The host's own tools are dynamically linked on every Debian machine.
	for _, p := range []string{"/bin/ls", "/usr/bin/ls"} {
		if _, err := os.Stat(p); err == nil {
			dyn := t.TempDir()
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dyn, "vigil"), data, 0o755); err != nil {
				t.Fatal(err)
			}
			cases["dynamically linked"] = struct {
				binDir string
				extra  []string
				want   string
			}{binDir: dyn, want: "dynamically linked"}
			break
		}
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "img.tar")
			_, err := runBuild(t, tc.binDir, out, nil, tc.extra...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
			if _, statErr := os.Stat(out); !errors.Is(statErr, os.ErrNotExist) {
				t.Errorf("a failed build left %s behind", out)
			}
		})
	}
}

func TestCreationTime(t *testing.T) {
	cases := []struct {
		flag, env string
		want      time.Time
		wantErr   bool
	}{
		{want: time.Unix(0, 0)},
		{env: "1700000000", want: time.Unix(1700000000, 0)},
		{flag: "2026-01-02T03:04:05+08:00", env: "1700000000", want: time.Date(2026, 1, 1, 19, 4, 5, 0, time.UTC)},
		{env: "yesterday", wantErr: true},
		{flag: "2026-01-02", wantErr: true},
	}
	for _, tc := range cases {
		got, err := creationTime(tc.flag, tc.env)
		if (err != nil) != tc.wantErr {
			t.Errorf("creationTime(%q, %q) error = %v, want error %v", tc.flag, tc.env, err, tc.wantErr)
			continue
		}
		if !tc.wantErr && !got.Equal(tc.want) {
			t.Errorf("creationTime(%q, %q) = %s, want %s", tc.flag, tc.env, got, tc.want)
		}
	}
}

func mustLayer(t *testing.T, img v1.Image) v1.Layer {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) == 0 {
		t.Fatalf("image layers: %d (%v)", len(layers), err)
	}
	return layers[0]
}

type tarEntry struct {
	hdr  *tar.Header
	data []byte
}

func readTar(t *testing.T, r io.Reader) []tarEntry {
	t.Helper()
	var out []tarEntry
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("reading the tar: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tarEntry{hdr: hdr, data: data})
	}
}

func extractTar(t *testing.T, path, dir string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	for _, e := range readTar(t, f) {
		target := filepath.Join(dir, filepath.FromSlash(e.hdr.Name))
		if !strings.HasPrefix(target, dir+string(filepath.Separator)) {
			t.Fatalf("tar entry %q escapes the directory", e.hdr.Name)
		}
		if e.hdr.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, e.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

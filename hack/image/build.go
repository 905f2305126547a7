package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image's user: the "nonroot" user of distroless images, which the
// Kubernetes manifests also set as runAsUser/runAsGroup.
const (
	userID   = 65532
	user     = "65532:65532"
	binPath  = "vigil"
	certPath = "etc/ssl/certs/ca-certificates.crt"
)

// imageSpec is everything that goes into the image.
type imageSpec struct {
	binary   string // path of the static linux binary
	arch     string // amd64 or arm64
	caCerts  string // CA bundle to include; empty for none
	created  time.Time
	version  string
	revision string
}

// elfMachines maps the supported image architectures to the ELF machine the
// binary must be built for.
var elfMachines = map[string]elf.Machine{
	"amd64": elf.EM_X86_64,
	"arm64": elf.EM_AARCH64,
}

// buildImage assembles the image in memory.
func buildImage(spec imageSpec) (v1.Image, error) {
	if err := checkBinary(spec.binary, spec.arch); err != nil {
		return nil, err
	}
	files, err := layerFiles(spec)
	if err != nil {
		return nil, err
	}
	layerBytes, err := compressedLayer(files, spec.created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerBytes)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("while creating the image layer: %w", err)
	}

	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	created := v1.Time{Time: spec.created}
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History: v1.History{
			Created:   created,
			CreatedBy: "hack/image: /vigil, /etc/passwd, /etc/group, CA certificates",
			Comment:   "built without a container engine",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("while adding the layer: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("while reading the image configuration: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture = spec.arch
	cfg.OS = "linux"
	cfg.Created = created
	cfg.Config = v1.Config{
		User:       user,
		Entrypoint: []string{"/vigil"},
		WorkingDir: "/",
		// So that a pod's `command: [vigil, ...]` finds the binary too.
		Env:    []string{"PATH=/"},
		Labels: labels(spec),
	}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("while setting the image configuration: %w", err)
	}
	return img, nil
}

func labels(spec imageSpec) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":       "vigil",
		"org.opencontainers.image.description": "Vigil: compliance capture for chat channels, as a Kubernetes operator (manager, connector and archive in one binary)",
		"org.opencontainers.image.source":      "https://github.com/vigil-operator/vigil",
		"org.opencontainers.image.url":         "https://github.com/vigil-operator/vigil",
		"org.opencontainers.image.vendor":      "Vigil",
		"org.opencontainers.image.version":     spec.version,
		"org.opencontainers.image.created":     spec.created.Format(time.RFC3339),
	}
	if spec.revision != "" {
		l["org.opencontainers.image.revision"] = spec.revision
	}
	return l
}

// checkBinary refuses a binary the image could not run: not ELF, built for
// another architecture, or dynamically linked (the image has no libc and no
// loader, so such a binary fails with a baffling "no such file or directory").
func checkBinary(path, arch string) error {
	want, ok := elfMachines[arch]
	if !ok {
		return fmt.Errorf("unsupported architecture %q (amd64 or arm64)", arch)
	}
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("while reading %s as a linux ELF binary (build it with GOOS=linux CGO_ENABLED=0): %w", path, err)
	}
	defer func() { _ = f.Close() }()
	if f.Machine != want {
		return fmt.Errorf("%s is built for %s, not linux/%s", path, f.Machine, arch)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked; build it with CGO_ENABLED=0", path)
		}
	}
	return nil
}

// layerFile is one entry of the layer.
type layerFile struct {
	name    string // relative to /, no leading slash
	mode    int64
	dir     bool
	content []byte
}

func layerFiles(spec imageSpec) ([]layerFile, error) {
	bin, err := os.ReadFile(spec.binary)
	if err != nil {
		return nil, fmt.Errorf("while reading the binary: %w", err)
	}
	files := []layerFile{
		{name: binPath, mode: 0o755, content: bin},
		{name: "etc", mode: 0o755, dir: true},
		// Names for uids 0 and 65532, for tools and libraries that look the
		// running user up; nobody can log in as either.
		{name: "etc/passwd", mode: 0o644, content: []byte(
			"root:x:0:0:root:/root:/sbin/nologin\n" +
				fmt.Sprintf("nonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", userID, userID))},
		{name: "etc/group", mode: 0o644, content: []byte(
			"root:x:0:\n" + fmt.Sprintf("nonroot:x:%d:\n", userID))},
	}
	if spec.caCerts != "" {
		certs, err := os.ReadFile(spec.caCerts)
		if err != nil {
			return nil, fmt.Errorf("while reading the CA bundle (install ca-certificates, or pass --ca-certs=''): %w", err)
		}
		if !bytes.Contains(certs, []byte("-----BEGIN CERTIFICATE-----")) {
			return nil, fmt.Errorf("%s holds no PEM certificate", spec.caCerts)
		}
		files = append(files,
			layerFile{name: "etc/ssl", mode: 0o755, dir: true},
			layerFile{name: "etc/ssl/certs", mode: 0o755, dir: true},
			layerFile{name: certPath, mode: 0o644, content: certs})
	}
	return files, nil
}

// compressedLayer writes files as a gzipped tar with fixed order, owners and
// times, so the bytes, and hence the digests, depend on the contents alone.
func compressedLayer(files []layerFile, mtime time.Time) ([]byte, error) {
	sorted := append([]layerFile(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].name == sorted[i-1].name {
			return nil, fmt.Errorf("layer entry %s appears twice", sorted[i].name)
		}
	}

	var buf bytes.Buffer
	// No name and no modification time in the gzip header: both would leak
	// the build into the digest.
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("while starting gzip: %w", err)
	}
	tw := tar.NewWriter(zw)
	for _, f := range sorted {
		hdr := &tar.Header{
			Name:    f.name,
			Mode:    f.mode,
			ModTime: mtime,
			Uid:     0,
			Gid:     0,
			Uname:   "root",
			Gname:   "root",
			Format:  tar.FormatUSTAR,
		}
		if f.dir {
			hdr.Typeflag = tar.TypeDir
			hdr.Name += "/"
		} else {
			hdr.Typeflag = tar.TypeReg
			hdr.Size = int64(len(f.content))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("while writing the layer entry %s: %w", f.name, err)
		}
		if _, err := tw.Write(f.content); err != nil {
			return nil, fmt.Errorf("while writing the layer entry %s: %w", f.name, err)
		}
	}
	if err := errors.Join(tw.Close(), zw.Close()); err != nil {
		return nil, fmt.Errorf("while finishing the layer: %w", err)
	}
	return buf.Bytes(), nil
}

package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ociLayoutVersion is the image layout version of the oci-layout file.
const ociLayoutVersion = "1.0.0"

// blob is one content-addressed file of the archive.
type blob struct {
	digest v1.Hash
	data   []byte
}

func (b blob) path() string { return "blobs/" + b.digest.Algorithm + "/" + b.digest.Hex }

// writeArchiveFile writes the archive to path through a temporary file, so a
// failed build never leaves a truncated tarball where the old one was.
func writeArchiveFile(path string, ref name.Tag, img v1.Image, mtime time.Time) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("while creating the output directory: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".vigil-image-*.tar")
	if err != nil {
		return fmt.Errorf("while creating the output file: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if err := writeArchive(tmp, ref, img, mtime); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("while closing %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("while moving the tarball to %s: %w", path, err)
	}
	return nil
}

// writeArchive writes img as an OCI image layout (oci-layout, index.json,
// blobs/sha256/...) whose blobs a docker-save manifest.json also points at,
// so engines that only know one of the two formats load it as well.
func writeArchive(w io.Writer, ref name.Tag, img v1.Image, mtime time.Time) error {
	manifestBytes, err := img.RawManifest()
	if err != nil {
		return fmt.Errorf("while serializing the manifest: %w", err)
	}
	manifest, err := img.Manifest()
	if err != nil {
		return fmt.Errorf("while reading the manifest: %w", err)
	}
	configBytes, err := img.RawConfigFile()
	if err != nil {
		return fmt.Errorf("while serializing the configuration: %w", err)
	}
	digest, err := img.Digest()
	if err != nil {
		return fmt.Errorf("while computing the image digest: %w", err)
	}
	config := blob{digest: manifest.Config.Digest, data: configBytes}
	if h, _, err := v1.SHA256(bytes.NewReader(configBytes)); err != nil || h != config.digest {
		return fmt.Errorf("configuration digest mismatch: manifest says %s, content is %s (%v)", config.digest, h, err)
	}

	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("while listing the layers: %w", err)
	}
	layerBlobs := make([]blob, 0, len(layers))
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return fmt.Errorf("while computing a layer digest: %w", err)
		}
		rc, err := l.Compressed()
		if err != nil {
			return fmt.Errorf("while reading layer %s: %w", d, err)
		}
		data, err := io.ReadAll(rc)
		if cerr := rc.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("while reading layer %s: %w", d, err)
		}
		layerBlobs = append(layerBlobs, blob{digest: d, data: data})
	}

	index := v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIImageIndex,
		Manifests: []v1.Descriptor{{
			MediaType: types.OCIManifestSchema1,
			Size:      int64(len(manifestBytes)),
			Digest:    digest,
			Annotations: map[string]string{
				// The tag alone (OCI) and the full reference (containerd,
				// docker, podman): each engine names the image from one.
				"org.opencontainers.image.ref.name": ref.TagStr(),
				"io.containerd.image.name":          ref.Name(),
			},
		}},
	}
	indexBytes, err := json.Marshal(index)
	if err != nil {
		return fmt.Errorf("while serializing index.json: %w", err)
	}
	layerPaths := make([]string, len(layerBlobs))
	for i, b := range layerBlobs {
		layerPaths[i] = b.path()
	}
	dockerManifest, err := json.Marshal([]struct {
		Config   string
		RepoTags []string
		Layers   []string
	}{{Config: config.path(), RepoTags: []string{ref.Name()}, Layers: layerPaths}})
	if err != nil {
		return fmt.Errorf("while serializing manifest.json: %w", err)
	}
	layout, err := json.Marshal(map[string]string{"imageLayoutVersion": ociLayoutVersion})
	if err != nil {
		return fmt.Errorf("while serializing oci-layout: %w", err)
	}

	entries := []entry{
		{"oci-layout", layout},
		{"index.json", indexBytes},
		{manifestBlobPath(digest), manifestBytes},
		{config.path(), config.data},
	}
	seen := map[string]bool{}
	for _, b := range layerBlobs {
		// An image may repeat a layer; its blob is stored once, as a tar
		// with the same path twice confuses some loaders.
		if !seen[b.path()] {
			seen[b.path()] = true
			entries = append(entries, entry{b.path(), b.data})
		}
	}
	entries = append(entries, entry{"manifest.json", dockerManifest})

	tw := tar.NewWriter(w)
	if err := writeDirs(tw, mtime); err != nil {
		return err
	}
	for _, e := range entries {
		if err := writeEntry(tw, e.name, e.data, mtime); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("while finishing the tarball: %w", err)
	}
	return nil
}

// entry is one file of the archive, written in the order given.
type entry struct {
	name string
	data []byte
}

func manifestBlobPath(d v1.Hash) string { return blob{digest: d}.path() }

// writeDirs writes the blobs directories first: some extractors need a
// directory entry before the files in it.
func writeDirs(tw *tar.Writer, mtime time.Time) error {
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		err := tw.WriteHeader(&tar.Header{
			Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: mtime, Format: tar.FormatUSTAR,
		})
		if err != nil {
			return fmt.Errorf("while writing %s: %w", d, err)
		}
	}
	return nil
}

func writeEntry(tw *tar.Writer, name string, data []byte, mtime time.Time) error {
	err := tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: mtime, Format: tar.FormatUSTAR,
	})
	if err == nil {
		_, err = tw.Write(data)
	}
	if err != nil {
		return fmt.Errorf("while writing %s to the tarball: %w", name, err)
	}
	return nil
}

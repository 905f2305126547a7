// Package manifests reads Kubernetes YAML files and applies them by
// server-side apply, as `kubectl apply --server-side` would. `vigil dev` uses
// it for the samples.
package manifests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// maxFileBytes bounds one manifest file.
const maxFileBytes = 4 << 20

// LoadDir reads every *.yaml and *.yml file under dir except kustomization
// files, in name order, and returns their objects with Namespaces first so
// that namespaced objects can be applied after them.
func LoadDir(dir string) ([]*unstructured.Unstructured, error) {
	// Sub-folders are read too (config/samples/lexicons), as kustomize
	// would through the kustomization's resources.
	var names []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, "kustomization.") || !(strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		names = append(names, rel)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("while reading %s: %w", dir, err)
	}
	sort.Strings(names)
	var objs []*unstructured.Unstructured
	for _, n := range names {
		path := filepath.Join(dir, n)
		info, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		if info.Size() > maxFileBytes {
			return nil, fmt.Errorf("%s is larger than %d bytes", path, maxFileBytes)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		docs, err := Decode(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		objs = append(objs, docs...)
	}
	sort.SliceStable(objs, func(i, j int) bool {
		return objs[i].GetKind() == "Namespace" && objs[j].GetKind() != "Namespace"
	})
	return objs, nil
}

// Decode splits multi-document YAML into objects, skipping empty documents.
// Every object needs apiVersion, kind and metadata.name.
func Decode(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 64<<10)
	var objs []*unstructured.Unstructured
	for i := 1; ; i++ {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(obj.Object) == 0 {
			continue
		}
		if obj.GetAPIVersion() == "" || obj.GetKind() == "" || obj.GetName() == "" {
			return nil, fmt.Errorf("document %d lacks apiVersion, kind or metadata.name", i)
		}
		objs = append(objs, obj)
	}
}

// Apply server-side applies each object as fieldOwner, taking ownership of
// conflicting fields as `kubectl apply --server-side --force-conflicts` does.
func Apply(ctx context.Context, c client.Client, fieldOwner string, objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		// Patch fills the object with the server's answer (managedFields
		// included, which an apply must not carry): apply a copy.
		obj := o.DeepCopy()
		if err := c.Patch(ctx, obj, client.Apply, client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
			return fmt.Errorf("while applying %s %s: %w", obj.GetKind(), client.ObjectKeyFromObject(obj), err)
		}
	}
	return nil
}

// Package packaging tests how Vigil is installed: the Helm chart
// (charts/vigil), the kustomize configuration (config/default) and, against a
// real kube-apiserver, that everything they render is accepted as is.
package packaging

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/vigil-operator/vigil/internal/testenv"
)

// chartDir is the chart under test.
var chartDir = filepath.Join(testenv.RepoRoot(), "charts", "vigil")

// helmBinary finds helm: $HELM (hack/test.sh sets it), else the newest build
// of hack/setup-helm.sh in the cache. Without either the chart tests fail,
// saying how to get helm; they never download anything.
func helmBinary(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("HELM"); h != "" {
		if _, err := os.Stat(h); err != nil {
			t.Fatalf("HELM=%s: %v", h, err)
		}
		return h
	}
	cache := os.Getenv("VIGIL_CACHE")
	if cache == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			t.Fatalf("locating the cache directory: %v", err)
		}
		cache = filepath.Join(base, "vigil")
	}
	found, err := filepath.Glob(filepath.Join(cache, "tools", "helm-*", "helm"))
	if err != nil {
		t.Fatal(err)
	}
	if len(found) == 0 {
		t.Fatalf("helm not found: $HELM is unset and %s has no helm-*/helm; run hack/setup-helm.sh (make test does)",
			filepath.Join(cache, "tools"))
	}
	sort.Strings(found)
	return found[len(found)-1]
}

// runHelm runs helm and returns its standard output; the error carries
// standard error, where helm explains a failure.
func runHelm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBinary(t), args...)
	// Keep helm away from the user's repositories, plugins and registry
	// logins: the chart tests need none of them.
	home := t.TempDir()
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
		"KUBECONFIG="+filepath.Join(home, "no-kubeconfig"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// helmTemplate renders the chart as release in namespace with the given
// values (YAML text), CRDs included, and decodes the result.
func helmTemplate(t *testing.T, release, namespace, values string) []*unstructured.Unstructured {
	t.Helper()
	out, err := helmTemplateErr(t, release, namespace, values)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeManifests([]byte(out))
	if err != nil {
		t.Fatalf("decoding the rendered chart: %v", err)
	}
	return objs
}

func helmTemplateErr(t *testing.T, release, namespace, values string) (string, error) {
	t.Helper()
	args := []string{"template", release, chartDir, "--namespace", namespace, "--include-crds"}
	if values != "" {
		args = append(args, "--values", valuesFile(t, values))
	}
	return runHelm(t, args...)
}

// valuesFile writes values to a file for --values. Not under t.TempDir():
// helm splits --values on commas, which subtest names may contain.
func valuesFile(t *testing.T, values string) string {
	t.Helper()
	f, err := os.CreateTemp("", "vigil-values-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(f.Name()) })
	if _, err := f.WriteString(values); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// kustomizeBuild renders a kustomization directory with the kustomize
// library, as `kustomize build` or `kubectl apply -k` would.
func kustomizeBuild(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	out, err := res.AsYaml()
	if err != nil {
		t.Fatalf("serializing the kustomize output: %v", err)
	}
	objs, err := decodeManifests(out)
	if err != nil {
		t.Fatalf("decoding the kustomize output: %v", err)
	}
	return objs
}

// decodeManifests splits a multi-document YAML stream into objects. It is
// strict: a duplicated key, which most tools silently resolve one way or the
// other, is an error.
func decodeManifests(data []byte) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("while splitting the YAML stream: %w", err)
		}
		j, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			return nil, fmt.Errorf("while parsing a document: %w\n%s", err, doc)
		}
		if bytes.Equal(bytes.TrimSpace(j), []byte("null")) {
			continue // a document of comments only
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(j); err != nil {
			return nil, fmt.Errorf("while decoding a document: %w\n%s", err, doc)
		}
		objs = append(objs, u)
	}
}

package packaging

import (
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/vigil-operator/vigil/internal/testenv"
)

var defaultKustomization = filepath.Join(testenv.RepoRoot(), "config", "default")

func TestKustomizeDefault(t *testing.T) {
	objs := kustomizeBuild(t, defaultKustomization)
	const image = "ghcr.io/vigil-operator/vigil:dev"
	checkInstall(t, objs, expect{
		namespace: "vigil-system", image: image, connectorImage: image,
		metrics: true, secureMetrics: true, networkPolicy: true, leaderElection: true, storage: "20Gi",
	})
	checkFlagsParse(t, install{t: t, objs: objs})

	in := install{t: t, objs: objs}
	if n := len(in.ofKind("CustomResourceDefinition")); n != 4 {
		t.Errorf("%d CRDs, want 4", n)
	}
	// Applied in order, the namespace and the CRDs exist before anything
	// that needs them.
	for i, o := range objs {
		if o.GetKind() == "Namespace" || o.GetKind() == "CustomResourceDefinition" {
			for _, before := range objs[:i] {
				if before.GetKind() != "Namespace" && before.GetKind() != "CustomResourceDefinition" {
					t.Errorf("%s %s comes after %s %s", o.GetKind(), o.GetName(), before.GetKind(), before.GetName())
				}
			}
		}
	}
	ns := in.find("Namespace", "", "vigil-system")
	if ns == nil {
		t.Fatal("config/default does not create the vigil-system namespace")
	}
	var namespace corev1.Namespace
	decode(t, ns, &namespace)
	for _, mode := range []string{"enforce", "warn", "audit"} {
		if got := namespace.Labels["pod-security.kubernetes.io/"+mode]; got != "restricted" {
			t.Errorf("namespace label pod-security.kubernetes.io/%s = %q, want restricted", mode, got)
		}
	}
}

// TestKustomizeImageOverride shows that `kustomize edit set image` in
// config/default moves the manager, the archive and the connectors to the new
// image together. It edits a copy of config/default's kustomization.
func TestKustomizeImageOverride(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(defaultKustomization, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k map[string]any
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	resources, _ := k["resources"].([]any)
	if len(resources) == 0 {
		t.Fatal("config/default/kustomization.yaml lists no resources")
	}
	for i, r := range resources {
		rel, err := filepath.Rel(dir, filepath.Join(defaultKustomization, r.(string)))
		if err != nil {
			t.Fatal(err)
		}
		resources[i] = filepath.ToSlash(rel)
	}
	// What `kustomize edit set image ghcr.io/vigil-operator/vigil=registry.example.com/mirror/vigil:v1.2.3` writes.
	k["images"] = []any{map[string]any{
		"name": "ghcr.io/vigil-operator/vigil", "newName": "registry.example.com/mirror/vigil", "newTag": "v1.2.3",
	}}
	out, err := yaml.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), out, 0o600); err != nil {
		t.Fatal(err)
	}
	objs := kustomizeBuild(t, dir)
	const image = "registry.example.com/mirror/vigil:v1.2.3"
	checkInstall(t, objs, expect{
		namespace: "vigil-system", image: image, connectorImage: image,
		metrics: true, secureMetrics: true, networkPolicy: true, leaderElection: true, storage: "20Gi",
	})
}

package manifests

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	"github.com/vigil-operator/vigil/internal/testenv"
)

func TestDecode(t *testing.T) {
	objs, err := Decode([]byte("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n"))
	if err != nil || len(objs) != 2 || objs[1].GetKind() != "Namespace" {
		t.Fatalf("got %d objects, %v", len(objs), err)
	}
	for name, doc := range map[string]string{
		"no kind":     "apiVersion: v1\nmetadata: {name: a}\n",
		"no name":     "apiVersion: v1\nkind: ConfigMap\n",
		"not yaml":    "apiVersion: [v1\n",
		"second doc ": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: x: y\n",
	} {
		if _, err := Decode([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"))
	f.Add([]byte("{}\n---\n[1,2]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := Decode(data)
		if err != nil {
			return
		}
		for _, o := range objs {
			if o.GetKind() == "" || o.GetName() == "" {
				t.Fatal("accepted an object without kind or name")
			}
		}
	})
}

// TestSamplesApplyToARealAPIServer applies config/samples to a real API
// server with the CRDs: every sample passes the CRDs' validation.
func TestSamplesApplyToARealAPIServer(t *testing.T) {
	objs, err := LoadDir(filepath.Join(testenv.RepoRoot(), "config", "samples"))
	if err != nil {
		t.Fatal(err)
	}
	if objs[0].GetKind() != "Namespace" {
		t.Fatal("namespaces must come first")
	}
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.GetKind()]++
	}
	for _, k := range []string{"MonitoredAccount", "CompliancePolicy", "RetentionRule", "LegalHold"} {
		if kinds[k] == 0 {
			t.Errorf("the samples have no %s", k)
		}
	}
	env, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	ctx := context.Background()
	if err := Apply(ctx, env.Client, "samples-test", objs); err != nil {
		t.Fatal(err)
	}
	// Applying again changes nothing and does not fail.
	if err := Apply(ctx, env.Client, "samples-test", objs); err != nil {
		t.Fatalf("re-applying: %v", err)
	}
	var accounts v1alpha1.MonitoredAccountList
	if err := env.Client.List(ctx, &accounts, client.InNamespace("trading")); err != nil {
		t.Fatal(err)
	}
	if len(accounts.Items) != kinds["MonitoredAccount"] {
		t.Fatalf("%d accounts stored, want %d", len(accounts.Items), kinds["MonitoredAccount"])
	}
	// An invalid sample would be refused with the CRD's message.
	bad, err := Decode([]byte(strings.Join([]string{
		"apiVersion: compliance.vigil.dev/v1alpha1", "kind: RetentionRule",
		"metadata: {name: too-short, namespace: trading}",
		"spec: {accountSelector: {}, retain: P2Y, regulation: FINRA, purge: {schedule: '0 3 * * *'}}",
	}, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	err = Apply(ctx, env.Client, "samples-test", bad)
	if err == nil || !strings.Contains(err.Error(), "FINRA minimum of 6") {
		t.Fatalf("a too-short rule: %v", err)
	}
}

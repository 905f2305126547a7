package packaging

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/vigil-operator/vigil/internal/testenv"
)

// fieldOwner is the field manager of the test's server-side applies.
const fieldOwner = "vigil-packaging-test"

// warnings collects the API server's warnings: PodSecurity reports a pod
// template that would be refused by an enforcing namespace, and field
// validation reports unknown or duplicated fields, both as warnings.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}

// TestApplyToAPIServer sends everything the chart and the kustomization
// render to a real kube-apiserver (envtest): the CRDs are applied for real,
// the namespace is created with the restricted Pod Security profile
// enforced, every other object goes through a server-side apply dry run
// (admission, validation, defaulting, no persistence), and every pod the
// workloads would create is dry-run created, so PodSecurity admission judges
// it as it would in a cluster.
func TestApplyToAPIServer(t *testing.T) {
	env, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping envtest: %v", err)
		}
	})
	w := &warnings{}
	cfg := rest.CopyConfig(env.Config)
	cfg.WarningHandlerWithContext = w
	c, err := client.New(cfg, client.Options{Scheme: decodeScheme})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("helm", func(t *testing.T) {
		helmObjs := helmTemplate(t, "vigil", "vigil-helm", `
archive: {persistence: {storageClassName: standard}}
networkPolicy: {archiveFrom: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]}
`)
		// helm install --create-namespace makes a bare namespace; the
		// install guide labels it, and so does this test.
		ns := &unstructured.Unstructured{}
		ns.SetAPIVersion("v1")
		ns.SetKind("Namespace")
		ns.SetName("vigil-helm")
		ns.SetLabels(map[string]string{
			"pod-security.kubernetes.io/enforce": "restricted",
			"pod-security.kubernetes.io/warn":    "restricted",
		})
		applyInstall(t, c, w, append([]*unstructured.Unstructured{ns}, helmObjs...))
	})
	t.Run("kustomize", func(t *testing.T) {
		applyInstall(t, c, w, kustomizeBuild(t, defaultKustomization))
	})
}

func applyInstall(t *testing.T, c client.Client, w *warnings, objs []*unstructured.Unstructured) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w.take()

	// CRDs and namespaces for real, first: everything else depends on them.
	var namespace string
	var rest []*unstructured.Unstructured
	for _, o := range objs {
		switch o.GetKind() {
		case "CustomResourceDefinition":
			apply(ctx, t, c, o)
			waitEstablished(ctx, t, c, o.GetName())
		case "Namespace":
			apply(ctx, t, c, o)
			namespace = o.GetName()
		default:
			rest = append(rest, o)
		}
	}
	if namespace == "" {
		t.Fatal("the installation has no namespace to go into")
	}
	for _, o := range rest {
		apply(ctx, t, c, o, client.DryRunAll)
	}
	if ws := w.take(); len(ws) != 0 {
		t.Errorf("the API server warned while applying the installation:\n  %s", strings.Join(ws, "\n  "))
	}

	// The pods the Deployment and StatefulSet controllers would create.
	in := install{t: t, objs: objs}
	for _, p := range in.podTemplates() {
		pod := podFromTemplate(p, namespace)
		if err := c.Create(ctx, pod, client.DryRunAll, client.FieldOwner(fieldOwner)); err != nil {
			t.Errorf("%s: its pod is refused: %v", p.owner, err)
		}
	}
	if ws := w.take(); len(ws) != 0 {
		t.Errorf("the API server warned about the pods:\n  %s", strings.Join(ws, "\n  "))
	}

	// The control: a pod that breaks the profile is refused in the same
	// namespace, so the acceptance above means something.
	bad := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "not-restricted", Namespace: namespace},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "c", Image: "example.com/c:1",
			SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)},
		}}},
	}
	err := c.Create(ctx, bad, client.DryRunAll)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "PodSecurity") {
		t.Errorf("namespace %s admitted a privileged pod (%v): Pod Security is not enforced there", namespace, err)
	}
}

// apply server-side applies o with the test's field manager. Without force:
// a conflict with another manager (envtest installed the same CRDs) means
// the two disagree on a value, which is worth failing for.
func apply(ctx context.Context, t *testing.T, c client.Client, o *unstructured.Unstructured, opts ...client.ApplyOption) {
	t.Helper()
	opts = append(opts, client.FieldOwner(fieldOwner))
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()), opts...); err != nil {
		t.Errorf("applying %s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
	}
}

func waitEstablished(ctx context.Context, t *testing.T, c client.Client, name string) {
	t.Helper()
	for {
		var crd apiextensionsv1.CustomResourceDefinition
		err := c.Get(ctx, client.ObjectKey{Name: name}, &crd)
		if err == nil {
			for _, cond := range crd.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("CRD %s not established: %v", name, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// podFromTemplate builds the pod a workload controller would create from p,
// with its volume claim templates turned into claims as the StatefulSet
// controller does.
func podFromTemplate(p podTemplate, namespace string) *corev1.Pod {
	pod := &corev1.Pod{
		ObjectMeta: *p.meta.DeepCopy(),
		Spec:       *p.spec.DeepCopy(),
	}
	pod.Name = strings.ToLower(strings.ReplaceAll(p.owner, " ", "-")) + "-0"
	pod.Namespace = namespace
	for _, claim := range p.claims {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{
			Name: claim.Name,
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{
				ClaimName: fmt.Sprintf("%s-%s", claim.Name, pod.Name),
			}},
		})
	}
	return pod
}

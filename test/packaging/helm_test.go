package packaging

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/vigil-operator/vigil/internal/testenv"
)

// chartAppVersion reads appVersion from Chart.yaml: the default image tag.
func chartAppVersion(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var chart struct {
		APIVersion string `json:"apiVersion"`
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(data, &chart); err != nil {
		t.Fatal(err)
	}
	if chart.APIVersion != "v2" || chart.AppVersion == "" {
		t.Fatalf("Chart.yaml: apiVersion %q, appVersion %q; want v2 and a version", chart.APIVersion, chart.AppVersion)
	}
	return chart.AppVersion
}

func TestHelmLint(t *testing.T) {
	for name, values := range map[string]string{
		"defaults": "",
		"everything changed": `
fullnameOverride: acme
manager: {replicas: 2, metrics: {enabled: false}, logLevel: debug}
archive: {persistence: {size: 1Ti, storageClassName: fast}, extraAdminSubjects: ["system:serviceaccount:audit:purger"]}
networkPolicy: {enabled: false}
`,
	} {
		t.Run(name, func(t *testing.T) {
			args := []string{"lint", "--strict", chartDir}
			if values != "" {
				args = append(args, "--values", valuesFile(t, values))
			}
			out, err := runHelm(t, args...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !strings.Contains(out, "0 chart(s) failed") {
				t.Fatalf("helm lint did not pass:\n%s", out)
			}
		})
	}
}

// TestHelmCRDsMatchGenerated guards against a chart shipping stale CRDs:
// charts/vigil/crds must be exactly what hack/sync-chart-crds.sh copies from
// config/crd/bases.
func TestHelmCRDsMatchGenerated(t *testing.T) {
	bases := filepath.Join(testenv.RepoRoot(), "config", "crd", "bases")
	want, err := filepath.Glob(filepath.Join(bases, "*.yaml"))
	if err != nil || len(want) == 0 {
		t.Fatalf("no CRDs in %s (%v)", bases, err)
	}
	got, err := filepath.Glob(filepath.Join(chartDir, "crds", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	names := func(paths []string) []string {
		var out []string
		for _, p := range paths {
			out = append(out, filepath.Base(p))
		}
		return out
	}
	if !slices.Equal(names(got), names(want)) {
		t.Fatalf("chart CRDs %q differ from config/crd/bases %q; run hack/sync-chart-crds.sh", names(got), names(want))
	}
	for _, p := range want {
		a, _ := os.ReadFile(p)
		b, _ := os.ReadFile(filepath.Join(chartDir, "crds", filepath.Base(p)))
		if !bytes.Equal(a, b) {
			t.Errorf("charts/vigil/crds/%s differs from config/crd/bases; run hack/sync-chart-crds.sh", filepath.Base(p))
		}
	}
}

func TestHelmTemplate(t *testing.T) {
	appVersion := chartAppVersion(t)
	defaultImage := "ghcr.io/vigil-operator/vigil:" + appVersion
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

	cases := []struct {
		name, release, namespace, values string
		want                             expect
		verify                           func(t *testing.T, in install)
	}{{
		name: "defaults", release: "vigil", namespace: "vigil-system",
		want: expect{namespace: "vigil-system", image: defaultImage, connectorImage: defaultImage,
			metrics: true, secureMetrics: true, networkPolicy: true, leaderElection: true, storage: "20Gi"},
		verify: func(t *testing.T, in install) {
			// The names the manager's built-in defaults and the docs use.
			for _, kn := range [][2]string{
				{"Deployment", "vigil-manager"}, {"StatefulSet", "vigil-archive"}, {"Service", "vigil-archive"},
				{"ServiceAccount", "vigil-manager"}, {"ServiceAccount", "vigil-archive"},
			} {
				if in.find(kn[0], "vigil-system", kn[1]) == nil {
					t.Errorf("no %s vigil-system/%s", kn[0], kn[1])
				}
			}
			if n := len(in.ofKind("CustomResourceDefinition")); n != 4 {
				t.Errorf("%d CRDs rendered with --include-crds, want 4", n)
			}
			for _, u := range in.objs {
				if u.GetKind() == "CustomResourceDefinition" {
					continue
				}
				l := u.GetLabels()
				if l["app.kubernetes.io/managed-by"] != "Helm" || l["app.kubernetes.io/instance"] != "vigil" || !strings.HasPrefix(l["helm.sh/chart"], "vigil-") {
					t.Errorf("%s %s lacks Helm's standard labels: %v", u.GetKind(), u.GetName(), l)
				}
			}
		},
	}, {
		name: "another release and namespace", release: "prod", namespace: "compliance",
		want: expect{namespace: "compliance", image: defaultImage, connectorImage: defaultImage,
			metrics: true, secureMetrics: true, networkPolicy: true, leaderElection: true, storage: "20Gi"},
		verify: func(t *testing.T, in install) {
			if in.find("Deployment", "compliance", "prod-vigil-manager") == nil {
				t.Error("release prod does not name its objects prod-vigil-*")
			}
		},
	}, {
		name: "pinned image, own connector image, more storage", release: "vigil", namespace: "vigil-system",
		values: `
fullnameOverride: acme
image: {repository: registry.example.com/mirror/vigil, digest: "` + digest + `", pullPolicy: Always}
imagePullSecrets: [{name: regcred}]
commonLabels: {cost-center: compliance}
manager:
  connector: {image: "registry.example.com/mirror/vigil:connectors", tokenExpirationSeconds: 7200}
  nodeSelector: {kubernetes.io/os: linux}
  tolerations: [{key: dedicated, operator: Equal, value: vigil, effect: NoSchedule}]
  podLabels: {team: compliance}
archive:
  extraAdminSubjects: ["system:serviceaccount:audit:purger", "alice@example.com"]
  persistence: {size: 500Gi, storageClassName: fast-ssd}
  priorityClassName: high
networkPolicy:
  archiveFrom: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]
  metricsFrom: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]
`,
		want: expect{namespace: "vigil-system", image: "registry.example.com/mirror/vigil@" + digest,
			connectorImage: "registry.example.com/mirror/vigil:connectors", metrics: true, secureMetrics: true,
			networkPolicy: true, leaderElection: true, storage: "500Gi", storageClass: "fast-ssd",
			adminSubjects: []string{"system:serviceaccount:audit:purger", "alice@example.com"}},
		verify: func(t *testing.T, in install) {
			var d appsv1.Deployment
			decode(t, in.find("Deployment", "vigil-system", "acme-manager"), &d)
			spec := d.Spec.Template.Spec
			if len(spec.ImagePullSecrets) != 1 || spec.ImagePullSecrets[0].Name != "regcred" {
				t.Errorf("imagePullSecrets = %v", spec.ImagePullSecrets)
			}
			if spec.NodeSelector["kubernetes.io/os"] != "linux" || len(spec.Tolerations) != 1 {
				t.Errorf("nodeSelector %v, tolerations %v not rendered", spec.NodeSelector, spec.Tolerations)
			}
			if spec.Containers[0].ImagePullPolicy != corev1.PullAlways {
				t.Errorf("pull policy = %s", spec.Containers[0].ImagePullPolicy)
			}
			if d.Spec.Template.Labels["team"] != "compliance" || d.Labels["cost-center"] != "compliance" {
				t.Errorf("pod labels %v / object labels %v miss the values' labels", d.Spec.Template.Labels, d.Labels)
			}
			if !slices.Contains(spec.Containers[0].Args, "--connector-token-expiration-seconds=7200") {
				t.Errorf("connector token lifetime not passed: %q", spec.Containers[0].Args)
			}
			var s appsv1.StatefulSet
			decode(t, in.find("StatefulSet", "vigil-system", "acme-archive"), &s)
			if s.Spec.Template.Spec.PriorityClassName != "high" {
				t.Errorf("archive priorityClassName = %q", s.Spec.Template.Spec.PriorityClassName)
			}
		},
	}, {
		name: "no metrics, no network policies, single manager without leader election", release: "vigil", namespace: "vigil-system",
		values: `
manager: {leaderElection: false, metrics: {enabled: false}}
networkPolicy: {enabled: false}
`,
		want: expect{namespace: "vigil-system", image: defaultImage, connectorImage: defaultImage, storage: "20Gi"},
		verify: func(t *testing.T, in install) {
			if in.find("Service", "vigil-system", "vigil-manager-metrics") != nil {
				t.Error("the metrics Service is rendered with metrics disabled")
			}
		},
	}, {
		name: "plain-HTTP metrics", release: "vigil", namespace: "vigil-system",
		values: `manager: {metrics: {secure: false}}`,
		want: expect{namespace: "vigil-system", image: defaultImage, connectorImage: defaultImage,
			metrics: true, networkPolicy: true, leaderElection: true, storage: "20Gi"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			objs := helmTemplate(t, tc.release, tc.namespace, tc.values)
			var rest []*unstructured.Unstructured
			for _, o := range objs {
				if o.GetKind() != "CustomResourceDefinition" {
					rest = append(rest, o)
				}
			}
			if len(objs)-len(rest) != 4 {
				t.Errorf("%d CRDs rendered, want 4", len(objs)-len(rest))
			}
			checkInstall(t, objs, tc.want)
			checkFlagsParse(t, install{t: t, objs: objs})
			if tc.verify != nil {
				tc.verify(t, install{t: t, objs: objs})
			}
		})
	}
}

// TestHelmValuesSchema shows that values.schema.json turns mistakes into
// errors before anything reaches the cluster.
func TestHelmValuesSchema(t *testing.T) {
	cases := map[string]struct{ values, want string }{
		"misspelt key":          {"manger: {replicas: 1}", "manger"},
		"unknown nested key":    {"archive: {persistence: {sise: 10Gi}}", "sise"},
		"wrong type":            {"manager: {replicas: two}", "/manager/replicas"},
		"pull policy enum":      {"image: {pullPolicy: Sometimes}", "/image/pullPolicy"},
		"log level enum":        {"manager: {logLevel: verbose}", "/manager/logLevel"},
		"bad storage size":      {"archive: {persistence: {size: lots}}", "/archive/persistence/size"},
		"bad duration":          {"manager: {statsInterval: 30}", "/manager/statsInterval"},
		"short token lifetime":  {"manager: {connector: {tokenExpirationSeconds: 60}}", "tokenExpirationSeconds"},
		"bad digest":            {"image: {digest: latest}", "/image/digest"},
		"replicas without lock": {"manager: {replicas: 3, leaderElection: false}", "/manager/leaderElection"},
		"bad peer":              {"networkPolicy: {archiveFrom: [{podSelectr: {}}]}", "podSelectr"},
		"long name":             {"fullnameOverride: a-name-that-is-far-too-long-for-every-object-name", "fullnameOverride"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := helmTemplateErr(t, "vigil", "vigil-system", tc.values)
			if err == nil {
				t.Fatalf("helm template accepted %q", tc.values)
			}
			if !strings.Contains(err.Error(), "schema") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("helm refused %q without a schema error naming %q:\n%v", tc.values, tc.want, err)
			}
		})
	}
}

package packaging

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
	"github.com/vigil-operator/vigil/internal/scheme"
	"github.com/vigil-operator/vigil/internal/testenv"
)

// expect is what an installation should look like; checkInstall verifies
// the rendered objects against it and against each other.
type expect struct {
	namespace      string
	image          string // of the manager and the archive
	connectorImage string
	metrics        bool
	secureMetrics  bool
	networkPolicy  bool
	leaderElection bool
	adminSubjects  []string // besides the manager's own
	storage        string
	storageClass   string
}

// clusterScoped are the cluster-scoped kinds an installation may contain.
var clusterScoped = map[string]bool{
	"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true, "CustomResourceDefinition": true,
}

// decodeScheme knows every kind the chart and the kustomization render.
var decodeScheme = func() *runtime.Scheme {
	s := scheme.New()
	if err := apiextensionsv1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

// install indexes rendered objects and decodes them into their Go types.
type install struct {
	t    *testing.T
	objs []*unstructured.Unstructured
}

func (in install) find(kind, namespace, name string) *unstructured.Unstructured {
	for _, o := range in.objs {
		if o.GetKind() == kind && o.GetNamespace() == namespace && o.GetName() == name {
			return o
		}
	}
	return nil
}

func (in install) ofKind(kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range in.objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// decode converts u into into, refusing fields the Go type does not have:
// a misspelt or misplaced field is an error here, not silently dropped.
func decode(t *testing.T, u *unstructured.Unstructured, into runtime.Object) {
	t.Helper()
	gvks, _, err := decodeScheme.ObjectKinds(into)
	if err != nil {
		t.Fatal(err)
	}
	if u.GroupVersionKind() != gvks[0] {
		t.Fatalf("%s %s is %s, decoding it as %s", u.GetKind(), u.GetName(), u.GroupVersionKind(), gvks[0])
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, into, true); err != nil {
		t.Fatalf("%s %s/%s: %v", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
}

// podTemplate is a workload's pod template, with its volume claim templates.
type podTemplate struct {
	owner  string
	meta   metav1.ObjectMeta
	spec   corev1.PodSpec
	claims []corev1.PersistentVolumeClaim
}

func (in install) podTemplates() []podTemplate {
	var out []podTemplate
	for _, o := range in.objs {
		switch o.GetKind() {
		case "Deployment":
			var d appsv1.Deployment
			decode(in.t, o, &d)
			out = append(out, podTemplate{owner: "Deployment " + d.Name, meta: d.Spec.Template.ObjectMeta, spec: d.Spec.Template.Spec})
		case "StatefulSet":
			var s appsv1.StatefulSet
			decode(in.t, o, &s)
			out = append(out, podTemplate{owner: "StatefulSet " + s.Name, meta: s.Spec.Template.ObjectMeta, spec: s.Spec.Template.Spec,
				claims: s.Spec.VolumeClaimTemplates})
		case "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod", "ReplicationController":
			in.t.Errorf("%s %s: the packaging tests do not know this workload kind; teach podTemplates about it", o.GetKind(), o.GetName())
		}
	}
	return out
}

// containerNamed finds the pod template with a container of that name.
func (in install) containerNamed(name string) (podTemplate, corev1.Container) {
	in.t.Helper()
	var found []podTemplate
	var c corev1.Container
	for _, p := range in.podTemplates() {
		for _, pc := range p.spec.Containers {
			if pc.Name == name {
				found, c = append(found, p), pc
			}
		}
	}
	if len(found) != 1 {
		in.t.Fatalf("%d pod templates have a container %q, want 1", len(found), name)
	}
	return found[0], c
}

// flags parses a container's "--name=value" arguments after the subcommand.
func flags(t *testing.T, c corev1.Container, subcommand string) map[string][]string {
	t.Helper()
	if len(c.Command) != 0 {
		t.Errorf("container %s overrides the image's entrypoint with %q", c.Name, c.Command)
	}
	if len(c.Args) == 0 || c.Args[0] != subcommand {
		t.Fatalf("container %s args %q do not start with the subcommand %q", c.Name, c.Args, subcommand)
	}
	out := map[string][]string{}
	for _, a := range c.Args[1:] {
		name, value, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") || !ok {
			t.Errorf("container %s argument %q is not --flag=value", c.Name, a)
			continue
		}
		out[name] = append(out[name], value)
	}
	return out
}

func one(t *testing.T, f map[string][]string, name string) string {
	t.Helper()
	if len(f[name]) != 1 {
		t.Errorf("flag --%s is given %d times, want once", name, len(f[name]))
		return ""
	}
	return f[name][0]
}

// roleYAMLRules reads the rules controller-gen generates into config/rbac/role.yaml.
func roleYAMLRules(t *testing.T) []rbacv1.PolicyRule {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.UnmarshalStrict(data, &role); err != nil {
		t.Fatalf("parsing config/rbac/role.yaml: %v", err)
	}
	if role.Kind != "ClusterRole" || len(role.Rules) == 0 {
		t.Fatalf("config/rbac/role.yaml is not a ClusterRole with rules")
	}
	return role.Rules
}

// normalizeRules sorts every list in the rules and the rules themselves, so
// that two roles granting the same rights in another order compare equal.
func normalizeRules(rules []rbacv1.PolicyRule) []string {
	out := make([]string, 0, len(rules))
	for _, r := range rules {
		s := func(in []string) string {
			c := slices.Clone(in)
			sort.Strings(c)
			return "[" + strings.Join(c, ",") + "]"
		}
		out = append(out, fmt.Sprintf("groups=%s resources=%s names=%s urls=%s verbs=%s",
			s(r.APIGroups), s(r.Resources), s(r.ResourceNames), s(r.NonResourceURLs), s(r.Verbs)))
	}
	sort.Strings(out)
	return out
}

// bindings lists what each ServiceAccount of namespace is bound to, as
// "ClusterRole/<name>" or "Role/<name>".
func (in install) bindings(namespace string) map[string][]string {
	out := map[string][]string{}
	addSubjects := func(kind, name string, subjects []rbacv1.Subject, bindingNS string) {
		for _, s := range subjects {
			if s.Kind != rbacv1.ServiceAccountKind {
				in.t.Errorf("binding to %s %s: subject %s %s is not a ServiceAccount", kind, name, s.Kind, s.Name)
				continue
			}
			if s.Namespace != namespace {
				in.t.Errorf("binding to %s %s: subject %s is in namespace %q, want %q", kind, name, s.Name, s.Namespace, namespace)
			}
			if in.find("ServiceAccount", namespace, s.Name) == nil {
				in.t.Errorf("binding to %s %s: ServiceAccount %s/%s is not part of the installation", kind, name, namespace, s.Name)
			}
			if bindingNS != "" && bindingNS != namespace {
				in.t.Errorf("RoleBinding for %s is in namespace %q, want %q", name, bindingNS, namespace)
			}
			out[s.Name] = append(out[s.Name], kind+"/"+name)
		}
	}
	for _, u := range in.ofKind("ClusterRoleBinding") {
		var b rbacv1.ClusterRoleBinding
		decode(in.t, u, &b)
		if b.RoleRef.Kind != "ClusterRole" {
			in.t.Errorf("ClusterRoleBinding %s refers to a %s", b.Name, b.RoleRef.Kind)
		}
		addSubjects("ClusterRole", b.RoleRef.Name, b.Subjects, "")
	}
	for _, u := range in.ofKind("RoleBinding") {
		var b rbacv1.RoleBinding
		decode(in.t, u, &b)
		addSubjects(b.RoleRef.Kind, b.RoleRef.Name, b.Subjects, b.Namespace)
	}
	for sa := range out {
		sort.Strings(out[sa])
	}
	return out
}

func (in install) clusterRoleRules(name string) []rbacv1.PolicyRule {
	u := in.find("ClusterRole", "", name)
	if u == nil {
		in.t.Fatalf("ClusterRole %s is bound but not part of the installation", name)
	}
	var r rbacv1.ClusterRole
	decode(in.t, u, &r)
	return r.Rules
}

// checkInstall verifies an installation: every object well-formed and in
// place, every pod restricted, RBAC least-privilege and equal to the
// generated role, and the manager, archive, Services, tokens and network
// policies wired to each other.
func checkInstall(t *testing.T, objs []*unstructured.Unstructured, e expect) {
	t.Helper()
	in := install{t: t, objs: objs}

	// Every object: a known kind with only known fields, once, in its place.
	seen := map[string]bool{}
	for _, u := range objs {
		key := u.GroupVersionKind().String() + " " + u.GetNamespace() + "/" + u.GetName()
		if seen[key] {
			t.Errorf("%s is rendered twice", key)
		}
		seen[key] = true
		typed, err := decodeScheme.New(u.GroupVersionKind())
		if err != nil {
			t.Errorf("%s: unknown kind: %v", key, err)
			continue
		}
		decode(t, u, typed)
		switch {
		case clusterScoped[u.GetKind()] && u.GetNamespace() != "":
			t.Errorf("cluster-scoped %s has a namespace", key)
		case !clusterScoped[u.GetKind()] && u.GetNamespace() != e.namespace:
			t.Errorf("%s is not in namespace %s", key, e.namespace)
		}
		if u.GetLabels()["app.kubernetes.io/part-of"] != "vigil" && u.GetKind() != "CustomResourceDefinition" {
			t.Errorf("%s lacks the label app.kubernetes.io/part-of=vigil", key)
		}
	}

	// Every pod meets the restricted profile.
	templates := in.podTemplates()
	if len(templates) != 2 {
		t.Errorf("%d workloads rendered, want the manager and the archive", len(templates))
	}
	for _, p := range templates {
		for _, v := range restrictedViolations(p.meta, p.spec) {
			t.Errorf("%s breaks Pod Security restricted: %s", p.owner, v)
		}
		for _, c := range p.spec.Containers {
			if c.Image != e.image {
				t.Errorf("%s container %s runs %q, want %q", p.owner, c.Name, c.Image, e.image)
			}
			if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("%s container %s has no memory request or limit", p.owner, c.Name)
			}
		}
	}

	mgrPod, mgr := in.containerNamed("manager")
	archPod, arch := in.containerNamed("archive")
	mgrFlags := flags(t, mgr, "manager")
	archFlags := flags(t, arch, "archive")
	mgrSA, archSA := mgrPod.spec.ServiceAccountName, archPod.spec.ServiceAccountName
	for _, p := range []podTemplate{mgrPod, archPod} {
		if p.spec.ServiceAccountName == "" || in.find("ServiceAccount", e.namespace, p.spec.ServiceAccountName) == nil {
			t.Errorf("%s runs as ServiceAccount %q, which the installation does not create", p.owner, p.spec.ServiceAccountName)
		}
		// Both call the API server (the manager to reconcile, the archive
		// for TokenReview), so their pods mount a token explicitly while
		// the ServiceAccounts do not hand one to anything else.
		if p.spec.AutomountServiceAccountToken == nil || !*p.spec.AutomountServiceAccountToken {
			t.Errorf("%s does not mount its API token", p.owner)
		}
	}
	for _, u := range in.ofKind("ServiceAccount") {
		var sa corev1.ServiceAccount
		decode(t, u, &sa)
		if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
			t.Errorf("ServiceAccount %s hands an API token to every pod; set automountServiceAccountToken: false", sa.Name)
		}
	}

	// RBAC: the manager's ClusterRole is exactly the generated one, and
	// nothing else is granted beyond what leader election, TokenReview and
	// metrics need.
	managerSubject := "system:serviceaccount:" + e.namespace + ":" + mgrSA
	bound := in.bindings(e.namespace)
	var managerRole string
	for _, b := range bound[mgrSA] {
		if name, ok := strings.CutPrefix(b, "ClusterRole/"); ok && name != "system:auth-delegator" {
			if managerRole != "" {
				t.Errorf("the manager is bound to ClusterRoles %s and %s, want one", managerRole, name)
			}
			managerRole = name
		}
	}
	if managerRole == "" {
		t.Fatalf("no ClusterRole is bound to the manager's ServiceAccount %s", mgrSA)
	}
	if got, want := normalizeRules(in.clusterRoleRules(managerRole)), normalizeRules(roleYAMLRules(t)); !slices.Equal(got, want) {
		t.Errorf("ClusterRole %s differs from config/rbac/role.yaml:\n got %s\nwant %s",
			managerRole, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	wantMgr := []string{"ClusterRole/" + managerRole}
	if e.metrics && e.secureMetrics {
		wantMgr = append(wantMgr, "ClusterRole/system:auth-delegator")
	}
	var leaderRole string
	if e.leaderElection {
		for _, u := range in.ofKind("Role") {
			leaderRole = u.GetName()
		}
		wantMgr = append(wantMgr, "Role/"+leaderRole)
	} else if len(in.ofKind("Role")) != 0 {
		t.Error("a Role is rendered without leader election")
	}
	sort.Strings(wantMgr)
	if !slices.Equal(bound[mgrSA], wantMgr) {
		t.Errorf("the manager is bound to %q, want %q", bound[mgrSA], wantMgr)
	}
	if want := []string{"ClusterRole/system:auth-delegator"}; !slices.Equal(bound[archSA], want) {
		t.Errorf("the archive is bound to %q, want only %q", bound[archSA], want)
	}
	if len(bound) != 2 {
		t.Errorf("ServiceAccounts with bindings: %v, want the manager's and the archive's only", bound)
	}
	if e.leaderElection {
		var r rbacv1.Role
		decode(t, in.find("Role", e.namespace, leaderRole), &r)
		want := normalizeRules([]rbacv1.PolicyRule{
			{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"},
				Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
			{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
		})
		if got := normalizeRules(r.Rules); !slices.Equal(got, want) {
			t.Errorf("leader election Role %s grants %q, want %q", r.Name, got, want)
		}
	}
	for _, u := range in.ofKind("ClusterRole") {
		var r rbacv1.ClusterRole
		decode(t, u, &r)
		for _, rule := range r.Rules {
			for _, list := range [][]string{rule.APIGroups, rule.Resources, rule.Verbs} {
				if slices.Contains(list, "*") {
					t.Errorf("ClusterRole %s grants a wildcard: %v", r.Name, rule)
				}
			}
		}
		if r.Name != managerRole {
			// The only other ClusterRole is for scrapers of the manager's metrics.
			want := normalizeRules([]rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}})
			if got := normalizeRules(r.Rules); !slices.Equal(got, want) || !e.secureMetrics {
				t.Errorf("unexpected ClusterRole %s granting %q", r.Name, got)
			}
		}
	}

	// The manager: flags wired to the archive, its token, its namespace.
	if got := one(t, mgrFlags, "connector-image"); got != e.connectorImage {
		t.Errorf("--connector-image = %q, want %q", got, e.connectorImage)
	}
	if got := one(t, mgrFlags, "actor"); got != managerSubject {
		t.Errorf("--actor = %q, want the manager's own ServiceAccount %q", got, managerSubject)
	}
	if got := one(t, mgrFlags, "leader-elect"); got != strconv.FormatBool(e.leaderElection) {
		t.Errorf("--leader-elect = %q, want %v", got, e.leaderElection)
	}
	if got := one(t, mgrFlags, "leader-election-namespace"); got != e.namespace {
		t.Errorf("--leader-election-namespace = %q, want %q", got, e.namespace)
	}
	if got := one(t, mgrFlags, "archive-namespace"); got != e.namespace {
		t.Errorf("--archive-namespace = %q, want %q (connector NetworkPolicies admit the archive pods there)", got, e.namespace)
	}
	checkArchiveURL(t, in, one(t, mgrFlags, "archive-url"), e.namespace, archPod, arch)
	checkArchiveToken(t, mgrPod, mgr, one(t, mgrFlags, "archive-token-file"))
	checkProbes(t, mgrPod.owner, mgr, portOf(t, one(t, mgrFlags, "health-probe-bind-address")))
	metricsAddr := one(t, mgrFlags, "metrics-bind-address")
	if !e.metrics {
		if metricsAddr != "0" {
			t.Errorf("--metrics-bind-address = %q with metrics disabled, want 0", metricsAddr)
		}
	} else {
		checkMetricsService(t, in, e, mgrPod, mgr, portOf(t, metricsAddr))
		if got := one(t, mgrFlags, "metrics-secure"); got != strconv.FormatBool(e.secureMetrics) {
			t.Errorf("--metrics-secure = %q, want %v", got, e.secureMetrics)
		}
	}

	// The archive: one replica on a retained volume, accepting the manager.
	var sts appsv1.StatefulSet
	for _, u := range in.ofKind("StatefulSet") {
		decode(t, u, &sts)
	}
	if sts.Spec.Replicas == nil || *sts.Spec.Replicas != 1 {
		t.Errorf("archive StatefulSet replicas = %v, want 1", sts.Spec.Replicas)
	}
	if p := sts.Spec.PersistentVolumeClaimRetentionPolicy; p == nil ||
		p.WhenDeleted != appsv1.RetainPersistentVolumeClaimRetentionPolicyType || p.WhenScaled != appsv1.RetainPersistentVolumeClaimRetentionPolicyType {
		t.Errorf("archive PVC retention policy = %+v, want Retain on delete and scale-down", p)
	}
	if u := in.find("Service", e.namespace, sts.Spec.ServiceName); u == nil {
		t.Errorf("archive StatefulSet's serviceName %q is not a Service of the installation", sts.Spec.ServiceName)
	} else {
		var svc corev1.Service
		decode(t, u, &svc)
		if svc.Spec.ClusterIP != corev1.ClusterIPNone {
			t.Errorf("the archive's governing Service %s is not headless", svc.Name)
		}
	}
	if got := archPod.meta.Labels[v1alpha1.LabelAppName]; got != "vigil-archive" {
		t.Errorf("archive pods are labelled %s=%q; the manager's connector NetworkPolicies select vigil-archive", v1alpha1.LabelAppName, got)
	}
	admins := archFlags["admin-subject"]
	if want := append([]string{managerSubject}, e.adminSubjects...); !slices.Equal(admins, want) {
		t.Errorf("archive --admin-subject = %q, want %q", admins, want)
	}
	if got := one(t, archFlags, "auth"); got != "tokenreview" {
		t.Errorf("archive --auth = %q, want tokenreview", got)
	}
	if got := one(t, archFlags, "audience"); got != cc.ArchiveAudience {
		t.Errorf("archive --audience = %q, want %q", got, cc.ArchiveAudience)
	}
	listenPort := portOf(t, one(t, archFlags, "listen"))
	if listenPort != cc.HTTPPort {
		t.Errorf("archive listens on %d; connectors call it on %d", listenPort, cc.HTTPPort)
	}
	checkProbes(t, archPod.owner, arch, listenPort)
	checkDataVolume(t, archPod, arch, one(t, archFlags, "data-dir"), e)

	checkNetworkPolicies(t, in, e, mgrPod, archPod, listenPort)
}

// portOf returns the port of a ":8080"-style listen address.
func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Errorf("address %q: %v", addr, err)
		return 0
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Errorf("address %q: %v", addr, err)
	}
	return n
}

// containerPort resolves a Service's or probe's target port on c.
func containerPort(c corev1.Container, target intstr.IntOrString) int {
	if target.Type == intstr.Int {
		return target.IntValue()
	}
	for _, p := range c.Ports {
		if p.Name == target.StrVal {
			return int(p.ContainerPort)
		}
	}
	return -1
}

// checkArchiveURL follows --archive-url to a Service of the installation
// that selects the archive pods and forwards to the port it listens on.
func checkArchiveURL(t *testing.T, in install, raw, namespace string, archPod podTemplate, arch corev1.Container) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Path != "" {
		t.Errorf("--archive-url %q is not an http://host:port URL (%v)", raw, err)
		return
	}
	svcName, rest, _ := strings.Cut(u.Hostname(), ".")
	if rest != namespace+".svc" && rest != namespace+".svc.cluster.local" {
		t.Errorf("--archive-url host %q is not a Service of namespace %s", u.Hostname(), namespace)
	}
	su := in.find("Service", namespace, svcName)
	if su == nil {
		t.Errorf("--archive-url names Service %s/%s, which the installation does not create", namespace, svcName)
		return
	}
	var svc corev1.Service
	decode(t, su, &svc)
	if svc.Spec.ClusterIP == corev1.ClusterIPNone {
		t.Errorf("--archive-url points at the headless Service %s", svc.Name)
	}
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(archPod.meta.Labels)) || len(svc.Spec.Selector) == 0 {
		t.Errorf("Service %s selects %v, which does not match the archive pods %v", svc.Name, svc.Spec.Selector, archPod.meta.Labels)
	}
	port, _ := strconv.Atoi(u.Port())
	for _, p := range svc.Spec.Ports {
		if int(p.Port) == port {
			if got := containerPort(arch, p.TargetPort); got != cc.HTTPPort {
				t.Errorf("Service %s port %d forwards to %d, the archive listens on %d", svc.Name, port, got, cc.HTTPPort)
			}
			return
		}
	}
	t.Errorf("Service %s has no port %d (from --archive-url)", svc.Name, port)
}

// checkArchiveToken verifies that --archive-token-file is a projected token
// of the manager's ServiceAccount that only the archive accepts.
func checkArchiveToken(t *testing.T, pod podTemplate, c corev1.Container, file string) {
	t.Helper()
	dir, base := filepath.Dir(file), filepath.Base(file)
	var volume string
	for _, m := range c.VolumeMounts {
		if m.MountPath == dir {
			volume = m.Name
			if !m.ReadOnly {
				t.Errorf("the archive token volume is mounted read-write")
			}
		}
	}
	for _, v := range pod.spec.Volumes {
		if v.Name != volume || v.Projected == nil {
			continue
		}
		for _, s := range v.Projected.Sources {
			if t := s.ServiceAccountToken; t != nil && t.Path == base && t.Audience == cc.ArchiveAudience {
				return
			}
		}
	}
	t.Errorf("--archive-token-file %s is not a projected ServiceAccount token with audience %s", file, cc.ArchiveAudience)
}

func checkProbes(t *testing.T, owner string, c corev1.Container, port int) {
	t.Helper()
	for name, probe := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if probe == nil || probe.HTTPGet == nil {
			t.Errorf("%s container %s has no HTTP %s probe", owner, c.Name, name)
			continue
		}
		want := map[string]string{"liveness": "/healthz", "readiness": "/readyz"}[name]
		if probe.HTTPGet.Path != want {
			t.Errorf("%s %s probe path = %s, want %s", owner, name, probe.HTTPGet.Path, want)
		}
		if got := containerPort(c, probe.HTTPGet.Port); got != port {
			t.Errorf("%s %s probe targets port %d, the probes are served on %d", owner, name, got, port)
		}
	}
}

func checkMetricsService(t *testing.T, in install, e expect, mgrPod podTemplate, mgr corev1.Container, port int) {
	t.Helper()
	for _, u := range in.ofKind("Service") {
		var svc corev1.Service
		decode(t, u, &svc)
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(mgrPod.meta.Labels)) {
			continue
		}
		for _, p := range svc.Spec.Ports {
			if containerPort(mgr, p.TargetPort) == port {
				return
			}
		}
	}
	t.Errorf("no Service exposes the manager's metrics port %d", port)
}

func checkDataVolume(t *testing.T, pod podTemplate, c corev1.Container, dataDir string, e expect) {
	t.Helper()
	var claimName string
	for _, m := range c.VolumeMounts {
		if m.MountPath == dataDir {
			claimName = m.Name
		}
	}
	for _, claim := range pod.claims {
		if claim.Name != claimName {
			continue
		}
		if got := claim.Spec.Resources.Requests.Storage().String(); got != e.storage {
			t.Errorf("archive volume size = %s, want %s", got, e.storage)
		}
		got := ""
		if claim.Spec.StorageClassName != nil {
			got = *claim.Spec.StorageClassName
		}
		if got != e.storageClass {
			t.Errorf("archive storage class = %q, want %q", got, e.storageClass)
		}
		if pod.spec.SecurityContext.FSGroup == nil || *pod.spec.SecurityContext.FSGroup != 65532 {
			t.Error("archive pod has no fsGroup 65532, so its non-root user cannot write the volume")
		}
		return
	}
	t.Errorf("archive --data-dir %s is not on a volume claim template", dataDir)
}

// checkNetworkPolicies verifies that the archive admits the manager and
// connector pods in any namespace on its port, and that a policy covers the
// manager.
func checkNetworkPolicies(t *testing.T, in install, e expect, mgrPod, archPod podTemplate, archivePort int) {
	t.Helper()
	policies := in.ofKind("NetworkPolicy")
	if !e.networkPolicy {
		if len(policies) != 0 {
			t.Errorf("%d NetworkPolicies rendered with network policies disabled", len(policies))
		}
		return
	}
	// The labels the manager puts on connector pods (internal/controller).
	connector := labels.Set{
		v1alpha1.LabelAppName: "vigil-connector", v1alpha1.LabelAppManagedBy: v1alpha1.ManagedByVigil,
		v1alpha1.LabelAccount: "any", v1alpha1.LabelAppComponent: v1alpha1.ConnectorComponent,
	}
	admits := func(np networkingv1.NetworkPolicy, podLabels labels.Set, anyNamespace bool, port int) bool {
		for _, rule := range np.Spec.Ingress {
			portOK := len(rule.Ports) == 0
			for _, p := range rule.Ports {
				if p.Port != nil && p.Port.IntValue() == port {
					portOK = true
				}
			}
			if !portOK {
				continue
			}
			if len(rule.From) == 0 {
				return true
			}
			for _, peer := range rule.From {
				if peer.IPBlock != nil || peer.PodSelector == nil {
					continue
				}
				if anyNamespace && (peer.NamespaceSelector == nil || len(peer.NamespaceSelector.MatchLabels)+len(peer.NamespaceSelector.MatchExpressions) != 0) {
					continue
				}
				sel, err := metav1.LabelSelectorAsSelector(peer.PodSelector)
				if err == nil && sel.Matches(podLabels) {
					return true
				}
			}
		}
		return false
	}
	var archiveCovered, managerCovered bool
	for _, u := range policies {
		var np networkingv1.NetworkPolicy
		decode(t, u, &np)
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil {
			t.Errorf("NetworkPolicy %s: %v", np.Name, err)
			continue
		}
		if len(np.Spec.PodSelector.MatchLabels)+len(np.Spec.PodSelector.MatchExpressions) == 0 {
			t.Errorf("NetworkPolicy %s selects every pod of the namespace", np.Name)
		}
		if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
			t.Errorf("NetworkPolicy %s does not restrict ingress", np.Name)
		}
		// Every rule names its ports: the probe ports and anything else the
		// pods might listen on stay closed.
		for _, rule := range np.Spec.Ingress {
			if len(rule.Ports) == 0 {
				t.Errorf("NetworkPolicy %s has an ingress rule for every port", np.Name)
			}
		}
		switch {
		case sel.Matches(labels.Set(archPod.meta.Labels)):
			archiveCovered = true
			if !admits(np, labels.Set(mgrPod.meta.Labels), false, archivePort) {
				t.Errorf("NetworkPolicy %s does not admit the manager to the archive port %d", np.Name, archivePort)
			}
			if !admits(np, connector, true, archivePort) {
				t.Errorf("NetworkPolicy %s does not admit connector pods of every namespace to the archive port %d", np.Name, archivePort)
			}
			if admits(np, labels.Set{"app": "anything-else"}, false, archivePort) {
				t.Errorf("NetworkPolicy %s admits any pod to the archive", np.Name)
			}
			if admits(np, connector, true, 9999) {
				t.Errorf("NetworkPolicy %s admits connectors on ports other than the archive's", np.Name)
			}
		case sel.Matches(labels.Set(mgrPod.meta.Labels)):
			managerCovered = true
			if e.metrics && len(np.Spec.Ingress) == 0 {
				t.Errorf("NetworkPolicy %s admits nothing, not even scrapes of the manager's metrics", np.Name)
			}
			if !e.metrics && len(np.Spec.Ingress) != 0 {
				t.Errorf("NetworkPolicy %s admits traffic to a manager that serves nothing", np.Name)
			}
		default:
			t.Errorf("NetworkPolicy %s selects neither the manager nor the archive", np.Name)
		}
	}
	if !archiveCovered || !managerCovered {
		t.Errorf("NetworkPolicies cover the archive: %v, the manager: %v; want both", archiveCovered, managerCovered)
	}
}

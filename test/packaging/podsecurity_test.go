package packaging

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// restrictedViolations lists how spec breaks the Pod Security Standards'
// "restricted" profile (https://kubernetes.io/docs/concepts/security/pod-security-standards/),
// control by control, and Vigil's own additions: a read-only root
// filesystem and the image's non-root user 65532. The envtest apply test
// also has the API server's PodSecurity admission judge the same pods; this
// check names the field to fix and runs without a control plane.
func restrictedViolations(meta metav1.ObjectMeta, spec corev1.PodSpec) []string {
	var v []string
	add := func(format string, args ...any) { v = append(v, fmt.Sprintf(format, args...)) }

	// Baseline: host namespaces.
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		add("host namespaces: hostNetwork, hostPID and hostIPC must be false")
	}
	psc := spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	// Baseline: sysctls outside the safe set.
	safeSysctls := []string{
		"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
		"net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
		"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
		"net.ipv4.tcp_keepalive_probes",
	}
	for _, s := range psc.Sysctls {
		if !slices.Contains(safeSysctls, s.Name) {
			add("sysctl %s is not in the safe set", s.Name)
		}
	}
	// Baseline: AppArmor annotations and fields.
	for k, val := range meta.Annotations {
		if strings.HasPrefix(k, "container.apparmor.security.beta.kubernetes.io/") && val != "runtime/default" && !strings.HasPrefix(val, "localhost/") {
			add("annotation %s=%s: AppArmor must be runtime/default or localhost/*", k, val)
		}
	}
	checkAppArmor := func(where string, p *corev1.AppArmorProfile) {
		if p != nil && p.Type == corev1.AppArmorProfileTypeUnconfined {
			add("%s: appArmorProfile must not be Unconfined", where)
		}
	}
	checkSELinux := func(where string, o *corev1.SELinuxOptions) {
		if o == nil {
			return
		}
		if !slices.Contains([]string{"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}, o.Type) {
			add("%s: seLinuxOptions.type %q is not allowed", where, o.Type)
		}
		if o.User != "" || o.Role != "" {
			add("%s: seLinuxOptions.user and .role must be unset", where)
		}
	}
	checkAppArmor("pod", psc.AppArmorProfile)
	checkSELinux("pod", psc.SELinuxOptions)

	// Restricted: volume types.
	for _, vol := range spec.Volumes {
		src := vol.VolumeSource
		allowed := src.ConfigMap != nil || src.CSI != nil || src.DownwardAPI != nil || src.EmptyDir != nil ||
			src.Ephemeral != nil || src.PersistentVolumeClaim != nil || src.Projected != nil || src.Secret != nil
		if !allowed {
			add("volume %s: only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and secret volumes are allowed", vol.Name)
		}
	}

	// Restricted: seccomp at the pod level, or on every container.
	podSeccomp := psc.SeccompProfile
	seccompOK := func(p *corev1.SeccompProfile) bool {
		return p != nil && (p.Type == corev1.SeccompProfileTypeRuntimeDefault || p.Type == corev1.SeccompProfileTypeLocalhost)
	}
	if podSeccomp != nil && !seccompOK(podSeccomp) {
		add("pod: seccompProfile.type must be RuntimeDefault or Localhost, not %s", podSeccomp.Type)
	}
	// Restricted: runAsNonRoot at the pod level, or on every container.
	podNonRoot := psc.RunAsNonRoot != nil && *psc.RunAsNonRoot
	if psc.RunAsNonRoot != nil && !*psc.RunAsNonRoot {
		add("pod: runAsNonRoot must not be false")
	}
	if psc.RunAsUser != nil && *psc.RunAsUser == 0 {
		add("pod: runAsUser must not be 0")
	}
	if psc.RunAsUser == nil || *psc.RunAsUser != 65532 || psc.RunAsGroup == nil || *psc.RunAsGroup != 65532 {
		add("pod: runAsUser and runAsGroup must be 65532, the image's user")
	}

	type named struct {
		kind string
		c    corev1.Container
	}
	var all []named
	for _, c := range spec.InitContainers {
		all = append(all, named{"init container", c})
	}
	for _, c := range spec.Containers {
		all = append(all, named{"container", c})
	}
	for _, c := range spec.EphemeralContainers {
		all = append(all, named{"ephemeral container", corev1.Container(c.EphemeralContainerCommon)})
	}
	for _, n := range all {
		where := fmt.Sprintf("%s %s", n.kind, n.c.Name)
		sc := n.c.SecurityContext
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		for _, p := range n.c.Ports {
			if p.HostPort != 0 {
				add("%s: hostPort %d is not allowed", where, p.HostPort)
			}
		}
		if sc.Privileged != nil && *sc.Privileged {
			add("%s: privileged must be false", where)
		}
		if sc.WindowsOptions != nil && sc.WindowsOptions.HostProcess != nil && *sc.WindowsOptions.HostProcess {
			add("%s: hostProcess must be false", where)
		}
		if sc.ProcMount != nil && *sc.ProcMount != corev1.DefaultProcMount {
			add("%s: procMount must be Default", where)
		}
		checkAppArmor(where, sc.AppArmorProfile)
		checkSELinux(where, sc.SELinuxOptions)
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			add("%s: allowPrivilegeEscalation must be set to false", where)
		}
		if sc.RunAsNonRoot != nil && !*sc.RunAsNonRoot {
			add("%s: runAsNonRoot must not be false", where)
		} else if !podNonRoot && sc.RunAsNonRoot == nil {
			add("%s: runAsNonRoot must be true (on the container or the pod)", where)
		}
		if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			add("%s: runAsUser must not be 0", where)
		}
		if sc.SeccompProfile != nil && !seccompOK(sc.SeccompProfile) {
			add("%s: seccompProfile.type must be RuntimeDefault or Localhost, not %s", where, sc.SeccompProfile.Type)
		} else if sc.SeccompProfile == nil && !seccompOK(podSeccomp) {
			add("%s: seccompProfile must be RuntimeDefault or Localhost (on the container or the pod)", where)
		}
		var drop, addCaps []corev1.Capability
		if sc.Capabilities != nil {
			drop, addCaps = sc.Capabilities.Drop, sc.Capabilities.Add
		}
		if !slices.Contains(drop, "ALL") {
			add("%s: capabilities.drop must include ALL", where)
		}
		for _, c := range addCaps {
			if c != "NET_BIND_SERVICE" {
				add("%s: capability %s must not be added", where, c)
			}
		}
		// Vigil's own posture on top of the profile.
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			add("%s: readOnlyRootFilesystem must be true", where)
		}
	}
	return v
}

// compliantPodSpec is a pod that meets the profile, for the checker's test.
func compliantPodSpec() corev1.PodSpec {
	return corev1.PodSpec{
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr.To(true),
			RunAsUser:      ptr.To[int64](65532),
			RunAsGroup:     ptr.To[int64](65532),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{{
			Name:  "app",
			Image: "example.com/app:1",
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr.To(false),
				ReadOnlyRootFilesystem:   ptr.To(true),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
		}},
		Volumes: []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
	}
}

// TestRestrictedCheckerCatchesViolations shows that restrictedViolations is
// not vacuous: each way of breaking the profile is reported.
func TestRestrictedCheckerCatchesViolations(t *testing.T) {
	if v := restrictedViolations(metav1.ObjectMeta{}, compliantPodSpec()); len(v) != 0 {
		t.Fatalf("a compliant pod was reported: %q", v)
	}
	cases := map[string]struct {
		mutate func(*metav1.ObjectMeta, *corev1.PodSpec)
		want   string
	}{
		"host network": {func(_ *metav1.ObjectMeta, s *corev1.PodSpec) { s.HostNetwork = true }, "host namespaces"},
		"host path": {func(_ *metav1.ObjectMeta, s *corev1.PodSpec) {
			s.Volumes = append(s.Volumes, corev1.Volume{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}})
		}, "volume h"},
		"privileged": {func(_ *metav1.ObjectMeta, s *corev1.PodSpec) {
			s.Containers[0].SecurityContext.Privileged = ptr.To(true)
		}, "privileged"},
		"escalation unset": {func(_ *metav1.ObjectMeta, s *corev1.PodSpec) {
			s.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
		}, "allowPrivilegeEscalation"},
		"capabilities kept": {func(_ *metav1.ObjectMeta, s *corev1.PodSpec) { s.Containers[0].SecurityContext.Capabilities = nil }, "drop must include ALL"},
		"capability added": {func(_ *metav1.ObjectMeta, s *corev1.PodSpec) {
			s.Containers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"NET_ADMIN"}
		}, "NET_ADMIN"},
		"root allowed": {func(_ *metav1.ObjectMeta, s *corev1.PodSpec) { s.SecurityContext.RunAsNonRoot = nil }, "runAsNonRoot must be true"},
		"root user": {func(_ *metav1.ObjectMeta, s *corev1.PodSpec) {
			s.Containers[0].SecurityContext.RunAsUser = ptr.To[int64](0)
		}, "runAsUser must not be 0"},
		"no seccomp": {func(_ *metav1.ObjectMeta, s *corev1.PodSpec) { s.SecurityContext.SeccompProfile = nil }, "seccompProfile must be"},
		"unconfined seccomp": {func(_ *metav1.ObjectMeta, s *corev1.PodSpec) {
			s.Containers[0].SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
		}, "not Unconfined"},
		"host port": {func(_ *metav1.ObjectMeta, s *corev1.PodSpec) {
			s.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 80}}
		}, "hostPort"},
		"unsafe sysctl": {func(_ *metav1.ObjectMeta, s *corev1.PodSpec) {
			s.SecurityContext.Sysctls = []corev1.Sysctl{{Name: "kernel.msgmax", Value: "1"}}
		}, "kernel.msgmax"},
		"apparmor unconfined": {func(m *metav1.ObjectMeta, _ *corev1.PodSpec) {
			m.Annotations = map[string]string{"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}
		}, "AppArmor"},
		"selinux user": {func(_ *metav1.ObjectMeta, s *corev1.PodSpec) {
			s.SecurityContext.SELinuxOptions = &corev1.SELinuxOptions{User: "system_u"}
		}, "seLinuxOptions"},
		"writable root": {func(_ *metav1.ObjectMeta, s *corev1.PodSpec) {
			s.Containers[0].SecurityContext.ReadOnlyRootFilesystem = nil
		}, "readOnlyRootFilesystem"},
		"insecure init container": {func(_ *metav1.ObjectMeta, s *corev1.PodSpec) {
			s.InitContainers = []corev1.Container{{Name: "init"}}
		}, "init container init"},
		"another user": {func(_ *metav1.ObjectMeta, s *corev1.PodSpec) { s.SecurityContext.RunAsUser = ptr.To[int64](1000) }, "65532"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			meta, spec := metav1.ObjectMeta{}, compliantPodSpec()
			tc.mutate(&meta, &spec)
			v := restrictedViolations(meta, spec)
			if !slices.ContainsFunc(v, func(s string) bool { return strings.Contains(s, tc.want) }) {
				t.Fatalf("violations %q do not mention %q", v, tc.want)
			}
		})
	}
}

package devcluster

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
)

// errConfig marks a container whose environment or mounts refer to
// something missing (a ConfigMap key, a volume): the kubelet's
// CreateContainerConfigError.
var errConfig = errors.New("container configuration error")

func configErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errConfig, fmt.Sprintf(format, args...))
}

// commandSpec is how to start one container as a local process.
type commandSpec struct {
	path string
	args []string
	env  []string
	dir  string
}

// commandFor turns a container into a command line: command[0] becomes the
// image's local binary, $(VAR) references expand from the container's
// environment, and paths inside volume mounts become the folders that stand
// in for the volumes.
func (w *podWorker) commandFor(ctx context.Context, pod *corev1.Pod, c *corev1.Container) (*commandSpec, error) {
	bin, ok := w.r.binaryFor(c.Image)
	if !ok {
		return nil, fmt.Errorf("%w %s (vigil dev runs %s)", errImage, c.Image, strings.Join(w.r.imageNames(), ", "))
	}
	vars, err := w.containerEnv(ctx, pod, c)
	if err != nil {
		return nil, err
	}
	lookup := vars.lookup
	mounts, err := w.containerMounts(pod, c, lookup)
	if err != nil {
		return nil, err
	}

	var argv []string
	if len(c.Command) > 1 {
		argv = append(argv, c.Command[1:]...)
	}
	argv = append(argv, c.Args...)
	for i, a := range argv {
		argv[i] = mounts.rewriteArg(expandVars(a, lookup))
	}

	dir := w.dir
	if c.WorkingDir != "" {
		if local, ok := mounts.rewritePath(c.WorkingDir); ok {
			dir = local
		}
	}

	tmp := filepath.Join(w.dir, "tmp")
	if local, ok := mounts.rewritePath("/tmp"); ok {
		tmp = local
	} else if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("while creating the pod's temporary folder: %w", err)
	}
	hostname := pod.Name
	if pod.Spec.Hostname != "" {
		hostname = pod.Spec.Hostname
	}
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	// What a container runtime and the kubelet always provide; the
	// container's own variables override them.
	env := envList{}
	env.set("PATH", path)
	env.set("HOSTNAME", hostname)
	env.set("HOME", w.dir)
	env.set("TMPDIR", tmp)
	if w.r.apiHost != "" {
		env.set("KUBERNETES_SERVICE_HOST", w.r.apiHost)
		env.set("KUBERNETES_SERVICE_PORT", w.r.apiPort)
	}
	for _, kv := range vars.items {
		local, _ := mounts.rewritePath(kv.value)
		env.set(kv.name, local)
	}
	return &commandSpec{path: bin, args: argv, env: env.environ(), dir: dir}, nil
}

// envList is an ordered environment in which a later value replaces an
// earlier one of the same name.
type envList struct {
	items []envItem
	index map[string]int
}

type envItem struct{ name, value string }

func (e *envList) set(name, value string) {
	if e.index == nil {
		e.index = map[string]int{}
	}
	if i, ok := e.index[name]; ok {
		e.items[i].value = value
		return
	}
	e.index[name] = len(e.items)
	e.items = append(e.items, envItem{name, value})
}

func (e *envList) lookup(name string) (string, bool) {
	i, ok := e.index[name]
	if !ok {
		return "", false
	}
	return e.items[i].value, true
}

func (e *envList) environ() []string {
	out := make([]string, len(e.items))
	for i, kv := range e.items {
		out[i] = kv.name + "=" + kv.value
	}
	return out
}

// containerEnv resolves envFrom, then env in order, as the kubelet does: a
// value may refer to variables defined before it.
func (w *podWorker) containerEnv(ctx context.Context, pod *corev1.Pod, c *corev1.Container) (*envList, error) {
	env := &envList{}
	for _, from := range c.EnvFrom {
		var data map[string]string
		switch {
		case from.ConfigMapRef != nil:
			cm, err := w.r.configMap.ConfigMaps(pod.Namespace).Get(from.ConfigMapRef.Name)
			if apierrors.IsNotFound(err) && optional(from.ConfigMapRef.Optional) {
				continue
			}
			if err != nil {
				return nil, configErrorf("configmap %q for envFrom: %v", from.ConfigMapRef.Name, err)
			}
			data = cm.Data
		case from.SecretRef != nil:
			s, err := w.r.secrets.Secrets(pod.Namespace).Get(from.SecretRef.Name)
			if apierrors.IsNotFound(err) && optional(from.SecretRef.Optional) {
				continue
			}
			if err != nil {
				return nil, configErrorf("secret %q for envFrom: %v", from.SecretRef.Name, err)
			}
			data = map[string]string{}
			for k, v := range s.Data {
				data[k] = string(v)
			}
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			env.set(from.Prefix+k, data[k])
		}
	}
	for _, ev := range c.Env {
		if ev.ValueFrom == nil {
			env.set(ev.Name, expandVars(ev.Value, env.lookup))
			continue
		}
		v, skip, err := w.envValueFrom(ctx, pod, c, ev.ValueFrom)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", ev.Name, err)
		}
		if !skip {
			env.set(ev.Name, v)
		}
	}
	return env, nil
}

func optional(b *bool) bool { return b != nil && *b }

// envValueFrom resolves one valueFrom; skip is true for a missing optional
// key.
func (w *podWorker) envValueFrom(_ context.Context, pod *corev1.Pod, c *corev1.Container, src *corev1.EnvVarSource) (string, bool, error) {
	switch {
	case src.FieldRef != nil:
		v, err := w.fieldValue(pod, src.FieldRef.FieldPath)
		return v, false, err
	case src.ResourceFieldRef != nil:
		v, err := resourceValue(c, src.ResourceFieldRef)
		return v, false, err
	case src.ConfigMapKeyRef != nil:
		ref := src.ConfigMapKeyRef
		cm, err := w.r.configMap.ConfigMaps(pod.Namespace).Get(ref.Name)
		if err != nil {
			if apierrors.IsNotFound(err) && optional(ref.Optional) {
				return "", true, nil
			}
			return "", false, configErrorf("configmap %q: %v", ref.Name, err)
		}
		v, ok := cm.Data[ref.Key]
		if !ok {
			if optional(ref.Optional) {
				return "", true, nil
			}
			return "", false, configErrorf("key %q not found in configmap %q", ref.Key, ref.Name)
		}
		return v, false, nil
	case src.SecretKeyRef != nil:
		ref := src.SecretKeyRef
		s, err := w.r.secrets.Secrets(pod.Namespace).Get(ref.Name)
		if err != nil {
			if apierrors.IsNotFound(err) && optional(ref.Optional) {
				return "", true, nil
			}
			return "", false, configErrorf("secret %q: %v", ref.Name, err)
		}
		v, ok := s.Data[ref.Key]
		if !ok {
			if optional(ref.Optional) {
				return "", true, nil
			}
			return "", false, configErrorf("key %q not found in secret %q", ref.Key, ref.Name)
		}
		return string(v), false, nil
	}
	return "", false, configErrorf("unsupported valueFrom source")
}

// fieldValue answers a downward API field reference.
func (w *podWorker) fieldValue(pod *corev1.Pod, field string) (string, error) {
	ip := w.ip.String()
	switch field {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP", "status.hostIPs":
		return hostIP, nil
	case "status.podIP", "status.podIPs":
		return ip, nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	}
	for prefix, m := range map[string]map[string]string{"metadata.labels": pod.Labels, "metadata.annotations": pod.Annotations} {
		if strings.HasPrefix(field, prefix+"['") && strings.HasSuffix(field, "']") {
			return m[field[len(prefix)+2:len(field)-2]], nil
		}
	}
	return "", configErrorf("unsupported fieldRef %q", field)
}

// formatMap renders labels or annotations as the downward API does:
// key="value" lines, sorted by key.
func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(k + "=" + strconv.Quote(m[k]))
	}
	return b.String()
}

// resourceValue answers a resourceFieldRef from the container's requests
// and limits; an unset limit is the node's capacity, as in the kubelet.
func resourceValue(c *corev1.Container, ref *corev1.ResourceFieldSelector) (string, error) {
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	var q resource.Quantity
	var ok bool
	switch ref.Resource {
	case "limits.cpu":
		if q, ok = c.Resources.Limits[corev1.ResourceCPU]; !ok {
			q = *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI)
		}
	case "limits.memory":
		if q, ok = c.Resources.Limits[corev1.ResourceMemory]; !ok {
			q = *resource.NewQuantity(hostMemory(), resource.BinarySI)
		}
	case "requests.cpu":
		q = c.Resources.Requests[corev1.ResourceCPU]
	case "requests.memory":
		q = c.Resources.Requests[corev1.ResourceMemory]
	case "limits.ephemeral-storage":
		q = c.Resources.Limits[corev1.ResourceEphemeralStorage]
	case "requests.ephemeral-storage":
		q = c.Resources.Requests[corev1.ResourceEphemeralStorage]
	default:
		return "", configErrorf("unsupported resourceFieldRef %q", ref.Resource)
	}
	// Round up, as the kubelet does: a 250m CPU limit is "1" in cores.
	v := int64(math.Ceil(float64(q.MilliValue()) / float64(divisor.MilliValue())))
	return strconv.FormatInt(v, 10), nil
}

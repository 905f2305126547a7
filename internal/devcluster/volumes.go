package devcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// Volumes become folders: StateDir/pods/<ns>/<pod>/volumes/<name> for
// emptyDir, configMap, secret, downwardAPI and projected volumes (the last
// four written atomically and kept current), StateDir/pvcs/<ns>/<claim> for
// a persistentVolumeClaim (so it outlives the pod, as a connector's spool
// must), and the path itself for hostPath.

const defaultFileMode = 0o644

// issuedToken is a projected ServiceAccount token and when to replace it.
type issuedToken struct {
	token     string
	refreshAt time.Time
}

// volumePath is the local folder of a volume.
func (w *podWorker) volumePath(v *corev1.Volume) string {
	switch {
	case v.PersistentVolumeClaim != nil:
		return w.r.claimDir(w.namespace, v.PersistentVolumeClaim.ClaimName)
	case v.HostPath != nil:
		return filepath.Clean(v.HostPath.Path)
	}
	return filepath.Join(w.dir, "volumes", v.Name)
}

// contentVolume reports whether the kubelet writes the volume's files (and
// so must keep them current).
func contentVolume(v *corev1.Volume) bool {
	return v.ConfigMap != nil || v.Secret != nil || v.DownwardAPI != nil || v.Projected != nil
}

// setupVolumes creates every volume of the pod.
func (w *podWorker) setupVolumes(ctx context.Context) error {
	pod := w.currentPod()
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		dir := w.volumePath(v)
		switch {
		case v.EmptyDir != nil:
			if err := os.MkdirAll(dir, 0o777); err != nil {
				return fmt.Errorf("volume %s: %w", v.Name, err)
			}
		case v.PersistentVolumeClaim != nil:
			claim := v.PersistentVolumeClaim.ClaimName
			if _, err := w.r.pvcs.PersistentVolumeClaims(w.namespace).Get(claim); err != nil {
				return fmt.Errorf("volume %s: waiting for PersistentVolumeClaim %q: %w", v.Name, claim, err)
			}
			if err := os.MkdirAll(dir, 0o777); err != nil {
				return fmt.Errorf("volume %s: %w", v.Name, err)
			}
		case v.HostPath != nil:
			if err := setupHostPath(v.HostPath); err != nil {
				return fmt.Errorf("volume %s: %w", v.Name, err)
			}
		case contentVolume(v):
			// Written below, by the same code that refreshes them.
		default:
			return fmt.Errorf("volume %s: this volume type is not supported by vigil dev (emptyDir, configMap, secret, downwardAPI, projected, persistentVolumeClaim and hostPath are)", v.Name)
		}
	}
	_, err := w.refreshVolumes(ctx)
	return err
}

func setupHostPath(hp *corev1.HostPathVolumeSource) error {
	typ := corev1.HostPathUnset
	if hp.Type != nil {
		typ = *hp.Type
	}
	switch typ {
	case corev1.HostPathDirectoryOrCreate:
		return os.MkdirAll(hp.Path, 0o755)
	case corev1.HostPathFileOrCreate:
		if err := os.MkdirAll(filepath.Dir(hp.Path), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(hp.Path, os.O_CREATE|os.O_RDONLY, 0o644)
		if err != nil {
			return err
		}
		return f.Close()
	case corev1.HostPathDirectory, corev1.HostPathFile:
		info, err := os.Stat(hp.Path)
		if err != nil {
			return err
		}
		if info.IsDir() != (typ == corev1.HostPathDirectory) {
			return fmt.Errorf("host path %s is not a %s", hp.Path, typ)
		}
	}
	return nil
}

// refreshVolumes rewrites every content volume whose sources changed and
// returns when the next token needs replacing.
func (w *podWorker) refreshVolumes(ctx context.Context) (time.Time, error) {
	pod := w.currentPod()
	next := time.Now().Add(time.Hour)
	var errs []error
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if !contentVolume(v) {
			continue
		}
		files, refreshAt, err := w.volumeFiles(ctx, pod, v)
		if err != nil {
			errs = append(errs, fmt.Errorf("volume %s: %w", v.Name, err))
			continue
		}
		if !refreshAt.IsZero() && refreshAt.Before(next) {
			next = refreshAt
		}
		changed, err := writeAtomicDir(w.volumePath(v), files)
		if err != nil {
			errs = append(errs, fmt.Errorf("volume %s: %w", v.Name, err))
			continue
		}
		if changed {
			w.log.V(1).Info("Updated a volume", "volume", v.Name, "files", len(files))
		}
	}
	return next, errors.Join(errs...)
}

// volumeFiles computes the files of a content volume; refreshAt is when
// one of its tokens must be replaced (zero without tokens).
func (w *podWorker) volumeFiles(ctx context.Context, pod *corev1.Pod, v *corev1.Volume) (map[string]projectedFile, time.Time, error) {
	files := map[string]projectedFile{}
	switch {
	case v.ConfigMap != nil:
		err := w.configMapFiles(files, v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.Optional, fileMode(v.ConfigMap.DefaultMode))
		return files, time.Time{}, err
	case v.Secret != nil:
		err := w.secretFiles(files, v.Secret.SecretName, v.Secret.Items, v.Secret.Optional, fileMode(v.Secret.DefaultMode))
		return files, time.Time{}, err
	case v.DownwardAPI != nil:
		err := w.downwardFiles(files, pod, v.DownwardAPI.Items, fileMode(v.DownwardAPI.DefaultMode))
		return files, time.Time{}, err
	}
	var refreshAt time.Time
	mode := fileMode(v.Projected.DefaultMode)
	for _, src := range v.Projected.Sources {
		var err error
		switch {
		case src.ConfigMap != nil:
			err = w.configMapFiles(files, src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.Optional, mode)
		case src.Secret != nil:
			err = w.secretFiles(files, src.Secret.Name, src.Secret.Items, src.Secret.Optional, mode)
		case src.DownwardAPI != nil:
			err = w.downwardFiles(files, pod, src.DownwardAPI.Items, mode)
		case src.ServiceAccountToken != nil:
			var tok issuedToken
			tok, err = w.token(ctx, pod, src.ServiceAccountToken)
			if err == nil {
				files[src.ServiceAccountToken.Path] = projectedFile{data: []byte(tok.token), mode: mode}
				if refreshAt.IsZero() || tok.refreshAt.Before(refreshAt) {
					refreshAt = tok.refreshAt
				}
			}
		default:
			err = errors.New("this projected source is not supported by vigil dev")
		}
		if err != nil {
			return nil, time.Time{}, err
		}
	}
	return files, refreshAt, nil
}

func fileMode(m *int32) os.FileMode {
	if m == nil {
		return defaultFileMode
	}
	return os.FileMode(*m) & 0o777
}

func itemMode(item corev1.KeyToPath, def os.FileMode) os.FileMode {
	if item.Mode != nil {
		return os.FileMode(*item.Mode) & 0o777
	}
	return def
}

func (w *podWorker) configMapFiles(files map[string]projectedFile, name string, items []corev1.KeyToPath, opt *bool, mode os.FileMode) error {
	cm, err := w.r.configMap.ConfigMaps(w.namespace).Get(name)
	if err != nil {
		if apierrors.IsNotFound(err) && optional(opt) {
			return nil
		}
		return fmt.Errorf("configmap %q: %w", name, err)
	}
	data := make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return keyFiles(files, "configmap", name, data, items, opt, mode)
}

func (w *podWorker) secretFiles(files map[string]projectedFile, name string, items []corev1.KeyToPath, opt *bool, mode os.FileMode) error {
	s, err := w.r.secrets.Secrets(w.namespace).Get(name)
	if err != nil {
		if apierrors.IsNotFound(err) && optional(opt) {
			return nil
		}
		return fmt.Errorf("secret %q: %w", name, err)
	}
	return keyFiles(files, "secret", name, s.Data, items, opt, mode)
}

// keyFiles projects keys to files: all of them, or only the listed items.
func keyFiles(files map[string]projectedFile, kind, name string, data map[string][]byte, items []corev1.KeyToPath, opt *bool, mode os.FileMode) error {
	if len(items) == 0 {
		for k, v := range data {
			files[k] = projectedFile{data: v, mode: mode}
		}
		return nil
	}
	for _, item := range items {
		v, ok := data[item.Key]
		if !ok {
			if optional(opt) {
				continue
			}
			return fmt.Errorf("key %q not found in %s %q", item.Key, kind, name)
		}
		files[path.Clean(item.Path)] = projectedFile{data: v, mode: itemMode(item, mode)}
	}
	return nil
}

func (w *podWorker) downwardFiles(files map[string]projectedFile, pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile, mode os.FileMode) error {
	for _, item := range items {
		var v string
		var err error
		switch {
		case item.FieldRef != nil:
			v, err = w.fieldValue(pod, item.FieldRef.FieldPath)
		case item.ResourceFieldRef != nil:
			c := containerNamed(pod, item.ResourceFieldRef.ContainerName)
			if c == nil {
				return fmt.Errorf("downward API item %s: no container %q", item.Path, item.ResourceFieldRef.ContainerName)
			}
			v, err = resourceValue(c, item.ResourceFieldRef)
		}
		if err != nil {
			return fmt.Errorf("downward API item %s: %w", item.Path, err)
		}
		m := mode
		if item.Mode != nil {
			m = os.FileMode(*item.Mode) & 0o777
		}
		files[path.Clean(item.Path)] = projectedFile{data: []byte(v), mode: m}
	}
	return nil
}

func containerNamed(pod *corev1.Pod, name string) *corev1.Container {
	for _, c := range allContainers(pod) {
		if c.Name == name {
			return &c
		}
	}
	return nil
}

// token returns a projected ServiceAccount token from the TokenRequest API,
// bound to this pod, reusing the last one until 80% of its lifetime has
// passed (the kubelet's rule).
func (w *podWorker) token(ctx context.Context, pod *corev1.Pod, src *corev1.ServiceAccountTokenProjection) (issuedToken, error) {
	expiration := int64(3600)
	if src.ExpirationSeconds != nil {
		expiration = *src.ExpirationSeconds
	}
	key := fmt.Sprintf("%s|%d", src.Audience, expiration)
	w.mu.Lock()
	cached, ok := w.tokens[key]
	w.mu.Unlock()
	if ok && time.Now().Before(cached.refreshAt) {
		return cached, nil
	}
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	req := &authnv1.TokenRequest{
		Spec: authnv1.TokenRequestSpec{
			ExpirationSeconds: ptr.To(expiration),
			BoundObjectRef:    &authnv1.BoundObjectReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID},
		},
	}
	if src.Audience != "" {
		req.Spec.Audiences = []string{src.Audience}
	}
	issued := time.Now()
	resp, err := w.r.cs.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	if err != nil {
		return issuedToken{}, fmt.Errorf("while requesting a token for ServiceAccount %s/%s: %w", pod.Namespace, sa, err)
	}
	lifetime := resp.Status.ExpirationTimestamp.Sub(issued)
	tok := issuedToken{token: resp.Status.Token, refreshAt: issued.Add(lifetime * 8 / 10)}
	w.mu.Lock()
	w.tokens[key] = tok
	w.mu.Unlock()
	w.log.V(1).Info("Issued a projected token", "serviceAccount", sa, "audience", src.Audience, "expires", resp.Status.ExpirationTimestamp.Time)
	return tok, nil
}

// containerMounts maps the container's mount paths to local folders.
func (w *podWorker) containerMounts(pod *corev1.Pod, c *corev1.Container, lookup func(string) (string, bool)) (mountTable, error) {
	vols := map[string]*corev1.Volume{}
	for i := range pod.Spec.Volumes {
		vols[pod.Spec.Volumes[i].Name] = &pod.Spec.Volumes[i]
	}
	m := map[string]string{}
	for _, vm := range c.VolumeMounts {
		v, ok := vols[vm.Name]
		if !ok {
			return mountTable{}, configErrorf("volume mount %q names no volume of the pod", vm.Name)
		}
		local := w.volumePath(v)
		sub := vm.SubPath
		if vm.SubPathExpr != "" {
			sub = expandVars(vm.SubPathExpr, lookup)
		}
		if sub != "" {
			if err := validateProjectedPath(path.Clean(sub)); err != nil || path.IsAbs(sub) {
				return mountTable{}, configErrorf("volume mount %q: invalid subPath %q", vm.Name, sub)
			}
			local = filepath.Join(local, filepath.FromSlash(sub))
			if !contentVolume(v) {
				// The kubelet creates a missing subPath as a directory.
				if _, err := os.Stat(local); errors.Is(err, os.ErrNotExist) {
					if err := os.MkdirAll(local, 0o755); err != nil {
						return mountTable{}, fmt.Errorf("while creating subPath %s: %w", local, err)
					}
				}
			}
		}
		m[vm.MountPath] = local
	}
	return newMountTable(m), nil
}

type volumeSourceKind int

const (
	volumeSourceConfigMap volumeSourceKind = iota
	volumeSourceSecret
)

// sourceHandler refreshes the volumes of the pods that project a ConfigMap
// or Secret when it changes.
func (r *Runner) sourceHandler(kind volumeSourceKind) cache.ResourceEventHandler {
	changed := func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		meta, ok := obj.(metav1.Object)
		if !ok {
			return
		}
		r.mu.Lock()
		var hit []*podWorker
		for _, w := range r.workers {
			if w.namespace == meta.GetNamespace() && w.usesSource(kind, meta.GetName()) {
				hit = append(hit, w)
			}
		}
		r.mu.Unlock()
		for _, w := range hit {
			w.requestRefresh()
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: changed,
		UpdateFunc: func(old, obj any) {
			if o, ok := old.(metav1.Object); ok {
				if n, ok := obj.(metav1.Object); ok && o.GetResourceVersion() == n.GetResourceVersion() {
					return
				}
			}
			changed(obj)
		},
		DeleteFunc: changed,
	}
}

// usesSource reports whether a volume of the pod projects the named
// ConfigMap or Secret.
func (w *podWorker) usesSource(kind volumeSourceKind, name string) bool {
	pod := w.currentPod()
	if pod == nil {
		return false
	}
	for _, v := range pod.Spec.Volumes {
		switch {
		case kind == volumeSourceConfigMap && v.ConfigMap != nil && v.ConfigMap.Name == name,
			kind == volumeSourceSecret && v.Secret != nil && v.Secret.SecretName == name:
			return true
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				if kind == volumeSourceConfigMap && s.ConfigMap != nil && s.ConfigMap.Name == name ||
					kind == volumeSourceSecret && s.Secret != nil && s.Secret.Name == name {
					return true
				}
			}
		}
	}
	return false
}

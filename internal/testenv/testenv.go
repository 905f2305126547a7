// Package testenv starts the envtest control plane (a real kube-apiserver and
// etcd, built from Go modules by hack/setup-envtest.sh) with Vigil's CRDs
// installed, for the controller and API tests.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	"github.com/vigil-operator/vigil/internal/scheme"
)

// K8sVersion is the version hack/setup-envtest.sh builds by default.
const K8sVersion = "1.37.2"

// RepoRoot is the repository's top directory, found from this file's path.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// AssetsDir returns the directory holding kube-apiserver and etcd: the
// KUBEBUILDER_ASSETS variable when set, else the setup script's cache.
func AssetsDir() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		cache := os.Getenv("VIGIL_CACHE")
		if cache == "" {
			base, err := os.UserCacheDir()
			if err != nil {
				return "", fmt.Errorf("while locating the cache directory: %w", err)
			}
			cache = filepath.Join(base, "vigil")
		}
		dir = filepath.Join(cache, "envtest", K8sVersion)
	}
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return "", fmt.Errorf("envtest binary %s is missing from %s: run hack/setup-envtest.sh (or `make envtest`) first", bin, dir)
		}
	}
	return dir, nil
}

// Env is a started control plane.
type Env struct {
	env    *envtest.Environment
	Config *rest.Config
	Client client.Client
}

// Start starts kube-apiserver and etcd with the CRDs from config/crd/bases.
func Start() (*Env, error) {
	assets, err := AssetsDir()
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		// Start can fail after the control plane is up (a CRD that does not
		// install); stop it so no apiserver or etcd outlives the test.
		_ = env.Stop()
		return nil, fmt.Errorf("while starting envtest from %s: %w", assets, err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("while creating the client: %w", err)
	}
	return &Env{env: env, Config: cfg, Client: c}, nil
}

// Stop stops the control plane.
func (e *Env) Stop() error { return e.env.Stop() }

// GroupVersionResource of a Vigil kind, for dynamic clients.
func GroupVersionResource(resource string) schema.GroupVersionResource {
	return v1alpha1.GroupVersion.WithResource(resource)
}

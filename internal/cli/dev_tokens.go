package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// devTokenLifetime is how long each token vigil dev requests lives; they are
// renewed at half-life.
const devTokenLifetime = time.Hour

// devTokens keeps ServiceAccount token files fresh for the in-process
// manager and archive, as the kubelet does for projected token volumes.
type devTokens struct {
	admin *rest.Config
	dir   string
	log   logr.Logger

	mu    sync.Mutex
	files map[string]tokenFile
}

type tokenFile struct {
	namespace, serviceAccount, audience string
}

func newDevTokens(admin *rest.Config, dir string, log logr.Logger) *devTokens {
	return &devTokens{admin: admin, dir: dir, log: log, files: map[string]tokenFile{}}
}

// file requests a token for a ServiceAccount of the system namespace (for
// the API server when audience is empty), writes it and returns its path.
func (t *devTokens) file(ctx context.Context, serviceAccount, audience string) (string, error) {
	name := serviceAccount
	if audience != "" {
		name += "-" + strings.ReplaceAll(audience, "/", "_")
	}
	path := filepath.Join(t.dir, name)
	tf := tokenFile{namespace: devSystemNamespace, serviceAccount: serviceAccount, audience: audience}
	if err := t.write(ctx, path, tf); err != nil {
		return "", err
	}
	t.mu.Lock()
	t.files[path] = tf
	t.mu.Unlock()
	return path, nil
}

func (t *devTokens) write(ctx context.Context, path string, tf tokenFile) error {
	cs, err := kubernetes.NewForConfig(t.admin)
	if err != nil {
		return err
	}
	req := &authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: new(int64(devTokenLifetime / time.Second))}}
	if tf.audience != "" {
		req.Spec.Audiences = []string{tf.audience}
	}
	tr, err := cs.CoreV1().ServiceAccounts(tf.namespace).CreateToken(ctx, tf.serviceAccount, req, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("while requesting a token for %s/%s: %w", tf.namespace, tf.serviceAccount, err)
	}
	if err := os.MkdirAll(t.dir, 0o700); err != nil {
		return err
	}
	// Write then rename, so a reader never sees half a token.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(tr.Status.Token), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// refresh renews every token at half its lifetime until ctx ends.
func (t *devTokens) refresh(ctx context.Context) error {
	tick := time.NewTicker(devTokenLifetime / 2)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		t.mu.Lock()
		files := make(map[string]tokenFile, len(t.files))
		for k, v := range t.files {
			files[k] = v
		}
		t.mu.Unlock()
		for path, tf := range files {
			if err := t.write(ctx, path, tf); err != nil {
				t.log.Error(err, "Renewing a token; retrying at the next tick", "serviceAccount", tf.serviceAccount)
			}
		}
	}
}

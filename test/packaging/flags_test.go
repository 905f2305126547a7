package packaging

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-operator/vigil/internal/testenv"
)

var (
	vigilOnce sync.Once
	vigilPath string
	vigilErr  error
	// vigilDir holds the binary built for the flag checks; TestMain removes it.
	vigilDir string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if vigilDir != "" {
		_ = os.RemoveAll(vigilDir)
	}
	os.Exit(code)
}

// vigilBinary builds ./cmd once per test run.
func vigilBinary(t *testing.T) string {
	t.Helper()
	vigilOnce.Do(func() {
		vigilDir, vigilErr = os.MkdirTemp("", "vigil-packaging-")
		if vigilErr != nil {
			return
		}
		vigilPath = filepath.Join(vigilDir, "vigil")
		cmd := exec.Command("go", "build", "-o", vigilPath, "./cmd")
		cmd.Dir = testenv.RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			vigilErr = errors.Join(err, errors.New(string(out)))
		}
	})
	if vigilErr != nil {
		t.Fatalf("building vigil: %v", vigilErr)
	}
	return vigilPath
}

// checkFlagsParse runs the real vigil binary with the arguments of every
// container of the installation, without a cluster to talk to. Each must get
// past flag parsing and fail only for want of a Kubernetes configuration: a
// flag the binary does not know, or a value it cannot parse, fails the test.
func checkFlagsParse(t *testing.T, in install) {
	t.Helper()
	bin := vigilBinary(t)
	for _, p := range in.podTemplates() {
		for _, c := range p.spec.Containers {
			home := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			cmd := exec.CommandContext(ctx, bin, c.Args...)
			cmd.Dir = home
			// No kubeconfig and no in-cluster service account: the command
			// stops right after parsing its flags.
			cmd.Env = []string{"HOME=" + home, "KUBECONFIG=" + filepath.Join(home, "none"), "PATH=" + os.Getenv("PATH")}
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stderr, &stderr
			err := cmd.Run()
			timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
			cancel()
			msg := stderr.String()
			switch {
			case timedOut:
				t.Errorf("%s container %s: vigil %q did not stop without a cluster:\n%s", p.owner, c.Name, c.Args, msg)
			case err == nil:
				t.Errorf("%s container %s: vigil %q succeeded without a cluster", p.owner, c.Name, c.Args)
			case containsAny(msg, "unknown flag", "unknown shorthand flag", "invalid argument", "flag needs an argument", "unknown command"):
				t.Errorf("%s container %s: vigil refuses its arguments %q:\n%s", p.owner, c.Name, c.Args, msg)
			case !strings.Contains(strings.ToLower(msg), "configuration"):
				t.Errorf("%s container %s: vigil %q failed for another reason than the missing Kubernetes configuration:\n%s",
					p.owner, c.Name, c.Args, msg)
			}
		}
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// S3 is a throwaway S3-compatible server: MinIO in single-drive mode, built
// from its Go module by hack/install-s3-server.sh, with its data in a
// temporary directory, on a free loopback port. It supports versioning and
// Object Lock (COMPLIANCE and GOVERNANCE retention, legal holds) and
// enforces them itself, so tests against it see the refusals production
// storage gives.
type S3 struct {
	// Endpoint is host:port, plain HTTP.
	Endpoint  string
	AccessKey string
	SecretKey string
	// Region the server signs for.
	Region string

	cmd     *exec.Cmd
	exited  chan struct{}
	logPath string
}

// s3Build runs the install script at most once per test binary; the script
// itself serialises builds across parallel test binaries.
var s3Build struct {
	once sync.Once
	path string
	err  error
}

// S3ServerBinary returns the MinIO binary, building it on first use. Tests
// never skip for want of it: a fresh machine builds it here (about 15
// minutes on two cores, once) and later runs reuse the cached binary.
func S3ServerBinary() (string, error) {
	s3Build.once.Do(func() {
		script := filepath.Join(RepoRoot(), "hack", "install-s3-server.sh")
		cmd := exec.Command(script)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			s3Build.err = fmt.Errorf("while building the S3 test server with %s: %w\n%s", script, err, stderr.String())
			return
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		s3Build.path = strings.TrimSpace(lines[len(lines)-1])
		if _, err := os.Stat(s3Build.path); err != nil {
			s3Build.err = fmt.Errorf("the S3 server build printed %q, which is not there: %w", s3Build.path, err)
		}
	})
	return s3Build.path, s3Build.err
}

// StartS3 starts a server for one test (or benchmark) with an empty data
// directory and stops it at cleanup. Each call gets its own server, so tests
// may run in parallel and leave locked objects behind without harm: the data
// directory is removed with the test's temporary directory.
func StartS3(tb testing.TB) *S3 {
	tb.Helper()
	bin, err := S3ServerBinary()
	if err != nil {
		tb.Fatal(err)
	}
	// TempDir registers its removal before our Cleanup below, and cleanups
	// run last-in first-out, so the server stops before its files go.
	dir := tb.TempDir()
	var s *S3
	// The free port is only reserved until we close the probe listener; on
	// a busy machine another process can take it, so try a few times.
	for attempt := 1; ; attempt++ {
		s, err = startS3(bin, dir, attempt)
		if err == nil || attempt == 3 {
			break
		}
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Stop(); err != nil {
			tb.Logf("stopping the S3 server: %v", err)
		}
	})
	return s
}

func startS3(bin, dir string, attempt int) (*S3, error) {
	root := filepath.Join(dir, fmt.Sprintf("s3-%d", attempt))
	data, certs := filepath.Join(root, "data"), filepath.Join(root, "certs")
	for _, d := range []string{data, certs} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &S3{
		Endpoint:  fmt.Sprintf("127.0.0.1:%d", port),
		AccessKey: "vigil-test",
		SecretKey: "vigil-test-secret-key",
		Region:    "us-east-1",
		exited:    make(chan struct{}),
		logPath:   filepath.Join(root, "server.log"),
	}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	// --certs-dir keeps MinIO out of $HOME; no console, no update checks.
	s.cmd = exec.Command(bin, "server", "--quiet", "--address", s.Endpoint, "--certs-dir", certs, data)
	s.cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+s.AccessKey,
		"MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_REGION="+s.Region,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
	)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	// Its own process group, so a stop reaches nothing but the server.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() {
		_ = s.cmd.Wait()
		logFile.Close()
		close(s.exited)
	}()
	if err := s.waitReady(60 * time.Second); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls MinIO's readiness endpoint, which answers 200 once the
// drive is formatted and the S3 API serves requests.
func (s *S3) waitReady(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	url := "http://" + s.Endpoint + "/minio/health/ready"
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case <-s.exited:
			return fmt.Errorf("the S3 server exited during startup:\n%s", s.Log())
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("the S3 server on %s was not ready after %s:\n%s", s.Endpoint, timeout, s.Log())
}

// Stop ends the server (SIGTERM, then SIGKILL after ten seconds) and waits
// for it to exit.
func (s *S3) Stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	if err := syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signalling the S3 server: %w", err)
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(10 * time.Second):
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
	return errors.New("the S3 server ignored SIGTERM for 10s and was killed")
}

// Log is the server's output so far, for failure messages.
func (s *S3) Log() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(no server log: %v)", err)
	}
	const max = 8 << 10
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

package devcluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// runProbes runs the container's probes for one process instance until
// ctx ends: the startup probe first (when set), then readiness and liveness
// side by side. Readiness sets the container's ready flag; a failed startup
// or liveness probe asks supervise to restart the process.
func (c *container) runProbes(ctx context.Context) {
	if p := c.spec.StartupProbe; p != nil {
		ok := false
		probeLoop(ctx, p, func(ctx context.Context) error { return c.check(ctx, p) }, func(success bool, err error, failures int) bool {
			if success {
				ok = true
				c.setStarted()
				return true
			}
			if failures >= threshold(p.FailureThreshold, 3) {
				c.requestRestart(fmt.Sprintf("startup probe failed %d times: %v", failures, err))
				return true
			}
			return false
		})
		if !ok {
			return
		}
	}

	var wg sync.WaitGroup
	if p := c.spec.ReadinessProbe; p != nil {
		wg.Go(func() {
			successes := 0
			probeLoop(ctx, p, func(ctx context.Context) error { return c.check(ctx, p) }, func(success bool, err error, failures int) bool {
				if success {
					successes++
					if successes >= threshold(p.SuccessThreshold, 1) {
						c.setReady(true)
					}
					return false
				}
				successes = 0
				if failures >= threshold(p.FailureThreshold, 3) {
					c.setReady(false)
				}
				return false
			})
		})
	} else {
		c.setReady(true)
	}
	if p := c.spec.LivenessProbe; p != nil {
		wg.Go(func() {
			probeLoop(ctx, p, func(ctx context.Context) error { return c.check(ctx, p) }, func(success bool, err error, failures int) bool {
				if !success && failures >= threshold(p.FailureThreshold, 3) {
					c.requestRestart(fmt.Sprintf("liveness probe failed %d times: %v", failures, err))
					return true
				}
				return false
			})
		})
	}
	wg.Wait()
}

func threshold(v int32, def int) int {
	if v <= 0 {
		return def
	}
	return int(v)
}

// probeLoop runs check every period after the initial delay and hands
// each result, with the count of consecutive failures, to result, until
// result returns true or ctx ends.
func probeLoop(ctx context.Context, p *corev1.Probe, check func(context.Context) error, result func(success bool, err error, failures int) bool) {
	period := time.Duration(threshold(p.PeriodSeconds, 10)) * time.Second
	timeout := time.Duration(threshold(p.TimeoutSeconds, 1)) * time.Second
	wait := time.Duration(p.InitialDelaySeconds) * time.Second
	failures := 0
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = period
		cctx, cancel := context.WithTimeout(ctx, timeout)
		err := check(cctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			failures = 0
		} else {
			failures++
		}
		if result(err == nil, err, failures) {
			return
		}
	}
}

// check runs one probe against the container.
func (c *container) check(ctx context.Context, p *corev1.Probe) error {
	return c.runAction(ctx, p.HTTPGet, p.TCPSocket, p.Exec, p.GRPC != nil)
}

// runHandler runs a lifecycle hook (preStop).
func (c *container) runHandler(ctx context.Context, h *corev1.LifecycleHandler) error {
	if h.Sleep != nil {
		t := time.NewTimer(time.Duration(h.Sleep.Seconds) * time.Second)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		return nil
	}
	return c.runAction(ctx, h.HTTPGet, h.TCPSocket, h.Exec, false)
}

var errUnsupportedProbe = errors.New("gRPC probes are not supported by vigil dev")

func (c *container) runAction(ctx context.Context, httpGet *corev1.HTTPGetAction, tcp *corev1.TCPSocketAction, execAction *corev1.ExecAction, grpc bool) error {
	ip := c.w.ip.String()
	switch {
	case httpGet != nil:
		return c.httpCheck(ctx, ip, httpGet)
	case tcp != nil:
		host := tcp.Host
		if host == "" {
			host = ip
		}
		port, err := c.resolvePort(tcp.Port)
		if err != nil {
			return err
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return err
		}
		return conn.Close()
	case execAction != nil:
		return c.execCheck(ctx, execAction.Command)
	case grpc:
		// Not failing it: a pod must not be held unready by a probe this
		// runner cannot perform.
		c.w.log.V(1).Info("Treated an unsupported probe as passing", "container", c.spec.Name, "reason", errUnsupportedProbe.Error())
		return nil
	}
	return nil
}

// probeClient follows the kubelet: no keep-alive between probes, and HTTPS
// without verifying the certificate.
var probeClient = &http.Client{
	Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // probes do not verify, like the kubelet's
		DisableKeepAlives: true,
		Proxy:             nil,
	},
	CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return http.ErrUseLastResponse
		}
		return nil
	},
}

func (c *container) httpCheck(ctx context.Context, ip string, g *corev1.HTTPGetAction) error {
	host := g.Host
	if host == "" {
		host = ip
	}
	port, err := c.resolvePort(g.Port)
	if err != nil {
		return err
	}
	scheme := strings.ToLower(string(g.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	p := g.Path
	if p == "" {
		p = "/"
	}
	u := &url.URL{Scheme: scheme, Host: net.JoinHostPort(host, strconv.Itoa(port))}
	full, err := u.Parse(p)
	if err != nil {
		return fmt.Errorf("invalid probe path %q: %w", p, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, full.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "kube-probe/vigil-dev")
	for _, h := range g.HTTPHeaders {
		if strings.EqualFold(h.Name, "host") {
			req.Host = h.Value
			continue
		}
		req.Header.Add(h.Name, h.Value)
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 10<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("HTTP probe %s answered %d", full, resp.StatusCode)
	}
	return nil
}

// resolvePort turns a probe port (number or container port name) into a
// number.
func (c *container) resolvePort(p intstr.IntOrString) (int, error) {
	if p.Type == intstr.Int {
		return p.IntValue(), nil
	}
	for _, cp := range c.spec.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(p.StrVal); err == nil {
		return n, nil
	}
	return 0, fmt.Errorf("container %s has no port named %q", c.spec.Name, p.StrVal)
}

// execCheck runs a probe or hook command the way the container would: the
// image's entrypoint stands for the local binary, paths in mounts are
// rewritten, and anything else runs from this host's PATH.
func (c *container) execCheck(ctx context.Context, command []string) error {
	if len(command) == 0 {
		return errors.New("empty exec command")
	}
	pod := c.w.currentPod()
	spec, err := c.w.commandFor(ctx, pod, &corev1.Container{
		Name:         c.spec.Name,
		Image:        c.spec.Image,
		Command:      command,
		Env:          c.spec.Env,
		EnvFrom:      c.spec.EnvFrom,
		VolumeMounts: c.spec.VolumeMounts,
		WorkingDir:   c.spec.WorkingDir,
	})
	if err != nil {
		return err
	}
	bin := spec.path
	if len(c.spec.Command) == 0 || command[0] != c.spec.Command[0] {
		// Not the entrypoint: a tool such as cat, from this host.
		pod := c.w.currentPod()
		mounts, merr := c.w.containerMounts(pod, &c.spec, func(string) (string, bool) { return "", false })
		if merr != nil {
			return merr
		}
		bin = mounts.rewriteArg(command[0])
	}
	cmd := exec.CommandContext(ctx, bin, spec.args...)
	cmd.Env = spec.env
	cmd.Dir = spec.dir
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	// Kill the whole group when the probe times out.
	cmd.Cancel = func() error { return signalGroup(cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	if err := startChild(cmd); err != nil {
		return err
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("exec %s: %w: %s", strings.Join(command, " "), err, strings.TrimSpace(string(limitBytes(out.Bytes(), 512))))
	}
	return nil
}

func limitBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

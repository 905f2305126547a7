package devcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type containerKind int

const (
	containerRegular containerKind = iota
	containerInit
	containerSidecar // an init container with restartPolicy Always
)

// Waiting reasons, as the kubelet reports them where one applies.
const (
	reasonContainerCreating = "ContainerCreating"
	reasonPodInitializing   = "PodInitializing"
	reasonCrashLoopBackOff  = "CrashLoopBackOff"
	reasonConfigError       = "CreateContainerConfigError"
	reasonImageNotRunnable  = "ImageNotRunnable" // vigil dev has no binary for the image
	reasonRunError          = "RunContainerError"
)

// errImage marks a container whose image has no local binary.
var errImage = errors.New("no local binary for the image")

// container supervises the processes of one container of a pod: one at a
// time, restarted with backoff per the restart policy.
type container struct {
	w         *podWorker
	spec      corev1.Container
	kind      containerKind
	policy    corev1.RestartPolicy
	restartCh chan string   // a failed liveness or startup probe asks for a restart
	stopCh    chan struct{} // closed to stop this container alone (sidecars)
	stopOnce  func()

	// Guarded by w.mu.
	state        corev1.ContainerState
	lastState    corev1.ContainerState
	restartCount int32
	everRan      bool
	ready        bool
	started      bool
	containerID  string
	imageID      string
	stopGrace    time.Duration
}

func newContainer(w *podWorker, spec corev1.Container, kind containerKind, policy corev1.RestartPolicy, prev corev1.ContainerStatus) *container {
	c := &container{
		w:            w,
		spec:         spec,
		kind:         kind,
		policy:       policy,
		restartCh:    make(chan string, 1),
		stopCh:       make(chan struct{}),
		restartCount: prev.RestartCount,
		// A container that ran before vigil dev restarted counts its next
		// start as a restart, as the kubelet does after a node reboot.
		everRan:   prev.ContainerID != "",
		lastState: prev.LastTerminationState,
	}
	var once bool
	c.stopOnce = func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if !once {
			once = true
			close(c.stopCh)
		}
	}
	if bin, ok := w.r.binaryFor(spec.Image); ok {
		c.imageID = "vigil-dev://" + bin
	}
	return c
}

// stop ends this container alone (used for sidecars).
func (c *container) stop(grace time.Duration) {
	c.w.mu.Lock()
	c.stopGrace = grace
	c.w.mu.Unlock()
	c.stopOnce()
}

func (c *container) stopping() bool {
	select {
	case <-c.stopCh:
		return true
	case <-c.w.terminateCh:
		return true
	default:
		return false
	}
}

// sleep waits for d unless the container must stop.
func (c *container) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.stopCh:
		return false
	case <-c.w.terminateCh:
		return false
	}
}

// waitStarted blocks until the container started (its startup probe, if
// any, passed) or the pod stops.
func (c *container) waitStarted(stop <-chan struct{}) bool {
	for {
		c.w.mu.Lock()
		started := c.started
		c.w.mu.Unlock()
		if started {
			return true
		}
		select {
		case <-stop:
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// process is one running instance of a container.
type process struct {
	cmd    *exec.Cmd
	pid    int
	exited chan struct{}
	err    error
}

// supervise runs the container until it finishes for good under its
// restart policy (finished=true, with the last exit code) or it must stop
// (finished=false).
func (c *container) supervise(ctx context.Context) (code int32, finished bool) {
	log := c.w.log.WithValues("container", c.spec.Name)
	backoff := time.Second
	maxBackoff := c.w.r.opts.MaxRestartBackoff
	lastStartErr := ""
	for {
		if c.stopping() {
			return 0, false
		}
		p, err := c.start(ctx)
		if err != nil {
			reason := reasonRunError
			switch {
			case errors.Is(err, errImage):
				reason = reasonImageNotRunnable
			case errors.Is(err, errConfig):
				reason = reasonConfigError
			}
			// Said once at Info; the same error on every retry is noise.
			if msg := err.Error(); msg != lastStartErr {
				log.Info("Could not start the container", "reason", reason, "error", msg)
				lastStartErr = msg
			} else {
				log.V(1).Info("Could not start the container", "reason", reason, "error", msg)
			}
			c.setWaiting(reason, err.Error())
			if !c.sleep(backoff) {
				return 0, false
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		lastStartErr = ""
		began := time.Now()
		log.Info("Started the container", "pid", p.pid, "restartCount", c.restartCountNow())

		probeCtx, stopProbes := context.WithCancel(ctx)
		probesDone := make(chan struct{})
		go func() {
			defer close(probesDone)
			c.runProbes(probeCtx)
		}()

		livenessKill := false
		select {
		case <-p.exited:
		case <-c.w.terminateCh:
			c.terminateProcess(p, c.w.stopGrace())
		case <-c.stopCh:
			c.terminateProcess(p, c.ownStopGrace())
		case why := <-c.restartCh:
			livenessKill = true
			log.Info("Restarting the container", "reason", why)
			c.terminateProcess(p, c.probeGrace())
		}
		stopProbes()
		<-probesDone

		exitCode, reason := exitStatus(p)
		c.setTerminated(exitCode, reason, began, p)
		log.Info("The container exited", "exitCode", exitCode, "ranFor", time.Since(began).Round(time.Millisecond).String())
		if c.stopping() {
			return exitCode, false
		}
		restart := c.policy == corev1.RestartPolicyAlways ||
			(c.policy == corev1.RestartPolicyOnFailure && (exitCode != 0 || livenessKill))
		if !restart {
			return exitCode, true
		}
		// A container that ran well for a while starts over with a short
		// delay, as after the kubelet's backoff reset.
		if time.Since(began) > 2*maxBackoff {
			backoff = time.Second
		}
		c.setWaiting(reasonCrashLoopBackOff, fmt.Sprintf("back-off %s restarting failed container=%s pod=%s", backoff, c.spec.Name, c.w.key))
		if !c.sleep(backoff) {
			return exitCode, false
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// start launches one instance of the container.
func (c *container) start(ctx context.Context) (*process, error) {
	// A probe failure of the previous instance must not restart this one.
	select {
	case <-c.restartCh:
	default:
	}
	pod := c.w.currentPod()
	spec, err := c.w.commandFor(ctx, pod, &c.spec)
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(c.w.dir, c.spec.Name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("while opening the container log: %w", err)
	}
	defer func() { _ = logFile.Close() }()
	fmt.Fprintf(logFile, "==== vigil dev: starting container %s of pod %s (uid %s) at %s\n",
		c.spec.Name, c.w.key, c.w.uid, time.Now().Format(time.RFC3339))
	cmd := exec.Command(spec.path, spec.args...)
	cmd.Env = spec.env
	cmd.Dir = spec.dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := startChild(cmd); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, pid: cmd.Process.Pid, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()

	now := metav1.Now().Rfc3339Copy()
	c.w.mu.Lock()
	if c.everRan {
		c.restartCount++
	}
	c.everRan = true
	c.containerID = "vigil-dev://" + strconv.Itoa(p.pid)
	c.state = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}
	c.started = c.spec.StartupProbe == nil
	c.ready = false
	c.w.mu.Unlock()
	c.w.notify()
	return p, nil
}

// terminateProcess runs the preStop hook, then SIGTERMs the process group
// and SIGKILLs it when grace runs out.
func (c *container) terminateProcess(p *process, grace time.Duration) {
	deadline := time.Now().Add(grace)
	if h := c.spec.Lifecycle; h != nil && h.PreStop != nil {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		if err := c.runHandler(ctx, h.PreStop); err != nil {
			c.w.log.Info("The preStop hook failed", "container", c.spec.Name, "error", err.Error())
		}
		cancel()
	}
	if killed := stopGroup(p.pid, p.exited, max(time.Until(deadline), 0)); killed {
		c.w.log.Info("Killed a container that outlived its grace period", "container", c.spec.Name, "gracePeriod", grace.String())
	}
}

func (c *container) ownStopGrace() time.Duration {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	return c.stopGrace
}

// probeGrace is the grace period of a restart after a failed probe: the
// probe's own, else the pod's.
func (c *container) probeGrace() time.Duration {
	for _, p := range []*corev1.Probe{c.spec.LivenessProbe, c.spec.StartupProbe} {
		if p != nil && p.TerminationGracePeriodSeconds != nil {
			return time.Duration(*p.TerminationGracePeriodSeconds) * time.Second
		}
	}
	return c.w.gracePeriod()
}

func (c *container) restartCountNow() int32 {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	return c.restartCount
}

func (c *container) setWaiting(reason, msg string) {
	c.w.mu.Lock()
	c.state = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}
	c.ready = false
	c.w.mu.Unlock()
	c.w.notify()
}

func (c *container) setTerminated(code int32, reason string, began time.Time, p *process) {
	t := &corev1.ContainerStateTerminated{
		ExitCode:    code,
		Reason:      reason,
		StartedAt:   metav1.NewTime(began).Rfc3339Copy(),
		FinishedAt:  metav1.Now().Rfc3339Copy(),
		ContainerID: "vigil-dev://" + strconv.Itoa(p.pid),
	}
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Signal = int32(ws.Signal())
	}
	c.w.mu.Lock()
	c.state = corev1.ContainerState{Terminated: t}
	c.lastState = corev1.ContainerState{Terminated: t.DeepCopy()}
	c.ready = false
	c.w.mu.Unlock()
	c.w.notify()
}

// exitStatus is the container's exit code as a runtime reports it: the
// process's, or 128+signal when a signal ended it.
func exitStatus(p *process) (int32, string) {
	st := p.cmd.ProcessState
	if st == nil {
		return 128, "Error"
	}
	code := int32(st.ExitCode())
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int32(ws.Signal())
	}
	if code == 0 {
		return 0, "Completed"
	}
	return code, "Error"
}

func (c *container) setReady(ready bool) {
	c.w.mu.Lock()
	changed := c.ready != ready && c.state.Running != nil
	if changed {
		c.ready = ready
	}
	c.w.mu.Unlock()
	if changed {
		c.w.log.V(1).Info("Container readiness changed", "container", c.spec.Name, "ready", ready)
		c.w.notify()
	}
}

func (c *container) setStarted() {
	c.w.mu.Lock()
	changed := !c.started && c.state.Running != nil
	c.started = c.started || c.state.Running != nil
	c.w.mu.Unlock()
	if changed {
		c.w.notify()
	}
}

// requestRestart asks supervise to restart the running process.
func (c *container) requestRestart(why string) {
	select {
	case c.restartCh <- why:
	default:
	}
}

package devcluster

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// podWorker runs one incarnation (UID) of a pod: it prepares the pod's
// folder and volumes, runs init containers in order and then the containers,
// and stops them all when told to. Its state is read by the runner to write
// the pod's status.
type podWorker struct {
	r         *Runner
	log       logr.Logger
	key       string
	namespace string
	name      string
	uid       types.UID
	dir       string

	refresh     chan struct{} // a volume source changed
	terminateCh chan struct{} // closed when the pod must stop
	done        chan struct{} // closed when every process has exited
	stopOnce    sync.Once

	mu           sync.Mutex
	pod          *corev1.Pod
	ip           netip.Addr
	startTime    time.Time
	sandboxReady bool   // folder, IP and volumes are in place
	sandboxMsg   string // why they are not, yet
	initDone     bool
	inits        []*container
	containers   []*container
	terminal     corev1.PodPhase // Succeeded or Failed once nothing will run again
	grace        time.Duration   // of the termination in progress
	stopReason   string
	tokens       map[string]issuedToken
}

func (r *Runner) newPodWorker(pod *corev1.Pod) (*podWorker, error) {
	w := &podWorker{
		r:           r,
		log:         r.log.WithValues("pod", pod.Namespace+"/"+pod.Name),
		key:         pod.Namespace + "/" + pod.Name,
		namespace:   pod.Namespace,
		name:        pod.Name,
		uid:         pod.UID,
		dir:         r.podDir(pod.Namespace, pod.Name),
		refresh:     make(chan struct{}, 1),
		terminateCh: make(chan struct{}),
		done:        make(chan struct{}),
		pod:         pod,
		startTime:   time.Now(),
		tokens:      map[string]issuedToken{},
	}
	if pod.Status.StartTime != nil {
		w.startTime = pod.Status.StartTime.Time
	}
	if pod.Spec.HostNetwork {
		w.ip = netip.MustParseAddr(hostIP)
	} else {
		// A pod keeps its address when vigil dev restarts.
		prefer, _ := netip.ParseAddr(pod.Status.PodIP)
		ip, err := r.ips.allocate(pod.UID, prefer)
		if err != nil {
			return nil, fmt.Errorf("while allocating an IP for pod %s: %w", w.key, err)
		}
		w.ip = ip
	}
	previous := map[string]corev1.ContainerStatus{}
	for _, s := range append(append([]corev1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
		previous[s.Name] = s
	}
	policy := pod.Spec.RestartPolicy
	for i := range pod.Spec.InitContainers {
		spec := pod.Spec.InitContainers[i]
		kind, p := containerInit, corev1.RestartPolicyOnFailure
		if policy == corev1.RestartPolicyNever {
			p = corev1.RestartPolicyNever
		}
		if spec.RestartPolicy != nil && *spec.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			kind, p = containerSidecar, corev1.RestartPolicyAlways
		}
		w.inits = append(w.inits, newContainer(w, spec, kind, p, previous[spec.Name]))
	}
	for i := range pod.Spec.Containers {
		spec := pod.Spec.Containers[i]
		p := policy
		if p == "" {
			p = corev1.RestartPolicyAlways
		}
		w.containers = append(w.containers, newContainer(w, spec, containerRegular, p, previous[spec.Name]))
	}
	return w, nil
}

func (w *podWorker) notify() { w.r.queue.Add(w.key) }

func (w *podWorker) setPod(pod *corev1.Pod) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pod = pod
}

func (w *podWorker) currentPod() *corev1.Pod {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod
}

func (w *podWorker) podIP() netip.Addr {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pod != nil && w.pod.Spec.HostNetwork {
		return netip.Addr{} // not ours to release
	}
	return w.ip
}

func (w *podWorker) isDone() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

func (w *podWorker) terminating() bool {
	select {
	case <-w.terminateCh:
		return true
	default:
		return false
	}
}

// terminate asks every container to stop within grace. Only the first call
// counts.
func (w *podWorker) terminate(grace time.Duration, reason string) {
	w.stopOnce.Do(func() {
		w.mu.Lock()
		w.grace = grace
		w.stopReason = reason
		w.mu.Unlock()
		w.log.Info("Stopping the pod", "reason", reason, "gracePeriod", grace.String())
		close(w.terminateCh)
	})
}

func (w *podWorker) gracePeriod() time.Duration {
	pod := w.currentPod()
	if pod == nil {
		return 30 * time.Second
	}
	return specGracePeriod(pod)
}

func specGracePeriod(pod *corev1.Pod) time.Duration {
	if s := pod.Spec.TerminationGracePeriodSeconds; s != nil {
		return time.Duration(*s) * time.Second
	}
	return corev1.DefaultTerminationGracePeriodSeconds * time.Second
}

func deletionGracePeriod(pod *corev1.Pod) time.Duration {
	if s := pod.DeletionGracePeriodSeconds; s != nil {
		return time.Duration(*s) * time.Second
	}
	return specGracePeriod(pod)
}

func (w *podWorker) stopGrace() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.grace
}

// sleep waits for d unless the pod is stopping; it reports whether it slept.
func (w *podWorker) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-w.terminateCh:
		return false
	}
}

func (w *podWorker) requestRefresh() {
	select {
	case w.refresh <- struct{}{}:
	default:
	}
}

// run is the pod's life, from folders to the last process exit.
func (w *podWorker) run() {
	defer w.notify()
	defer close(w.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-w.terminateCh:
			cancel()
		case <-ctx.Done():
		}
	}()

	w.log.Info("Starting the pod", "ip", w.ip.String())
	if !w.prepare(ctx) {
		return
	}
	refresherDone := make(chan struct{})
	go func() {
		defer close(refresherDone)
		w.refreshLoop(ctx)
	}()
	defer func() { cancel(); <-refresherDone }()

	var sidecars sync.WaitGroup
	for _, c := range w.inits {
		if c.kind == containerSidecar {
			sidecars.Go(func() { c.supervise(ctx) })
			if !c.waitStarted(w.terminateCh) {
				sidecars.Wait()
				return
			}
			continue
		}
		code, finished := c.supervise(ctx)
		if !finished {
			sidecars.Wait()
			return // stopping
		}
		if code != 0 {
			// Only a pod with restartPolicy Never gets here with a failure.
			w.finish(corev1.PodFailed)
			w.stopSidecars()
			sidecars.Wait()
			return
		}
	}
	w.mu.Lock()
	w.initDone = true
	w.mu.Unlock()
	w.notify()

	var main sync.WaitGroup
	codes := make([]int32, len(w.containers))
	for i, c := range w.containers {
		main.Go(func() { codes[i], _ = c.supervise(ctx) })
	}
	main.Wait()
	if w.terminating() {
		sidecars.Wait()
		return
	}
	// Every container finished for good (restartPolicy Never or OnFailure).
	phase := corev1.PodSucceeded
	for _, code := range codes {
		if code != 0 {
			phase = corev1.PodFailed
		}
	}
	w.finish(phase)
	w.stopSidecars()
	sidecars.Wait()
}

// finish records the terminal phase.
func (w *podWorker) finish(phase corev1.PodPhase) {
	w.mu.Lock()
	w.terminal = phase
	w.mu.Unlock()
	w.log.Info("The pod finished", "phase", phase)
	w.notify()
}

// stopSidecars ends sidecar containers once the main containers are done,
// as the kubelet does; they are told to stop like on deletion.
func (w *podWorker) stopSidecars() {
	for _, c := range w.inits {
		if c.kind == containerSidecar {
			c.stop(w.gracePeriod())
		}
	}
}

// prepare creates the pod's folder and volumes, retrying until they are in
// place or the pod stops. It reports whether the pod may start containers.
func (w *podWorker) prepare(ctx context.Context) bool {
	if err := os.MkdirAll(filepath.Join(w.dir, "volumes"), 0o755); err != nil {
		w.setSandbox(false, fmt.Sprintf("cannot create the pod folder: %v", err))
	}
	delay := time.Second
	for {
		err := w.setupVolumes(ctx)
		if err == nil {
			w.setSandbox(true, "")
			return true
		}
		if w.terminating() {
			return false
		}
		w.log.V(1).Info("Volumes are not ready", "error", err.Error())
		w.setSandbox(false, err.Error())
		if !w.sleep(delay) {
			return false
		}
		delay = min(2*delay, 10*time.Second)
	}
}

func (w *podWorker) setSandbox(ready bool, msg string) {
	w.mu.Lock()
	changed := w.sandboxReady != ready || w.sandboxMsg != msg
	w.sandboxReady, w.sandboxMsg = ready, msg
	w.mu.Unlock()
	if changed {
		w.notify()
	}
}

// refreshLoop keeps ConfigMap, Secret, downward API and token files
// current: on a change of a source, when a token reaches 80% of its
// lifetime, and once a minute in case an event was missed.
func (w *podWorker) refreshLoop(ctx context.Context) {
	next := time.Now().Add(time.Minute)
	for {
		wait := min(time.Until(next), time.Minute)
		t := time.NewTimer(max(wait, 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-w.refresh:
		case <-t.C:
		}
		t.Stop()
		n, err := w.refreshVolumes(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			w.log.Info("Could not refresh the pod's volumes", "error", err.Error())
			next = time.Now().Add(5 * time.Second)
			continue
		}
		next = n
	}
}

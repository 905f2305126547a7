package devcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
)

// DefaultNodeName is the Node the runner registers.
const DefaultNodeName = "vigil-dev"

// RunnerOptions configure a Runner.
type RunnerOptions struct {
	// Config reaches the API server with rights to register a Node, bind
	// pods, write pod status, read ConfigMaps, Secrets and PVCs, and request
	// ServiceAccount tokens (ControlPlane.Config() does). Required.
	Config *rest.Config
	// StateDir holds pods/<namespace>/<pod>/ (working directory, volumes,
	// <container>.log) and pvcs/<namespace>/<claim>/. Required.
	StateDir string
	// Images maps the image names the runner accepts to the local binary
	// that stands in for each, for example "ghcr.io/vigil-operator/vigil:dev"
	// and "vigil:dev" to bin/vigil. A container's command[0] is replaced by
	// that binary. Pods using any other image are left alone. Required.
	Images map[string]string
	// NodeName of the Node to register; "" means DefaultNodeName.
	NodeName string
	// Logger receives the runner's messages. The zero value discards them.
	Logger logr.Logger
	// PodCIDR is where pod IPs come from; the zero value means
	// DefaultPodCIDR (127.1.0.0/16, loopback on Linux).
	PodCIDR netip.Prefix
	// SchedulerName of the pods to bind; "" means "default-scheduler".
	SchedulerName string
	// MaxRestartBackoff caps the delay before an exited container is
	// restarted; 0 means 10s.
	MaxRestartBackoff time.Duration
	// ShutdownGracePeriod caps each pod's termination grace period when the
	// runner stops; 0 means 10s.
	ShutdownGracePeriod time.Duration
	// Workers is the number of pods synced in parallel; 0 means 4.
	Workers int
}

// Runner plays the kubelet and the scheduler for one Node: it binds the pods
// it can run and runs them as local processes. Create it with NewRunner and
// run it with Start, either directly or as a controller-runtime Runnable
// (mgr.Add(runner)); it does not need leader election.
type Runner struct {
	opts      RunnerOptions
	log       logr.Logger
	cs        kubernetes.Interface
	node      *nodeAgent
	ips       *ipAllocator
	queue     workqueue.TypedRateLimitingInterface[string]
	pods      corelisters.PodLister
	configMap corelisters.ConfigMapLister
	secrets   corelisters.SecretLister
	pvcs      corelisters.PersistentVolumeClaimLister
	apiHost   string
	apiPort   string

	mu      sync.Mutex
	workers map[string]*podWorker // by namespace/name: the pod's current incarnation
	ignored map[types.UID]string  // pods we will not run, with the reason we logged

	started     chan struct{}
	startedOnce sync.Once
}

// NewRunner checks the options and returns a Runner ready to Start.
func NewRunner(opts RunnerOptions) (*Runner, error) {
	if opts.Config == nil || opts.StateDir == "" || len(opts.Images) == 0 {
		return nil, errors.New("devcluster: RunnerOptions.Config, StateDir and Images are required")
	}
	stateDir, err := filepath.Abs(opts.StateDir)
	if err != nil {
		return nil, fmt.Errorf("while resolving the state directory: %w", err)
	}
	opts.StateDir = stateDir
	if opts.NodeName == "" {
		opts.NodeName = DefaultNodeName
	}
	if !opts.PodCIDR.IsValid() {
		opts.PodCIDR = DefaultPodCIDR
	}
	if opts.SchedulerName == "" {
		opts.SchedulerName = corev1.DefaultSchedulerName
	}
	if opts.MaxRestartBackoff <= 0 {
		opts.MaxRestartBackoff = 10 * time.Second
	}
	if opts.ShutdownGracePeriod <= 0 {
		opts.ShutdownGracePeriod = 10 * time.Second
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	images := make(map[string]string, len(opts.Images))
	for image, bin := range opts.Images {
		abs, err := filepath.Abs(bin)
		if err != nil {
			return nil, fmt.Errorf("while resolving the binary of image %s: %w", image, err)
		}
		info, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("while checking the binary of image %s: %w", image, err)
		}
		if info.IsDir() || info.Mode().Perm()&0o111 == 0 {
			return nil, fmt.Errorf("the binary of image %s, %s, is not an executable file", image, abs)
		}
		images[image] = abs
	}
	opts.Images = images
	ips, err := newIPAllocator(opts.PodCIDR)
	if err != nil {
		return nil, err
	}
	cfg := rest.CopyConfig(opts.Config)
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	cfg.UserAgent = "vigil-dev-pod-runner"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("while creating the API client: %w", err)
	}
	host, port := "", ""
	if u, err := url.Parse(cfg.Host); err == nil {
		host, port, _ = net.SplitHostPort(u.Host)
	}
	log := opts.Logger.WithName("pod-runner")
	r := &Runner{
		opts:    opts,
		log:     log,
		cs:      cs,
		ips:     ips,
		apiHost: host,
		apiPort: port,
		workers: map[string]*podWorker{},
		ignored: map[types.UID]string{},
		started: make(chan struct{}),
	}
	r.node = &nodeAgent{cs: cs, name: opts.NodeName, log: log.WithName("node")}
	return r, nil
}

// NodeName is the name of the Node the runner registers.
func (r *Runner) NodeName() string { return r.opts.NodeName }

// Started is closed once the Node is registered and the runner is watching
// pods.
func (r *Runner) Started() <-chan struct{} { return r.started }

// NeedLeaderElection tells a controller-runtime manager to run the runner on
// every replica: it stands in for this machine's kubelet.
func (r *Runner) NeedLeaderElection() bool { return false }

// Start registers the Node, then binds and runs pods until ctx is cancelled.
// It then stops every pod process (SIGTERM, and SIGKILL after the pod's grace
// period capped by ShutdownGracePeriod), marks the Node not ready and returns
// after all processes have exited. Pods stay in the API: the next Start of a
// runner with the same StateDir and NodeName runs them again.
func (r *Runner) Start(ctx context.Context) error {
	if err := checkLoopback(r.opts.PodCIDR); err != nil {
		return err
	}
	if err := r.node.register(ctx, r.opts.PodCIDR); err != nil {
		return err
	}

	r.queue = workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]())
	factory := informers.NewSharedInformerFactory(r.cs, 0)
	podInformer := factory.Core().V1().Pods()
	cmInformer := factory.Core().V1().ConfigMaps()
	secretInformer := factory.Core().V1().Secrets()
	pvcInformer := factory.Core().V1().PersistentVolumeClaims()
	r.pods = podInformer.Lister()
	r.configMap = cmInformer.Lister()
	r.secrets = secretInformer.Lister()
	r.pvcs = pvcInformer.Lister()

	// A periodic resync of pods retries status writes and bindings that
	// failed for reasons no event will report.
	if _, err := podInformer.Informer().AddEventHandlerWithResyncPeriod(cache.ResourceEventHandlerFuncs{
		AddFunc:    r.enqueueObject,
		UpdateFunc: func(_, obj any) { r.enqueueObject(obj) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if pod, ok := obj.(*corev1.Pod); ok {
				r.mu.Lock()
				delete(r.ignored, pod.UID)
				r.mu.Unlock()
			}
			r.enqueueObject(obj)
		},
	}, 30*time.Second); err != nil {
		return fmt.Errorf("while watching pods: %w", err)
	}
	if _, err := cmInformer.Informer().AddEventHandler(r.sourceHandler(volumeSourceConfigMap)); err != nil {
		return fmt.Errorf("while watching ConfigMaps: %w", err)
	}
	if _, err := secretInformer.Informer().AddEventHandler(r.sourceHandler(volumeSourceSecret)); err != nil {
		return fmt.Errorf("while watching Secrets: %w", err)
	}
	if _, err := pvcInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		DeleteFunc: r.pvcDeleted,
	}); err != nil {
		return fmt.Errorf("while watching PersistentVolumeClaims: %w", err)
	}

	informerCtx, stopInformers := context.WithCancel(context.Background())
	factory.Start(informerCtx.Done())
	// Shutdown waits for the informers, so they must be told to stop first.
	defer func() {
		stopInformers()
		factory.Shutdown()
	}()
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("while waiting for the %v cache: %w", typ, context.Cause(ctx))
		}
	}
	r.removeOrphanClaimFolders()

	heartbeatDone := make(chan struct{})
	go func() {
		defer close(heartbeatDone)
		r.node.heartbeat(ctx)
	}()

	var wg sync.WaitGroup
	for range r.opts.Workers {
		wg.Go(func() {
			for r.processNext(ctx) {
			}
		})
	}
	r.startedOnce.Do(func() { close(r.started) })
	r.log.Info("Started the pod runner", "node", r.opts.NodeName, "images", len(r.opts.Images), "podCIDR", r.opts.PodCIDR.String())

	<-ctx.Done()
	r.queue.ShutDown()
	wg.Wait()
	<-heartbeatDone
	r.shutdown()
	return nil
}

func (r *Runner) enqueueObject(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		return
	}
	r.queue.Add(key)
}

func (r *Runner) processNext(ctx context.Context) bool {
	key, quit := r.queue.Get()
	if quit {
		return false
	}
	defer r.queue.Done(key)
	requeue, err := r.sync(ctx, key)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			r.log.V(1).Info("Retrying a pod", "pod", key, "error", err.Error())
		}
		r.queue.AddRateLimited(key)
	case requeue > 0:
		r.queue.Forget(key)
		r.queue.AddAfter(key, requeue)
	default:
		r.queue.Forget(key)
	}
	return true
}

// sync brings one pod name to its desired state: bound, running with an
// up-to-date status, or terminated and deleted. It returns a delay after
// which to look again when progress depends on something no event reports.
func (r *Runner) sync(ctx context.Context, key string) (time.Duration, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return 0, nil
	}
	pod, err := r.pods.Pods(ns).Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		return 0, fmt.Errorf("while reading pod %s: %w", key, err)
	}
	if err != nil {
		pod = nil
	}

	r.mu.Lock()
	w := r.workers[key]
	r.mu.Unlock()

	// A worker whose pod object is gone (force-deleted, or replaced by a
	// new pod of the same name) stops now, and must be gone before a new
	// incarnation may use the pod's folder.
	if w != nil && (pod == nil || pod.UID != w.uid) {
		w.terminate(w.gracePeriod(), "the pod was deleted")
		if !w.isDone() {
			return 250 * time.Millisecond, nil
		}
		r.retire(w)
		w = nil
	}
	if pod == nil {
		return 0, nil
	}
	if pod.Spec.NodeName == "" {
		return r.schedule(ctx, pod)
	}
	if pod.Spec.NodeName != r.opts.NodeName {
		return 0, nil
	}

	if w == nil {
		if pod.DeletionTimestamp != nil || podIsTerminal(pod) {
			// Nothing of it runs here (it finished, or we were down when
			// it was deleted): finish the deletion the kubelet would.
			if pod.DeletionTimestamp != nil {
				r.removePodFolders(pod.Namespace, pod.Name)
				return 0, r.deletePod(ctx, pod)
			}
			return 0, nil
		}
		w, err = r.newPodWorker(pod)
		if err != nil {
			return 0, err
		}
		r.mu.Lock()
		r.workers[key] = w
		r.mu.Unlock()
		go w.run()
	}
	w.setPod(pod)

	if pod.DeletionTimestamp != nil {
		w.terminate(deletionGracePeriod(pod), "the pod is being deleted")
		if !w.isDone() {
			return 0, nil // the worker enqueues the pod when it is done
		}
		r.retire(w)
		return 0, r.deletePod(ctx, pod)
	}
	return 0, r.writeStatus(ctx, pod, w)
}

// retire forgets a finished worker and removes what the pod had on disk,
// except its logs and its claims' folders.
func (r *Runner) retire(w *podWorker) {
	r.mu.Lock()
	if r.workers[w.key] == w {
		delete(r.workers, w.key)
	}
	r.mu.Unlock()
	if ip := w.podIP(); ip.IsValid() {
		r.ips.release(ip)
	}
	r.removePodFolders(w.namespace, w.name)
}

// deletePod finishes a graceful deletion, as the kubelet does once the
// containers are gone: grace period 0, only for this incarnation (UID).
func (r *Runner) deletePod(ctx context.Context, pod *corev1.Pod) error {
	err := r.cs.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](0),
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("while deleting pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	r.log.Info("Deleted a terminated pod", "pod", pod.Namespace+"/"+pod.Name)
	return nil
}

// shutdown stops every pod process in parallel and marks the node and its
// pods not ready, best effort: the API server may already be going away.
func (r *Runner) shutdown() {
	r.mu.Lock()
	workers := make([]*podWorker, 0, len(r.workers))
	for _, w := range r.workers {
		workers = append(workers, w)
	}
	r.mu.Unlock()
	for _, w := range workers {
		grace := min(w.gracePeriod(), r.opts.ShutdownGracePeriod)
		w.terminate(grace, "vigil dev is stopping")
	}
	for _, w := range workers {
		<-w.done
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.node.markNotReady(ctx)
	for _, w := range workers {
		// The cache has stopped; read the pod afresh so the write does not
		// conflict with a version the runner never saw.
		if pod, err := r.cs.CoreV1().Pods(w.namespace).Get(ctx, w.name, metav1.GetOptions{}); err == nil && pod.UID == w.uid {
			if err := r.writeStatus(ctx, pod, w); err != nil {
				r.log.V(1).Info("Could not report a stopped pod", "pod", w.key, "error", err.Error())
			}
		}
	}
	r.log.Info("Stopped the pod runner", "pods", len(workers))
}

func (r *Runner) podDir(ns, name string) string {
	return filepath.Join(r.opts.StateDir, "pods", ns, name)
}

func (r *Runner) claimDir(ns, claim string) string {
	return filepath.Join(r.opts.StateDir, "pvcs", ns, claim)
}

// removePodFolders deletes a pod's folders (volumes, working files) but
// keeps its container logs, which are appended to across incarnations.
func (r *Runner) removePodFolders(ns, name string) {
	dir := r.podDir(ns, name)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				r.log.Info("Could not remove a pod folder", "path", filepath.Join(dir, e.Name()), "error", err.Error())
			}
		}
	}
}

// pvcDeleted removes a claim's folder once the claim is gone: the folder is
// the claim's volume, and a real dynamically provisioned volume goes with it.
func (r *Runner) pvcDeleted(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	pvc, ok := obj.(*corev1.PersistentVolumeClaim)
	if !ok {
		return
	}
	dir := r.claimDir(pvc.Namespace, pvc.Name)
	if _, err := os.Stat(dir); err != nil {
		return
	}
	if err := os.RemoveAll(dir); err != nil {
		r.log.Info("Could not remove a deleted claim's folder", "path", dir, "error", err.Error())
		return
	}
	r.log.Info("Removed the folder of a deleted claim", "claim", pvc.Namespace+"/"+pvc.Name)
}

// removeOrphanClaimFolders drops folders of claims deleted while vigil dev
// was not running (or from an etcd that was discarded).
func (r *Runner) removeOrphanClaimFolders() {
	root := filepath.Join(r.opts.StateDir, "pvcs")
	nss, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, ns := range nss {
		claims, err := os.ReadDir(filepath.Join(root, ns.Name()))
		if err != nil {
			continue
		}
		for _, c := range claims {
			if _, err := r.pvcs.PersistentVolumeClaims(ns.Name()).Get(c.Name()); apierrors.IsNotFound(err) {
				dir := filepath.Join(root, ns.Name(), c.Name())
				r.log.Info("Removed the folder of a claim that no longer exists", "path", dir)
				_ = os.RemoveAll(dir)
			}
		}
	}
}

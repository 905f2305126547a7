package devcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	appsv1 "k8s.io/api/apps/v1"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/vigil-operator/vigil/internal/testenv"
)

const testImage = "vigil-test/podprog:dev"

// assetsDir returns the envtest binaries' directory. Missing binaries fail
// the test: `make test` builds them, so their absence is a broken setup.
func assetsDir(t *testing.T) string {
	t.Helper()
	dir, err := testenv.AssetsDir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "kube-controller-manager")); err != nil {
		t.Fatalf("kube-controller-manager missing from %s: run hack/setup-envtest.sh", dir)
	}
	return dir
}

// eventually polls f until it returns nil or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = f(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %s: %v", what, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// assertNoChildren fails when this test process still has children (of
// the given binary only, when one is given).
func assertNoChildren(t *testing.T, binary ...string) {
	t.Helper()
	eventually(t, 5*time.Second, "no child processes left", func() error {
		children, err := childProcesses()
		if err != nil {
			return err
		}
		var left []procInfo
		for _, c := range children {
			if len(binary) == 0 || c.Exe == resolvedPath(binary[0]) {
				left = append(left, c)
			}
		}
		if len(left) > 0 {
			return fmt.Errorf("children still running: %+v", left)
		}
		return nil
	})
}

func buildPodProg(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "podprog")
	cmd := exec.Command("go", "build", "-o", bin, "./testdata/podprog")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the test program: %v\n%s", err, out)
	}
	return bin
}

func httpGet(url string) (string, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %d %s", url, resp.StatusCode, b)
	}
	return string(b), nil
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func processAlive(pid int) bool {
	// Signal 0 checks existence; a zombie would still count, but the
	// runner reaps its children.
	return syscall.Kill(pid, 0) == nil
}

// dumpLogsOnFailure prints the container and control plane logs of a
// failed test, which its temporary folder would otherwise take away.
func dumpLogsOnFailure(t *testing.T, state string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		logs, _ := filepath.Glob(filepath.Join(state, "pods", "*", "*", "*.log"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			t.Logf("==== %s\n%s", l, limitBytes(b, 8<<10))
		}
	})
}

func TestDevCluster(t *testing.T) {
	assets := assetsDir(t)
	bin := buildPodProg(t)
	state := t.TempDir()
	dumpLogsOnFailure(t, state)
	log := testr.NewWithOptions(t, testr.Options{Verbosity: 1})

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cp, err := Start(ctx, Options{
		StateDir:          state,
		AssetsDir:         assets,
		CRDDirectoryPaths: []string{filepath.Join(testenv.RepoRoot(), "config", "crd", "bases")},
		Logger:            log,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cp.Stop() }()

	// The kubeconfig works on its own, as kubectl would use it.
	kc, err := clientcmd.BuildConfigFromFlags("", cp.KubeconfigPath)
	if err != nil {
		t.Fatalf("loading the kubeconfig: %v", err)
	}
	cs := kubernetes.NewForConfigOrDie(kc)
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Fatalf("using the kubeconfig: %v", err)
	}

	runner, err := NewRunner(RunnerOptions{
		Config:   cp.Config(),
		StateDir: state,
		Images:   map[string]string{testImage: bin},
		Logger:   log,
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stopRunner := context.WithCancel(ctx)
	runnerDone := make(chan error, 1)
	go func() { runnerDone <- runner.Start(runCtx) }()
	defer func() {
		stopRunner()
		<-runnerDone
	}()
	select {
	case <-runner.Started():
	case err := <-runnerDone:
		t.Fatalf("runner stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("runner did not start")
	}

	node, err := cs.CoreV1().Nodes().Get(ctx, DefaultNodeName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("node not registered: %v", err)
	}
	if !nodeReady(node) {
		t.Fatalf("node not ready: %+v", node.Status.Conditions)
	}
	if _, err := cs.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, DefaultNodeName, metav1.GetOptions{}); err != nil {
		t.Fatalf("node lease: %v", err)
	}

	const ns = "devtest"
	mustCreate(t, func() error {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		return err
	})
	mustCreate(t, func() error {
		_, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "app"}}, metav1.CreateOptions{})
		return err
	})
	mustCreate(t, func() error {
		_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "app-config"},
			Data:       map[string]string{"config.txt": "v1"},
		}, metav1.CreateOptions{})
		return err
	})
	mustCreate(t, func() error {
		_, err := cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "app-secret"},
			Data:       map[string][]byte{"password": []byte("s3cret")},
		}, metav1.CreateOptions{})
		return err
	})
	mustCreate(t, func() error {
		_, err := cs.AppsV1().StatefulSets(ns).Create(ctx, testStatefulSet(), metav1.CreateOptions{})
		return err
	})

	// The StatefulSet controller creates the pod and its claim; the runner
	// binds it, runs it and reports it ready.
	var pod *corev1.Pod
	eventually(t, 60*time.Second, "pod app-0 running and ready", func() error {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, "app-0", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if p.Status.Phase != corev1.PodRunning || !podReady(p) {
			return fmt.Errorf("phase %s, conditions %+v, containers %+v", p.Status.Phase, p.Status.Conditions, p.Status.ContainerStatuses)
		}
		pod = p
		return nil
	})
	if pod.Spec.NodeName != DefaultNodeName {
		t.Fatalf("pod bound to %q", pod.Spec.NodeName)
	}
	ip, err := netip.ParseAddr(pod.Status.PodIP)
	if err != nil || !netip.MustParsePrefix("127.1.0.0/16").Contains(ip) {
		t.Fatalf("pod IP %q is not in 127.1.0.0/16", pod.Status.PodIP)
	}
	cs0 := pod.Status.ContainerStatuses[0]
	if !cs0.Ready || cs0.State.Running == nil || cs0.Started == nil || !*cs0.Started || cs0.RestartCount != 0 {
		t.Fatalf("container status: %+v", cs0)
	}
	base := "http://" + ip.String() + ":8080"

	// Files: ConfigMap, Secret (with its mode), token, PVC folder.
	podDir := filepath.Join(state, "pods", ns, "app-0")
	if b, err := os.ReadFile(filepath.Join(podDir, "volumes", "config", "config.txt")); err != nil || string(b) != "v1" {
		t.Fatalf("config file: %q %v", b, err)
	}
	if info, err := os.Stat(filepath.Join(podDir, "volumes", "secret", "password")); err != nil || info.Mode().Perm() != 0o400 {
		t.Fatalf("secret file: %v %v", info, err)
	}
	claimDir := filepath.Join(state, "pvcs", ns, "data-app-0")
	if _, err := os.Stat(filepath.Join(claimDir, "events.log")); err != nil {
		t.Fatalf("PVC folder: %v", err)
	}

	// The process answers on its pod IP with what it was given.
	if got, err := httpGet(base + "/config"); err != nil || got != "v1" {
		t.Fatalf("/config = %q, %v", got, err)
	}
	if got, err := httpGet(base + "/secret"); err != nil || got != "s3cret" {
		t.Fatalf("/secret = %q, %v", got, err)
	}
	if got, err := httpGet(base + "/env?name=POD_NAME"); err != nil || got != "app-0" {
		t.Fatalf("POD_NAME = %q, %v", got, err)
	}
	if got, err := httpGet(base + "/env?name=GREETING"); err != nil || got != "hello app-0 at "+ip.String() {
		t.Fatalf("GREETING = %q, %v", got, err)
	}
	if got, err := httpGet(base + "/env?name=CONFIG_PATH"); err != nil || got != filepath.Join(podDir, "volumes", "config", "config.txt") {
		t.Fatalf("CONFIG_PATH = %q, %v", got, err)
	}
	if got, err := httpGet(base + "/cwd"); err != nil || got != podDir {
		t.Fatalf("working directory = %q, %v", got, err)
	}

	// The projected token is valid for its audience, bound to the pod.
	token, err := httpGet(base + "/token")
	if err != nil {
		t.Fatal(err)
	}
	review, err := cs.AuthenticationV1().TokenReviews().Create(ctx, &authnv1.TokenReview{
		Spec: authnv1.TokenReviewSpec{Token: token, Audiences: []string{"vigil-test"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !review.Status.Authenticated || review.Status.User.Username != "system:serviceaccount:"+ns+":app" {
		t.Fatalf("token review: %+v", review.Status)
	}
	if got := review.Status.User.Extra["authentication.kubernetes.io/pod-name"]; len(got) != 1 || got[0] != "app-0" {
		t.Fatalf("token not bound to the pod: extra %v", review.Status.User.Extra)
	}
	other, err := cs.AuthenticationV1().TokenReviews().Create(ctx, &authnv1.TokenReview{
		Spec: authnv1.TokenReviewSpec{Token: token, Audiences: []string{"someone-else"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if other.Status.Authenticated {
		t.Fatal("the token was accepted for a different audience")
	}

	// A ConfigMap update reaches the file and the process.
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "app-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["config.txt"] = "v2"
	if _, err := cs.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "ConfigMap update reaches the process", func() error {
		got, err := httpGet(base + "/config")
		if err != nil {
			return err
		}
		if got != "v2" {
			return fmt.Errorf("/config = %q", got)
		}
		return nil
	})

	// Killing the process restarts it; the claim's folder survives.
	pid := mustPID(t, base)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitRestarted(ctx, t, cs, ns, 1)
	pid2 := mustPID(t, base)
	if pid2 == pid {
		t.Fatal("the process was not replaced")
	}
	events := readEvents(t, claimDir)
	if strings.Count(events, "start ") != 2 {
		t.Fatalf("events after a restart:\n%s", events)
	}

	// A failing liveness probe restarts it too.
	if _, err := httpGet(base + "/break"); err != nil {
		t.Fatal(err)
	}
	waitRestarted(ctx, t, cs, ns, 2)
	pid3 := mustPID(t, base)
	if !strings.Contains(readEvents(t, claimDir), "sigterm "+strconv.Itoa(pid2)) {
		t.Fatalf("the liveness restart did not SIGTERM the process first:\n%s", readEvents(t, claimDir))
	}

	// A pod of another image is left alone, with a reason.
	mustCreate(t, func() error {
		_, err := cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "foreign"},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:latest"}}},
		}, metav1.CreateOptions{})
		return err
	})
	eventually(t, 15*time.Second, "foreign pod marked unschedulable", func() error {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, "foreign", metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && strings.Contains(c.Message, "nginx:latest") {
				if p.Spec.NodeName != "" {
					return fmt.Errorf("bound to %s", p.Spec.NodeName)
				}
				return nil
			}
		}
		return fmt.Errorf("conditions %+v", p.Status.Conditions)
	})

	// Deleting the StatefulSet deletes the pod (garbage collector), which
	// stops the process with SIGTERM and removes its folders.
	if err := cs.AppsV1().StatefulSets(ns).Delete(ctx, "app", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "pod app-0 deleted", func() error {
		_, err := cs.CoreV1().Pods(ns).Get(ctx, "app-0", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there: %v", err)
	})
	if processAlive(pid3) {
		t.Fatalf("process %d outlived its pod", pid3)
	}
	if !strings.Contains(readEvents(t, claimDir), "sigterm "+strconv.Itoa(pid3)) {
		t.Fatalf("the process was not stopped with SIGTERM:\n%s", readEvents(t, claimDir))
	}
	if _, err := os.Stat(filepath.Join(podDir, "volumes")); !os.IsNotExist(err) {
		t.Fatalf("the pod's volumes outlived it: %v", err)
	}
	if _, err := os.Stat(filepath.Join(podDir, "app.log")); err != nil {
		t.Fatalf("the container log is gone: %v", err)
	}

	// The namespace controller can delete the namespace, claims included,
	// and the claim's folder goes with its claim.
	if err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "namespace deleted", func() error {
		_, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there: %v", err)
	})
	eventually(t, 10*time.Second, "claim folder removed", func() error {
		if _, err := os.Stat(claimDir); !os.IsNotExist(err) {
			return fmt.Errorf("still there: %v", err)
		}
		return nil
	})

	stopRunner()
	if err := <-runnerDone; err != nil {
		t.Fatalf("runner: %v", err)
	}
	runnerDone <- nil // for the deferred wait
	if err := cp.Stop(); err != nil {
		t.Fatalf("stopping the control plane: %v", err)
	}
	assertNoChildren(t)
}

// TestRunnerStopEndsProcesses checks that stopping the runner stops the
// processes of running pods, and a new runner runs them again.
func TestRunnerStopEndsProcesses(t *testing.T) {
	assets := assetsDir(t)
	bin := buildPodProg(t)
	state := t.TempDir()
	dumpLogsOnFailure(t, state)
	log := testr.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cp, err := Start(ctx, Options{StateDir: state, AssetsDir: assets, Logger: log, SkipControllerManager: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cp.Stop() }()
	cs := kubernetes.NewForConfigOrDie(cp.Config())

	start := func() (context.CancelFunc, chan error) {
		r, err := NewRunner(RunnerOptions{Config: cp.Config(), StateDir: state, Images: map[string]string{testImage: bin}, Logger: log, ShutdownGracePeriod: 3 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		rctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- r.Start(rctx) }()
		<-r.Started()
		return stop, done
	}
	stop, done := start()

	// A bare pod (no controller): the runner is its scheduler and kubelet.
	pod := testStatefulSet().Spec.Template
	pod.Name = "bare"
	pod.Spec.ServiceAccountName = "default"
	pod.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	pod.Spec.Containers[0].Args = []string{"--listen=$(POD_IP):8080", "--data=/data"}
	pod.Spec.Containers[0].Env = pod.Spec.Containers[0].Env[:1]
	pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	pod.Spec.Containers[0].ReadinessProbe = nil
	mustCreate(t, func() error {
		_, err := cs.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: pod.ObjectMeta, Spec: pod.Spec}, metav1.CreateOptions{})
		return err
	})
	var ip string
	eventually(t, 30*time.Second, "bare pod running", func() error {
		p, err := cs.CoreV1().Pods("default").Get(ctx, "bare", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !podReady(p) {
			return fmt.Errorf("not ready: %+v", p.Status.ContainerStatuses)
		}
		ip = p.Status.PodIP
		return nil
	})
	pid := mustPID(t, "http://"+ip+":8080")

	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if processAlive(pid) {
		t.Fatalf("process %d outlived the runner", pid)
	}
	assertNoChildren(t, bin)
	p, err := cs.CoreV1().Pods("default").Get(ctx, "bare", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if podReady(p) {
		t.Fatal("the pod is still reported ready after the runner stopped")
	}
	n, err := cs.CoreV1().Nodes().Get(ctx, DefaultNodeName, metav1.GetOptions{})
	if err != nil || nodeReady(n) {
		t.Fatalf("node still ready after the runner stopped: %v", err)
	}

	// A new runner picks the pod up again, with the same IP, counting a restart.
	stop, done = start()
	eventually(t, 30*time.Second, "bare pod running again", func() error {
		p, err := cs.CoreV1().Pods("default").Get(ctx, "bare", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !podReady(p) || p.Status.ContainerStatuses[0].RestartCount != 1 {
			return fmt.Errorf("not ready again: %+v", p.Status.ContainerStatuses)
		}
		if p.Status.PodIP != ip {
			return fmt.Errorf("IP changed from %s to %s", ip, p.Status.PodIP)
		}
		return nil
	})
	if _, err := httpGet("http://" + ip + ":8080/pid"); err != nil {
		t.Fatal(err)
	}
	// Without a controller manager, deletion is the runner's alone: SIGTERM,
	// then the final delete with grace period 0.
	if err := cs.CoreV1().Pods("default").Delete(ctx, "bare", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "bare pod deleted", func() error {
		_, err := cs.CoreV1().Pods("default").Get(ctx, "bare", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there: %v", err)
	})
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := cp.Stop(); err != nil {
		t.Fatal(err)
	}
	assertNoChildren(t)
}

// TestControlPlaneKeepsStateAndReapsStale starts a second control plane on
// the state of a first one that was never stopped (as after a crash of vigil
// dev): the second stops the first's processes and sees its data.
func TestControlPlaneKeepsStateAndReapsStale(t *testing.T) {
	assets := assetsDir(t)
	state := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := Options{StateDir: state, AssetsDir: assets, Logger: testr.New(t), SkipControllerManager: true}
	first, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = first.Stop() }()
	cs := kubernetes.NewForConfigOrDie(first.Config())
	mustCreate(t, func() error {
		_, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "kept"}, Data: map[string]string{"k": "v"},
		}, metav1.CreateOptions{})
		return err
	})
	firstChildren, err := childProcesses()
	if err != nil || len(firstChildren) != 2 {
		t.Fatalf("expected etcd and kube-apiserver as children, got %+v (%v)", firstChildren, err)
	}

	second, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = second.Stop() }()
	for _, c := range firstChildren {
		if processAlive(c.PID) {
			if info, err := readProc(c.PID); err == nil && info.StartTime == c.StartTime && info.PPID == os.Getpid() {
				// Reaped processes stay zombies until envtest waits for them;
				// a zombie has no exe link.
				if info.Exe != "" {
					t.Fatalf("process %d of the first control plane still runs", c.PID)
				}
			}
		}
	}
	cs2 := kubernetes.NewForConfigOrDie(second.Config())
	cm, err := cs2.CoreV1().ConfigMaps("default").Get(ctx, "kept", metav1.GetOptions{})
	if err != nil || cm.Data["k"] != "v" {
		t.Fatalf("state not kept across a restart: %v %v", cm, err)
	}
	_ = first.Stop()
	if err := second.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(state, "run", "processes.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("process table left after a clean stop: %v", err)
	}
	assertNoChildren(t)

	// Fresh discards the data.
	opts.Fresh = true
	third, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = third.Stop() }()
	cs3 := kubernetes.NewForConfigOrDie(third.Config())
	if _, err := cs3.CoreV1().ConfigMaps("default").Get(ctx, "kept", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("Fresh kept the old data: %v", err)
	}
	if err := third.Stop(); err != nil {
		t.Fatal(err)
	}
	assertNoChildren(t)
}

func testStatefulSet() *appsv1.StatefulSet {
	labels := map[string]string{"app": "podprog"}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "app"},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To[int32](1),
			ServiceName: "app",
			Selector:    &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName:            "app",
					AutomountServiceAccountToken:  ptr.To(false),
					TerminationGracePeriodSeconds: ptr.To[int64](5),
					Containers: []corev1.Container{{
						Name:    "app",
						Image:   testImage,
						Command: []string{"/podprog"},
						Args: []string{
							"--listen=$(POD_IP):8080",
							"--config=/etc/app/config.txt",
							"--secret=/etc/secret/password",
							"--token=/var/run/secrets/tokens/token",
							"--data=/data",
						},
						Env: []corev1.EnvVar{
							{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
							{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
							{Name: "GREETING", Value: "hello $(POD_NAME) at $(POD_IP)"},
							{Name: "CONFIG_PATH", Value: "/etc/app/config.txt"},
						},
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromString("http")}},
							PeriodSeconds: 1,
						},
						LivenessProbe: &corev1.Probe{
							ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}},
							PeriodSeconds:    1,
							FailureThreshold: 2,
						},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "config", MountPath: "/etc/app", ReadOnly: true},
							{Name: "secret", MountPath: "/etc/secret", ReadOnly: true},
							{Name: "token", MountPath: "/var/run/secrets/tokens", ReadOnly: true},
							{Name: "tmp", MountPath: "/tmp"},
							{Name: "data", MountPath: "/data"},
						},
					}},
					Volumes: []corev1.Volume{
						{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: "app-config"},
						}}},
						{Name: "secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
							SecretName: "app-secret", DefaultMode: ptr.To[int32](0o400),
						}}},
						{Name: "token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
							Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
								Audience: "vigil-test", ExpirationSeconds: ptr.To[int64](600), Path: "token",
							}}},
						}}},
						{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					},
				},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceStorage: resource.MustParse("10Mi"),
					}},
				},
			}},
		},
	}
}

func mustCreate(t *testing.T, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatal(err)
	}
}

func mustPID(t *testing.T, base string) int {
	t.Helper()
	s, err := httpGet(base + "/pid")
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func readEvents(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "events.log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitRestarted waits for app-0 to report restartCount n and be ready again.
func waitRestarted(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string, n int32) {
	t.Helper()
	eventually(t, 30*time.Second, fmt.Sprintf("restart %d", n), func() error {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, "app-0", metav1.GetOptions{})
		if err != nil {
			return err
		}
		st := p.Status.ContainerStatuses[0]
		if st.RestartCount != n || !podReady(p) {
			return fmt.Errorf("restartCount %d, ready %v, state %+v", st.RestartCount, podReady(p), st.State)
		}
		if st.LastTerminationState.Terminated == nil {
			return errors.New("no last termination state")
		}
		return nil
	})
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

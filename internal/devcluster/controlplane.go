package devcluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// DefaultControllers are the kube-controller-manager controllers vigil dev
// runs: the workload controllers that turn StatefulSets, Deployments and Jobs
// into Pods and PVCs, the garbage collector (owner references), the namespace
// controller (namespace deletion), ServiceAccounts and the root CA ConfigMap,
// EndpointSlices for Services, and the protection controllers without which
// a PVC or PV deletion never finishes. The node lifecycle controller is left
// out on purpose: on a single laptop node, evicting pods when the machine
// sleeps helps nobody.
var DefaultControllers = []string{
	"statefulset-controller",
	"replicaset-controller",
	"deployment-controller",
	"job-controller",
	"cronjob-controller",
	"ttl-after-finished-controller",
	"garbage-collector-controller",
	"namespace-controller",
	"serviceaccount-controller",
	"root-ca-certificate-publisher-controller",
	"endpointslice-controller",
	"persistentvolumeclaim-protection-controller",
	"persistentvolume-protection-controller",
	"pod-garbage-collector-controller",
	"disruption-controller",
	"clusterrole-aggregation-controller",
}

// Options configure a ControlPlane.
type Options struct {
	// StateDir holds everything the control plane writes: etcd/ (the
	// cluster's data, kept across runs unless Fresh), pki/ (certificates,
	// new on every start), logs/, run/ and kubeconfig. Required.
	StateDir string
	// AssetsDir holds the etcd, kube-apiserver and kube-controller-manager
	// binaries (testenv.AssetsDir()). Required.
	AssetsDir string
	// CRDDirectoryPaths are installed (or updated) after the API server is up.
	CRDDirectoryPaths []string
	// Logger receives progress messages. The zero value discards them.
	Logger logr.Logger
	// APIServerPort is the API server's secure port on 127.0.0.1; 0 picks a
	// free one.
	APIServerPort int
	// Controllers are the kube-controller-manager controllers to run;
	// nil means DefaultControllers.
	Controllers []string
	// SkipControllerManager runs etcd and kube-apiserver only.
	SkipControllerManager bool
	// Fresh discards the etcd data of earlier runs before starting.
	Fresh bool
	// StartTimeout bounds the start of each component; 0 means 90s (the
	// first start of kube-apiserver on a busy 2-core machine is slow).
	StartTimeout time.Duration
	// APIServerFlags are extra kube-apiserver flags, name (without "--")
	// to values; they override vigil dev's own.
	APIServerFlags map[string][]string
}

// ControlPlane is a running etcd, kube-apiserver and kube-controller-manager.
type ControlPlane struct {
	opts     Options
	log      logr.Logger
	env      *envtest.Environment
	config   *rest.Config
	procs    processTable
	kcm      *childProcess
	ownPID   int // a process of ours in the process table, to clear only our own
	stopOnce sync.Once
	stopErr  error

	// KubeconfigPath is StateDir/kubeconfig: an admin (system:masters)
	// kubeconfig for kubectl, rewritten on every start.
	KubeconfigPath string
	// CAFile is the PEM file of the CA that signed the API server's
	// serving certificate.
	CAFile string
}

// Start starts etcd, kube-apiserver (with the CRDs installed) and, unless
// Options.SkipControllerManager, kube-controller-manager, and writes the
// admin kubeconfig. On error nothing is left running. Call Stop to shut down.
func Start(ctx context.Context, opts Options) (*ControlPlane, error) {
	if opts.StateDir == "" || opts.AssetsDir == "" {
		return nil, errors.New("devcluster: Options.StateDir and Options.AssetsDir are required")
	}
	stateDir, err := filepath.Abs(opts.StateDir)
	if err != nil {
		return nil, fmt.Errorf("while resolving the state directory: %w", err)
	}
	opts.StateDir = stateDir
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 90 * time.Second
	}
	if opts.Controllers == nil {
		opts.Controllers = DefaultControllers
	}
	cp := &ControlPlane{
		opts:           opts,
		log:            opts.Logger.WithName("controlplane"),
		procs:          processTable{path: filepath.Join(stateDir, "run", "processes.json")},
		KubeconfigPath: filepath.Join(stateDir, "kubeconfig"),
		CAFile:         filepath.Join(stateDir, "pki", "ca.crt"),
	}
	if err := cp.start(ctx); err != nil {
		_ = cp.Stop()
		return nil, err
	}
	return cp, nil
}

func (cp *ControlPlane) binary(name string) (string, error) {
	path := filepath.Join(cp.opts.AssetsDir, name)
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%s is missing from %s: run hack/setup-envtest.sh (or `make envtest`) first: %w", name, cp.opts.AssetsDir, err)
	}
	return path, nil
}

func (cp *ControlPlane) start(ctx context.Context) error {
	dir := cp.opts.StateDir
	etcdBin, err := cp.binary("etcd")
	if err != nil {
		return err
	}
	apiserverBin, err := cp.binary("kube-apiserver")
	if err != nil {
		return err
	}
	for _, d := range []string{"logs", "run"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fmt.Errorf("while creating %s: %w", d, err)
		}
	}
	if err := cp.procs.reap(cp.log); err != nil {
		return err
	}

	etcdDir := filepath.Join(dir, "etcd")
	if cp.opts.Fresh {
		if err := os.RemoveAll(etcdDir); err != nil {
			return fmt.Errorf("while discarding the old etcd data: %w", err)
		}
	}
	if err := os.MkdirAll(etcdDir, 0o700); err != nil {
		return fmt.Errorf("while creating the etcd data directory: %w", err)
	}
	// envtest only generates certificates into an empty directory, and its
	// client CA is new on every start, so the PKI is rebuilt each run; the
	// cluster state in etcd does not depend on it.
	pkiDir := filepath.Join(dir, "pki")
	if err := os.RemoveAll(pkiDir); err != nil {
		return fmt.Errorf("while clearing the old certificates: %w", err)
	}
	apiserverDir := filepath.Join(pkiDir, "apiserver")
	if err := os.MkdirAll(apiserverDir, 0o700); err != nil {
		return fmt.Errorf("while creating the certificate directory: %w", err)
	}

	etcdLog, err := openLog(filepath.Join(dir, "logs", "etcd.log"))
	if err != nil {
		return err
	}
	defer func() { _ = etcdLog.Close() }()
	apiserverLog, err := openLog(filepath.Join(dir, "logs", "kube-apiserver.log"))
	if err != nil {
		return err
	}
	defer func() { _ = apiserverLog.Close() }()

	apiserver := &envtest.APIServer{
		Path:    apiserverBin,
		CertDir: apiserverDir,
		Out:     apiserverLog,
		Err:     apiserverLog,
	}
	apiserver.SecureServing.ListenAddr = envtest.ListenAddr{Address: "127.0.0.1"}
	if cp.opts.APIServerPort != 0 {
		apiserver.SecureServing.Port = strconv.Itoa(cp.opts.APIServerPort)
	}
	args := apiserver.Configure()
	// Enough request headroom for the manager, the controller manager and
	// the pod runner together.
	args.Set("max-requests-inflight", "800")
	args.Set("max-mutating-requests-inflight", "400")
	for name, values := range cp.opts.APIServerFlags {
		args.Set(name, values...)
	}

	cp.env = &envtest.Environment{
		ControlPlane: envtest.ControlPlane{
			Etcd:      &envtest.Etcd{Path: etcdBin, DataDir: etcdDir, Out: etcdLog, Err: etcdLog},
			APIServer: apiserver,
		},
		CRDDirectoryPaths:        cp.opts.CRDDirectoryPaths,
		ErrorIfCRDPathMissing:    len(cp.opts.CRDDirectoryPaths) > 0,
		ControlPlaneStartTimeout: cp.opts.StartTimeout,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	cp.log.Info("Starting etcd and kube-apiserver", "stateDir", dir)
	cfg, err := cp.env.Start()
	// Record the processes first, even after an error: a half-started
	// control plane must still be found and stopped.
	cp.recordProcesses(etcdBin, apiserverBin)
	if err != nil {
		return fmt.Errorf("while starting etcd and kube-apiserver from %s (logs in %s): %w", cp.opts.AssetsDir, filepath.Join(dir, "logs"), err)
	}
	cp.config = cfg
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("while starting the control plane: %w", err)
	}

	if err := os.WriteFile(cp.CAFile, cfg.CAData, 0o644); err != nil {
		return fmt.Errorf("while writing the CA certificate: %w", err)
	}
	if err := cp.writeKubeconfig(cp.KubeconfigPath, "admin", cfg); err != nil {
		return err
	}
	cp.log.Info("Started kube-apiserver", "url", cfg.Host, "kubeconfig", cp.KubeconfigPath)

	if !cp.opts.SkipControllerManager {
		if err := cp.startControllerManager(ctx); err != nil {
			return err
		}
	}
	return nil
}

func openLog(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("while opening log %s: %w", path, err)
	}
	fmt.Fprintf(f, "==== vigil dev: starting at %s\n", time.Now().Format(time.RFC3339))
	return f, nil
}

// recordProcesses notes etcd and kube-apiserver (envtest's children, which
// it does not expose) in the process table, found by parent and binary.
func (cp *ControlPlane) recordProcesses(binaries ...string) {
	children, err := childProcesses()
	if err != nil {
		cp.log.Info("Could not list child processes; a crash may leave the control plane running", "error", err.Error())
		return
	}
	want := map[string]string{}
	for _, b := range binaries {
		want[resolvedPath(b)] = filepath.Base(b)
	}
	var recs []processRecord
	for _, c := range children {
		if name, ok := want[c.Exe]; ok {
			recs = append(recs, processRecord{Name: name, procInfo: c})
		}
	}
	if cp.kcm != nil {
		if info, err := readProc(cp.kcm.cmd.Process.Pid); err == nil {
			recs = append(recs, processRecord{Name: "kube-controller-manager", procInfo: info})
		}
	}
	if len(recs) > 0 {
		cp.ownPID = recs[0].PID
	}
	if err := cp.procs.write(recs); err != nil {
		cp.log.Info("Could not write the process table", "error", err.Error())
	}
}

func resolvedPath(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	if a, err := filepath.Abs(p); err == nil {
		p = a
	}
	return p
}

// startControllerManager runs kube-controller-manager as system:masters
// (vigil dev is a single-user cluster, and --use-service-account-credentials
// would need the token controller and its key), without leader election, with
// its secure port on a free loopback port for the health check only.
func (cp *ControlPlane) startControllerManager(ctx context.Context) error {
	bin, err := cp.binary("kube-controller-manager")
	if err != nil {
		return err
	}
	dir := cp.opts.StateDir
	user, err := cp.env.AddUser(envtest.User{Name: "system:kube-controller-manager", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("while provisioning the controller manager's user: %w", err)
	}
	kubeconfig := filepath.Join(dir, "pki", "kube-controller-manager.kubeconfig")
	if err := cp.writeKubeconfig(kubeconfig, "kube-controller-manager", user.Config()); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	certDir := filepath.Join(dir, "pki", "kube-controller-manager")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return fmt.Errorf("while creating the controller manager's certificate directory: %w", err)
	}
	args := []string{
		"--kubeconfig=" + kubeconfig,
		"--controllers=" + strings.Join(cp.opts.Controllers, ","),
		"--leader-elect=false",
		"--use-service-account-credentials=false",
		"--root-ca-file=" + cp.CAFile,
		"--cluster-name=vigil-dev",
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + certDir,
		// The health endpoints are always allowed; without authentication
		// and authorization kubeconfigs nothing else is served.
		"--authentication-skip-lookup=true",
	}
	cp.log.Info("Starting kube-controller-manager", "controllers", len(cp.opts.Controllers))
	kcm, err := startChildProcess("kube-controller-manager", bin, args, filepath.Join(dir, "logs", "kube-controller-manager.log"))
	if err != nil {
		return err
	}
	cp.kcm = kcm
	cp.recordProcesses(cp.env.ControlPlane.Etcd.Path, cp.env.ControlPlane.APIServer.Path)
	if err := waitHealthy(ctx, kcm, "https://127.0.0.1:"+strconv.Itoa(port)+"/healthz", cp.opts.StartTimeout); err != nil {
		return fmt.Errorf("while waiting for kube-controller-manager (log in %s): %w", filepath.Join(dir, "logs", "kube-controller-manager.log"), err)
	}
	cp.log.Info("Started kube-controller-manager")
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("while finding a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitHealthy polls url until it answers 200, the process exits, or timeout.
func waitHealthy(ctx context.Context, p *childProcess, url string, timeout time.Duration) error {
	client := &http.Client{
		Timeout: 2 * time.Second,
		// The controller manager serves a self-signed certificate; only
		// its liveness is checked here.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // loopback health check
	}
	deadline := time.Now().Add(timeout)
	for {
		if gone, err := p.exitedEarly(); gone {
			return fmt.Errorf("%s exited: %v", p.name, err)
		}
		resp, err := client.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not healthy after %s", p.name, timeout)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("while waiting for %s: %w", p.name, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// writeKubeconfig writes a kubeconfig that refers to certificate files next
// to it, so kubectl and the user can inspect them.
func (cp *ControlPlane) writeKubeconfig(path, user string, cfg *rest.Config) error {
	pki := filepath.Join(cp.opts.StateDir, "pki")
	certFile := filepath.Join(pki, user+".crt")
	keyFile := filepath.Join(pki, user+".key")
	if err := os.WriteFile(certFile, cfg.CertData, 0o600); err != nil {
		return fmt.Errorf("while writing the %s certificate: %w", user, err)
	}
	if err := os.WriteFile(keyFile, cfg.KeyData, 0o600); err != nil {
		return fmt.Errorf("while writing the %s key: %w", user, err)
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["vigil-dev"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthority: cp.CAFile}
	kc.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificate: certFile, ClientKey: keyFile}
	kc.Contexts["vigil-dev"] = &clientcmdapi.Context{Cluster: "vigil-dev", AuthInfo: user}
	kc.CurrentContext = "vigil-dev"
	b, err := clientcmd.Write(*kc)
	if err != nil {
		return fmt.Errorf("while encoding kubeconfig %s: %w", path, err)
	}
	if err := writeFileAtomic(path, b, 0o600); err != nil {
		return fmt.Errorf("while writing kubeconfig: %w", err)
	}
	return nil
}

// Config is a REST config with cluster-admin (system:masters) rights. Each
// call returns a copy the caller may change.
func (cp *ControlPlane) Config() *rest.Config { return rest.CopyConfig(cp.config) }

// AddUser provisions a client certificate for a user in the given groups
// and returns its REST config; with a non-empty kubeconfigPath it also
// writes a kubeconfig for it there (certificate files go to StateDir/pki).
// The API server trusts these certificates until the control plane stops.
func (cp *ControlPlane) AddUser(name string, groups []string, kubeconfigPath string) (*rest.Config, error) {
	user, err := cp.env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return nil, fmt.Errorf("while provisioning user %s: %w", name, err)
	}
	cfg := user.Config()
	if kubeconfigPath != "" {
		if err := cp.writeKubeconfig(kubeconfigPath, safeFileName(name), cfg); err != nil {
			return nil, err
		}
	}
	return rest.CopyConfig(cfg), nil
}

func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}

// Stop stops kube-controller-manager, kube-apiserver and etcd, in that order,
// and waits for them to exit. It is safe to call more than once.
func (cp *ControlPlane) Stop() error {
	cp.stopOnce.Do(func() {
		var errs []error
		if cp.kcm != nil {
			cp.kcm.stop(10 * time.Second)
		}
		if cp.env != nil {
			if err := cp.env.Stop(); err != nil {
				errs = append(errs, fmt.Errorf("while stopping kube-apiserver and etcd: %w", err))
			}
		}
		if len(errs) == 0 && cp.ownPID != 0 {
			if err := cp.procs.clearIfOwn(cp.ownPID); err != nil {
				errs = append(errs, err)
			}
		}
		cp.stopErr = errors.Join(errs...)
		cp.log.Info("Stopped the control plane")
	})
	return cp.stopErr
}

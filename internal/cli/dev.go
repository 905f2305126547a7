package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/vigil-operator/vigil/internal/archive/api"
	archiveclient "github.com/vigil-operator/vigil/internal/archive/client"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
	"github.com/vigil-operator/vigil/internal/controller"
	"github.com/vigil-operator/vigil/internal/devcluster"
	"github.com/vigil-operator/vigil/internal/manifests"
	"github.com/vigil-operator/vigil/internal/scheme"
	"github.com/vigil-operator/vigil/internal/testenv"
)

// The names vigil dev gives the system's parts, as the Helm chart does.
const (
	devSystemNamespace = "vigil-system"
	devManagerSA       = "vigil-manager"
	devArchiveSA       = "vigil-archive"
	// devImage is the connector image; the pod runner runs it as this very
	// binary.
	devImage = "ghcr.io/vigil-operator/vigil:dev"
	// devFieldOwner applies the samples and RBAC, like a GitOps tool would.
	devFieldOwner = "vigil-dev"
)

type devOptions struct {
	stateDir        string
	samplesDir      string
	crdDir          string
	rbacDir         string
	fresh           bool
	traffic         bool
	trafficInterval time.Duration
	statsInterval   time.Duration
	logFormat       string
}

func newDevCommand() *cobra.Command {
	o := &devOptions{}
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the whole system on this machine: control plane, operator, archive, connector pods, samples and traffic",
		Long: `vigil dev starts etcd, kube-apiserver and kube-controller-manager (built from Go
modules by hack/setup-envtest.sh), installs the CRDs and RBAC, runs the archive
and the operator under their own ServiceAccounts, runs connector pods as local
processes, applies the samples and posts signed sample traffic. It writes
<state-dir>/kubeconfig for kubectl, and <state-dir>/ready once all is up.
Ctrl-C stops everything.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDev(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.stateDir, "state-dir", ".dev", "directory for the cluster's data, logs, the archive and the kubeconfig")
	f.StringVar(&o.samplesDir, "samples-dir", "config/samples", "YAML applied once the system is up; empty applies none")
	f.StringVar(&o.crdDir, "crd-dir", "config/crd/bases", "the CRDs to install")
	f.StringVar(&o.rbacDir, "rbac-dir", "config/rbac", "the ServiceAccounts and RBAC of the operator and the archive")
	f.BoolVar(&o.fresh, "fresh", false, "discard the cluster and archive of earlier runs")
	f.BoolVar(&o.traffic, "traffic", true, "post signed sample messages to every Webhook account")
	f.DurationVar(&o.trafficInterval, "traffic-interval", 10*time.Second, "time between sample webhook batches")
	f.DurationVar(&o.statsInterval, "stats-interval", 10*time.Second, "how often the operator re-reads account statistics")
	f.StringVar(&o.logFormat, "log-format", "text", "json or text")
	return cmd
}

// devSystem is what runDev starts, stopped in reverse order.
type devSystem struct {
	log   logr.Logger
	stops []func()
}

func (d *devSystem) onStop(name string, stop func()) {
	d.stops = append(d.stops, func() {
		d.log.Info("Stopping", "component", name)
		stop()
	})
}

func (d *devSystem) stop() {
	for i := len(d.stops) - 1; i >= 0; i-- {
		d.stops[i]()
	}
}

// startComponent runs fn in a goroutine with its own context; the returned
// stop cancels it and waits. An early failure is sent on failed.
func startComponent(ctx context.Context, name string, failed chan<- error, fn func(ctx context.Context) error) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			select {
			case failed <- fmt.Errorf("%s: %w", name, err):
			default:
			}
		}
	}()
	return func() { cancel(); <-done }
}

func runDev(ctx context.Context, o *devOptions) error {
	log := newLogger(o.logFormat)
	ctrl.SetLogger(log)
	stateDir, err := filepath.Abs(o.stateDir)
	if err != nil {
		return err
	}
	readyFile := filepath.Join(stateDir, "ready")
	_ = os.Remove(readyFile)
	if o.fresh {
		for _, sub := range []string{"archive", "pods", "pvcs", "tokens"} {
			if err := os.RemoveAll(filepath.Join(stateDir, sub)); err != nil {
				return fmt.Errorf("while discarding %s: %w", sub, err)
			}
		}
	}
	assets, err := testenv.AssetsDir()
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("while locating the vigil binary: %w", err)
	}

	d := &devSystem{log: log.WithName("dev")}
	defer d.stop()
	failed := make(chan error, 4)

	log.Info("Starting the control plane", "stateDir", stateDir, "assets", assets)
	cp, err := devcluster.Start(ctx, devcluster.Options{
		StateDir: stateDir, AssetsDir: assets, CRDDirectoryPaths: []string{o.crdDir},
		Logger: log, Fresh: o.fresh,
	})
	if err != nil {
		return fmt.Errorf("while starting the control plane: %w", err)
	}
	d.onStop("control plane", func() {
		if err := cp.Stop(); err != nil {
			log.Error(err, "Stopping the control plane")
		}
	})
	admin, err := client.New(cp.Config(), client.Options{Scheme: scheme.New()})
	if err != nil {
		return err
	}
	if err := installRBAC(ctx, admin, o.rbacDir); err != nil {
		return err
	}

	// The manager and the archive run in this process but authenticate as
	// their ServiceAccounts, with tokens from the TokenRequest API, so the
	// RBAC generated from the controllers' markers is what they get.
	tokens := newDevTokens(cp.Config(), filepath.Join(stateDir, "tokens"), log.WithName("tokens"))
	managerKube, err := tokens.file(ctx, devManagerSA, "")
	if err != nil {
		return err
	}
	managerArchive, err := tokens.file(ctx, devManagerSA, cc.ArchiveAudience)
	if err != nil {
		return err
	}
	archiveKube, err := tokens.file(ctx, devArchiveSA, "")
	if err != nil {
		return err
	}
	d.onStop("token refresh", startComponent(ctx, "token refresh", failed, tokens.refresh))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("while listening for the archive: %w", err)
	}
	archiveURL := "http://" + ln.Addr().String()
	archiveOpts := &archiveOptions{
		dataDir: filepath.Join(stateDir, "archive"), auth: authTokenReview, audience: cc.ArchiveAudience,
		admins:        []string{serviceAccountUser(devSystemNamespace, devManagerSA)},
		maxBatchBytes: api.DefaultMaxBatchBytes, maxBatch: api.DefaultMaxBatch,
		backend: backendSQLite,
		// The WORM copy, on the filesystem store: a demo locks for a day.
		segments: segmentFlags{mode: "fs", dir: filepath.Join(stateDir, "segments"), retention: 24 * time.Hour, interval: 10 * time.Second},
	}
	archiveCfg := serviceAccountConfig(cp.Config(), archiveKube)
	d.onStop("archive", startComponent(ctx, "archive", failed, func(ctx context.Context) error {
		return serveArchive(ctx, archiveOpts, archiveCfg, ln, log.WithName("archive"))
	}))

	runner, err := devcluster.NewRunner(devcluster.RunnerOptions{
		Config: cp.Config(), StateDir: stateDir, Logger: log.WithName("pods"),
		Images: map[string]string{devImage: exe, "vigil:dev": exe},
	})
	if err != nil {
		return err
	}
	d.onStop("pod runner", startComponent(ctx, "pod runner", failed, runner.Start))

	mgrCfg := serviceAccountConfig(cp.Config(), managerKube)
	mgrCfg.QPS, mgrCfg.Burst = 50, 100
	mgr, err := ctrl.NewManager(mgrCfg, ctrl.Options{
		Scheme:                 scheme.New(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return fmt.Errorf("while creating the manager: %w", err)
	}
	arch, err := archiveclient.New(archiveURL, managerArchive)
	if err != nil {
		return err
	}
	if err := controller.Setup(ctx, mgr, controller.Options{
		Archive: arch, Clock: clock.RealClock{}, Actor: serviceAccountUser(devSystemNamespace, devManagerSA),
		Connector: controller.ConnectorOptions{
			Image: devImage, ArchiveURL: archiveURL, ArchiveNamespace: devSystemNamespace,
			ArchiveSelector:        map[string]string{"app.kubernetes.io/name": "vigil-archive"},
			TokenExpirationSeconds: 3600,
		},
		MaxConcurrentReconciles: 4,
		StatsInterval:           o.statsInterval,
	}); err != nil {
		return err
	}
	d.onStop("manager", startComponent(ctx, "manager", failed, mgr.Start))

	wecomFake, stopWeComFake, err := startDevWeCom(ctx, stateDir, log.WithName("wecom-fake"))
	if err != nil {
		return err
	}
	d.onStop("WeCom fake", stopWeComFake)

	if o.samplesDir != "" {
		objs, err := manifests.LoadDir(o.samplesDir)
		if err != nil {
			return err
		}
		if err := manifests.Apply(ctx, admin, devFieldOwner, objs); err != nil {
			return fmt.Errorf("while applying the samples: %w", err)
		}
		log.Info("Applied the samples", "dir", o.samplesDir, "objects", len(objs))
		// The WeCom demo's namespace comes with the samples.
		if err := wecomFake.enrol(ctx, admin); err != nil {
			return err
		}
	}
	if o.traffic {
		t := &webhookTraffic{k8s: admin, log: log.WithName("traffic"), interval: o.trafficInterval}
		d.onStop("sample traffic", startComponent(ctx, "sample traffic", failed, t.run))
		d.onStop("WeCom demo traffic", startComponent(ctx, "WeCom demo traffic", failed, wecomFake.traffic(o.trafficInterval)))
	}

	if err := os.WriteFile(readyFile, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(readyFile)
	fmt.Fprintf(os.Stderr, `
vigil dev is running. In another terminal:

  export KUBECONFIG=%s
  kubectl get vigil -A          # accounts, policies, retention rules, holds
  kubectl get macct -A -w       # watch messages being captured

Archive API: %s   Logs: %s   Ctrl-C stops everything.

`, cp.KubeconfigPath, archiveURL, stateDir)

	select {
	case <-ctx.Done():
		log.Info("Shutting down")
		return nil
	case err := <-failed:
		return err
	}
}

// installRBAC creates the system namespace and applies the ServiceAccounts,
// roles and bindings of the operator and the archive.
func installRBAC(ctx context.Context, c client.Client, dir string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: devSystemNamespace, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted",
	}}}
	if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("while creating namespace %s: %w", devSystemNamespace, err)
	}
	objs, err := manifests.LoadDir(dir)
	if err != nil {
		return err
	}
	if err := manifests.Apply(ctx, c, devFieldOwner, objs); err != nil {
		return fmt.Errorf("while applying the RBAC: %w", err)
	}
	return nil
}

func serviceAccountUser(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
}

// serviceAccountConfig is admin's connection (server and CA) with a
// ServiceAccount's token file instead of admin's credentials. client-go
// re-reads the file, so refreshed tokens are picked up.
func serviceAccountConfig(admin *rest.Config, tokenFile string) *rest.Config {
	return &rest.Config{
		Host:            admin.Host,
		TLSClientConfig: rest.TLSClientConfig{CAData: admin.CAData, CAFile: admin.CAFile, ServerName: admin.ServerName},
		BearerTokenFile: tokenFile,
	}
}

package cli

import (
	"crypto/tls"
	"flag"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	archiveclient "github.com/vigil-operator/vigil/internal/archive/client"
	"github.com/vigil-operator/vigil/internal/controller"
	"github.com/vigil-operator/vigil/internal/scheme"
)

// managerOptions are the flags of `vigil manager`.
type managerOptions struct {
	metricsAddr       string
	metricsSecure     bool
	probeAddr         string
	leaderElect       bool
	enableHTTP2       bool
	connectorImage    string
	archiveURL        string
	archiveTokenFile  string
	archiveNamespace  string
	actor             string
	maxConcurrent     int
	statsInterval     time.Duration
	zap               zap.Options
	leaderElectionNS  string
	tokenExpirySecond int64
	kubeAPIQPS        float32
	kubeAPIBurst      int
}

func newManagerCommand() *cobra.Command {
	o := &managerOptions{zap: zap.Options{}}
	cmd := &cobra.Command{
		Use:   "manager",
		Short: "Run the operator: the MonitoredAccount, CompliancePolicy, RetentionRule and LegalHold controllers",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runManager(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.metricsAddr, "metrics-bind-address", ":8443", "address of the metrics endpoint; 0 disables it")
	f.BoolVar(&o.metricsSecure, "metrics-secure", true, "serve metrics over HTTPS with authentication and authorization")
	f.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "address of the health and readiness probes")
	f.BoolVar(&o.leaderElect, "leader-elect", false, "elect a leader so that only one manager reconciles")
	f.StringVar(&o.leaderElectionNS, "leader-election-namespace", "", "namespace of the leader election Lease (defaults to the pod's)")
	f.BoolVar(&o.enableHTTP2, "enable-http2", false, "serve metrics over HTTP/2 (off: HTTP/2 Rapid Reset and Stream Cancellation CVEs)")
	f.StringVar(&o.connectorImage, "connector-image", "ghcr.io/vigil-operator/vigil:dev", "image of connector pods")
	f.StringVar(&o.archiveURL, "archive-url", "http://vigil-archive.vigil-system.svc:8080", "URL of the archive, for the manager and the connectors")
	f.StringVar(&o.archiveTokenFile, "archive-token-file", "/var/run/secrets/vigil/archive-token", "projected ServiceAccount token (audience vigil-archive) the manager presents to the archive")
	f.StringVar(&o.archiveNamespace, "archive-namespace", "vigil-system", "namespace of the archive pods, for connector NetworkPolicies")
	f.StringVar(&o.actor, "actor", "system:serviceaccount:vigil-system:vigil-manager", "who the archive records as asking for purges and holds")
	f.IntVar(&o.maxConcurrent, "max-concurrent-reconciles", 4, "parallel MonitoredAccount reconciles")
	f.DurationVar(&o.statsInterval, "stats-interval", 30*time.Second, "how often account statistics are re-read from the archive")
	f.Int64Var(&o.tokenExpirySecond, "connector-token-expiration-seconds", 3600, "lifetime of connectors' projected archive tokens")
	f.Float32Var(&o.kubeAPIQPS, "kube-api-qps", 50, "steady rate of requests to the Kubernetes API server")
	f.IntVar(&o.kubeAPIBurst, "kube-api-burst", 100, "burst of requests to the Kubernetes API server")
	zapFlags := flag.NewFlagSet("zap", flag.ContinueOnError)
	o.zap.BindFlags(zapFlags)
	f.AddGoFlagSet(zapFlags)
	return cmd
}

func runManager(cmd *cobra.Command, o *managerOptions) error {
	log := zap.New(zap.UseFlagOptions(&o.zap))
	ctrl.SetLogger(log)
	ctx := cmd.Context()

	var tlsOpts []func(*tls.Config)
	if !o.enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsOpts := metricsserver.Options{BindAddress: o.metricsAddr, SecureServing: o.metricsSecure, TLSOpts: tlsOpts}
	if o.metricsSecure {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("while loading the Kubernetes client configuration: %w", err)
	}
	// Each account costs about ten requests to reconcile (five applies,
	// status, events); the client-go default of 5 per second would make a
	// fleet of a few hundred accounts take minutes to settle.
	cfg.QPS, cfg.Burst = o.kubeAPIQPS, o.kubeAPIBurst
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        scheme.New(),
		Metrics:                       metricsOpts,
		HealthProbeBindAddress:        o.probeAddr,
		LeaderElection:                o.leaderElect,
		LeaderElectionID:              "5c1d7e3a.compliance.vigil.dev",
		LeaderElectionNamespace:       o.leaderElectionNS,
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return fmt.Errorf("while creating the manager: %w", err)
	}
	archive, err := archiveclient.New(o.archiveURL, o.archiveTokenFile)
	if err != nil {
		return err
	}
	if err := controller.Setup(ctx, mgr, controller.Options{
		Archive: archive,
		Clock:   clock.RealClock{},
		Actor:   o.actor,
		Connector: controller.ConnectorOptions{
			Image:                  o.connectorImage,
			ArchiveURL:             o.archiveURL,
			ArchiveNamespace:       o.archiveNamespace,
			ArchiveSelector:        map[string]string{"app.kubernetes.io/name": "vigil-archive"},
			TokenExpirationSeconds: o.tokenExpirySecond,
		},
		MaxConcurrentReconciles: o.maxConcurrent,
		StatsInterval:           o.statsInterval,
	}); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("while adding the health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("while adding the readiness check: %w", err)
	}
	log.Info("Starting the manager", "archive", o.archiveURL, "connectorImage", o.connectorImage, "leaderElection", o.leaderElect)
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("while running the manager: %w", err)
	}
	return nil
}

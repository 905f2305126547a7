package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/vigil-operator/vigil/internal/archive/api"
	"github.com/vigil-operator/vigil/internal/archive/keys"
	"github.com/vigil-operator/vigil/internal/archive/segments"
	"github.com/vigil-operator/vigil/internal/archive/store"
	"github.com/vigil-operator/vigil/internal/archive/store/postgres"
	"github.com/vigil-operator/vigil/internal/archive/store/shipping"
	"github.com/vigil-operator/vigil/internal/archive/store/sqlite"
	"github.com/vigil-operator/vigil/internal/archive/tlog"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
)

// Authentication modes of `vigil archive`.
const (
	authTokenReview = "tokenreview"
	authStatic      = "static"
)

type archiveOptions struct {
	dataDir          string
	listen           string
	auth             string
	staticTokensFile string
	audience         string
	admins           []string
	maxBatchBytes    int64
	maxBatch         int
	logFormat        string
	logOrigin        string
	logSigningKey    string
	kekFile          string
	kekID            string
	previousKEKs     []string
	backend          string
	postgresDSNFile  string
	segments         segmentFlags
}

// segmentFlags configure the WORM copy of record content.
type segmentFlags struct {
	mode                      string
	dir                       string
	endpoint, bucket, region  string
	accessKeyFile, secretFile string
	insecure                  bool
	retention, interval       time.Duration
}

// Storage backends of `vigil archive`.
const (
	backendSQLite   = "sqlite"
	backendPostgres = "postgres"
)

// archiveStore is what the API needs of a backend: the store and its log.
type archiveStore interface {
	store.Store
	store.Log
}

func newArchiveCommand() *cobra.Command {
	o := &archiveOptions{}
	cmd := &cobra.Command{
		Use:   "archive",
		Short: "Run the archive: durable, deduplicated ingest, statistics, retention purges, legal holds and search",
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := newLogger(o.logFormat).WithName("archive")
			var cfg *rest.Config
			if o.auth == authTokenReview {
				var err error
				if cfg, err = ctrl.GetConfig(); err != nil {
					return fmt.Errorf("while loading the Kubernetes client configuration for TokenReview: %w", err)
				}
			}
			ln, err := net.Listen("tcp", o.listen)
			if err != nil {
				return fmt.Errorf("while listening on %s: %w", o.listen, err)
			}
			return serveArchive(cmd.Context(), o, cfg, ln, log)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.dataDir, "data-dir", "/var/lib/vigil/archive", "directory of the archive database (a persistent volume)")
	f.StringVar(&o.listen, "listen", ":8080", "address of the API, probes and metrics")
	f.StringVar(&o.auth, "auth", authTokenReview, "how callers are authenticated: tokenreview (Kubernetes TokenReview) or static (a token file)")
	f.StringVar(&o.staticTokensFile, "static-tokens-file", "", "with --auth=static: file of \"token,username\" lines")
	f.StringVar(&o.audience, "audience", cc.ArchiveAudience, "audience the callers' ServiceAccount tokens must carry")
	f.StringSliceVar(&o.admins, "admin-subject", []string{"system:serviceaccount:vigil-system:vigil-manager"},
		"usernames that may read statistics, run purges and manage holds (the operator)")
	f.Int64Var(&o.maxBatchBytes, "max-batch-bytes", api.DefaultMaxBatchBytes, "largest ingest request body")
	f.IntVar(&o.maxBatch, "max-batch", api.DefaultMaxBatch, "most envelopes in one ingest request")
	f.StringVar(&o.logFormat, "log-format", "json", "json or text")
	f.StringVar(&o.logOrigin, "log-origin", sqlite.DefaultLogOrigin, "origin line of the tamper-evident log's checkpoints; give each archive its own")
	f.StringVar(&o.logSigningKey, "log-signing-key-file", "",
		"file with the checkpoint signing key (a note key \"PRIVATE+KEY+<origin>+...\", from a Secret); empty generates one in the data directory")
	f.StringVar(&o.kekFile, "kek-file", "",
		"file with the key-encryption key that wraps the records' data keys (32 random bytes, raw or base64, from a Secret); empty generates one in the data directory")
	f.StringVar(&o.kekID, "kek-id", "kek-1", "name of the key in --kek-file; recorded beside every data key it wraps, so change it when the key changes")
	f.StringVar(&o.backend, "store", backendSQLite, "where records, index and log live: sqlite (embedded, in --data-dir) or postgres")
	f.StringVar(&o.postgresDSNFile, "postgres-dsn-file", "",
		"with --store=postgres: file holding the connection string (from a Secret); PG* environment variables and a passfile also apply")
	f.StringVar(&o.segments.mode, "segments", "none", "where the WORM copy of record content goes: none, fs (--segments-dir) or s3 (a bucket with Object Lock)")
	f.StringVar(&o.segments.dir, "segments-dir", "", "with --segments=fs: the directory of the segment store")
	f.StringVar(&o.segments.endpoint, "s3-endpoint", "", "with --segments=s3: host[:port] of the S3 API")
	f.StringVar(&o.segments.bucket, "s3-bucket", "", "with --segments=s3: the bucket, created with Object Lock enabled")
	f.StringVar(&o.segments.region, "s3-region", "", "with --segments=s3: the bucket's region")
	f.StringVar(&o.segments.accessKeyFile, "s3-access-key-file", "", "with --segments=s3: file holding the access key id; empty uses the AWS environment, shared credentials, IRSA or the instance role")
	f.StringVar(&o.segments.secretFile, "s3-secret-key-file", "", "with --segments=s3: file holding the secret access key")
	f.BoolVar(&o.segments.insecure, "s3-insecure", false, "with --segments=s3: plain HTTP, for a test server on loopback only")
	f.DurationVar(&o.segments.retention, "worm-retention", 3*365*24*time.Hour,
		"how long past the end of its month a segment stays locked in COMPLIANCE mode: the regulatory floor (SEC 17a-4: 3 years)")
	f.DurationVar(&o.segments.interval, "segments-interval", shipping.DefaultInterval, "how often new records are written to segments")
	f.StringSliceVar(&o.previousKEKs, "previous-kek", nil,
		"id=file of an earlier key-encryption key, kept only to unwrap data keys it wrapped until they are rewrapped (repeatable)")
	return cmd
}

// serveArchive runs the archive on ln until ctx ends, then drains requests
// and closes the store. cfg is the Kubernetes client configuration for
// TokenReview and SubjectAccessReview (nil with static authentication).
func serveArchive(ctx context.Context, o *archiveOptions, cfg *rest.Config, ln net.Listener, log logr.Logger) error {
	var authn api.Authenticator
	var authz api.Authorizer
	switch o.auth {
	case authTokenReview:
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return fmt.Errorf("while building the Kubernetes client: %w", err)
		}
		authn = api.NewTokenReviewAuthenticator(cs, o.audience)
		authz = api.SubjectAccessReviewAuthorizer{Client: cs}
	case authStatic:
		a, err := api.LoadStaticTokens(o.staticTokensFile)
		if err != nil {
			return err
		}
		authn, authz = a, api.NoAuthorizer{}
	default:
		return fmt.Errorf("--auth must be %s or %s, not %q", authTokenReview, authStatic, o.auth)
	}
	st, err := openArchiveStore(ctx, o, log.WithName("store"))
	if err != nil {
		return err
	}
	log.Info("Tamper-evident log open", "origin", st.Origin(), "verifier", st.Verifier().String())
	defer func() {
		if err := st.Close(); err != nil {
			log.Error(err, "Closing the store")
		}
	}()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv, err := api.NewServer(api.Options{
		Store: st, Authenticator: authn, Authorizer: authz, AdminSubjects: o.admins, Logger: log,
		Registerer: reg, Gatherer: reg, MaxBatchBytes: o.maxBatchBytes, MaxBatch: o.maxBatch,
	})
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("Archive serving", "address", ln.Addr().String(), "dataDir", o.dataDir, "auth", o.auth)
	select {
	case err := <-errc:
		return fmt.Errorf("while serving the archive API: %w", err)
	case <-ctx.Done():
	}
	// Let in-flight batches finish: a connector whose batch is cut off
	// resends it, but finishing avoids the duplicate work.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("while shutting the archive API down: %w", err)
	}
	log.Info("Archive stopped")
	return nil
}

// openArchiveStore opens the backend the flags name. PostgreSQL keeps no
// data directory to generate keys in, and its replicas must share them, so
// it needs the checkpoint key and the key-encryption key from Secrets.
func openArchiveStore(ctx context.Context, o *archiveOptions, log logr.Logger) (archiveStore, error) {
	signer, err := loadLogSigner(o.logSigningKey)
	if err != nil {
		return nil, err
	}
	ring, err := loadKeyRing(o.kekFile, o.kekID, o.previousKEKs)
	if err != nil {
		return nil, err
	}
	segs, err := openSegments(ctx, o.segments)
	if err != nil {
		return nil, err
	}
	switch o.backend {
	case backendSQLite, "":
		if o.postgresDSNFile != "" {
			return nil, errors.New("--postgres-dsn-file needs --store=postgres")
		}
		st, err := sqlite.Open(ctx, o.dataDir, sqlite.Options{Logger: log, LogOrigin: o.logOrigin, LogSigner: signer, KeyRing: ring, Segments: segs})
		if err != nil {
			return nil, err
		}
		return st, nil
	case backendPostgres:
		if signer == nil || ring == nil {
			return nil, errors.New("--store=postgres needs --log-signing-key-file and --kek-file: every replica must sign and encrypt with the same keys, so they come from Secrets")
		}
		dsn := ""
		if o.postgresDSNFile != "" {
			b, err := os.ReadFile(o.postgresDSNFile)
			if err != nil {
				return nil, fmt.Errorf("while reading --postgres-dsn-file: %w", err)
			}
			dsn = strings.TrimSpace(string(b))
		}
		st, err := postgres.Open(ctx, dsn, postgres.Options{Logger: log, LogOrigin: o.logOrigin, LogSigner: signer, KeyRing: ring, Segments: segs})
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	return nil, fmt.Errorf("--store must be %s or %s, not %q", backendSQLite, backendPostgres, o.backend)
}

// openSegments opens the segment store the flags name; nil for none.
func openSegments(ctx context.Context, f segmentFlags) (*shipping.Options, error) {
	var backend segments.Backend
	switch f.mode {
	case "", "none":
		return nil, nil
	case "fs":
		if f.dir == "" {
			return nil, errors.New("--segments=fs needs --segments-dir")
		}
		fs, err := segments.NewFS(f.dir)
		if err != nil {
			return nil, err
		}
		backend = fs
	case "s3":
		cfg := segments.S3Config{Endpoint: f.endpoint, Bucket: f.bucket, Region: f.region, Insecure: f.insecure}
		if cfg.Endpoint == "" || cfg.Bucket == "" {
			return nil, errors.New("--segments=s3 needs --s3-endpoint and --s3-bucket")
		}
		for _, kf := range []struct {
			path string
			dst  *string
		}{{f.accessKeyFile, &cfg.AccessKeyID}, {f.secretFile, &cfg.SecretAccessKey}} {
			if kf.path == "" {
				continue
			}
			b, err := os.ReadFile(kf.path)
			if err != nil {
				return nil, fmt.Errorf("while reading S3 credentials: %w", err)
			}
			*kf.dst = strings.TrimSpace(string(b))
		}
		s3, err := segments.NewS3(ctx, cfg)
		if err != nil {
			return nil, err
		}
		backend = s3
	default:
		return nil, fmt.Errorf("--segments must be none, fs or s3, not %q", f.mode)
	}
	return &shipping.Options{Backend: backend, Retention: f.retention, Interval: f.interval}, nil
}

// loadKeyRing reads the key-encryption keys; no --kek-file leaves the store
// to use (or generate) the one in its data directory.
func loadKeyRing(path, id string, previous []string) (*keys.KeyRing, error) {
	if path == "" {
		if len(previous) > 0 {
			return nil, errors.New("--previous-kek needs --kek-file: the current key must be given to rotate away from an earlier one")
		}
		return nil, nil
	}
	current, err := keys.LoadLocalKEK(id, path)
	if err != nil {
		return nil, fmt.Errorf("while reading --kek-file: %w", err)
	}
	var older []keys.KEK
	for _, p := range previous {
		pid, ppath, ok := strings.Cut(p, "=")
		if !ok || pid == "" || ppath == "" {
			return nil, fmt.Errorf("--previous-kek %q must be id=file", p)
		}
		kek, err := keys.LoadLocalKEK(pid, ppath)
		if err != nil {
			return nil, fmt.Errorf("while reading --previous-kek %s: %w", pid, err)
		}
		older = append(older, kek)
	}
	return keys.NewKeyRing(current, older...)
}

// loadLogSigner reads the checkpoint signing key; "" leaves the store to
// load or generate its own. Errors never quote the key.
func loadLogSigner(path string) (*tlog.Signer, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("while reading the log signing key: %w", err)
	}
	signer, err := tlog.ParseSignerKey(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("the log signing key in %s is not a note signing key (PRIVATE+KEY+...): generate one with vigil log-key", path)
	}
	return signer, nil
}

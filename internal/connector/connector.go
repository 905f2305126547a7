package connector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-operator/vigil/internal/connector/spool"
)

const defaultShutdownTimeout = 20 * time.Second

// Deps are the connector's collaborators, injected so tests and `vigil dev`
// can substitute them.
type Deps struct {
	// Uploader ships to the archive; nil builds an HTTPUploader from
	// Config.ArchiveURL and Config.TokenFile.
	Uploader Uploader
	// Factories maps channel names to constructors, e.g.
	// {"webhook": webhook.Factory, "simulator": simulator.Factory}.
	Factories map[string]ChannelFactory
	// Registry receives every metric and is served on /metrics.
	Registry *prometheus.Registry
	Logger   logr.Logger
}

// Connector runs one account's channel, spool, shipper and HTTP server.
type Connector struct {
	cfg      Config
	deps     Deps
	metrics  *Metrics
	channel  Channel
	uploader Uploader
	policies *PolicyRunner
	log      logr.Logger

	ready   atomic.Bool
	addr    atomic.Value // net.Addr once listening
	started chan struct{}
}

// New validates cfg, builds the channel and registers metrics. Nothing is
// opened or served until Run.
func New(cfg Config, deps Deps) (*Connector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("while validating connector config: %w", err)
	}
	if deps.Registry == nil {
		return nil, errors.New("connector needs a metrics registry")
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = defaultShutdownTimeout
	}
	log := deps.Logger.WithValues("account", cfg.Account, "channel", cfg.Channel)
	factory, ok := deps.Factories[cfg.Channel]
	if !ok {
		return nil, fmt.Errorf("unknown channel %q", cfg.Channel)
	}
	m, err := NewMetrics(deps.Registry)
	if err != nil {
		return nil, err
	}
	stateDir := filepath.Join(cfg.SpoolDir, ChannelStateDir)
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("while creating the channel state directory: %w", err)
	}
	ch, err := factory(ChannelParams{
		Account: cfg.Account, Custodian: cfg.Custodian, ExternalID: cfg.ExternalID, Credentials: cfg.Credentials,
		Settings: cfg.ChannelSettings, Logger: log.WithName(cfg.Channel), Registerer: deps.Registry,
		StateDir: stateDir,
	})
	if err != nil {
		return nil, fmt.Errorf("while configuring channel %q: %w", cfg.Channel, err)
	}
	up := deps.Uploader
	if up == nil {
		httpUp, err := NewHTTPUploader(cfg.ArchiveURL, cfg.TokenFile, nil)
		if err != nil {
			return nil, err
		}
		httpUp.Custodian = cfg.Custodian
		up = httpUp
	}
	var policies *PolicyRunner
	if cfg.PolicyDir != "" {
		if policies, err = NewPolicyRunner(cfg.PolicyDir, cfg.PolicyReload, deps.Registry, log.WithName("policy")); err != nil {
			return nil, err
		}
	}
	return &Connector{cfg: cfg, deps: deps, metrics: m, channel: ch, uploader: up, policies: policies, log: log, started: make(chan struct{})}, nil
}

// Started is closed once the HTTP server listens and the channel runs.
func (c *Connector) Started() <-chan struct{} { return c.started }

// Addr is the address the server listens on, valid after Started.
func (c *Connector) Addr() net.Addr {
	a, _ := c.addr.Load().(net.Addr)
	return a
}

// Run opens the spool and runs everything until ctx is cancelled or the
// channel fails, then stops in order: refuse new HTTP requests and let those
// in flight finish spooling, stop the channel, ship what can be shipped
// within the shutdown timeout, and close the spool with the rest kept.
func (c *Connector) Run(ctx context.Context) error {
	sp, err := spool.Open(c.cfg.SpoolDir, spool.Options{MaxBytes: c.cfg.SpoolMaxBytes, Logger: c.log.WithName("spool")})
	if err != nil {
		return fmt.Errorf("while opening the spool: %w", err)
	}
	defer func() {
		if err := sp.Close(); err != nil {
			c.log.Error(err, "closing the spool")
		}
	}()
	if rec := sp.Recovered(); rec.TruncatedBytes > 0 || rec.CursorReset {
		c.metrics.SpoolTruncatedByte.Add(float64(rec.TruncatedBytes))
		c.log.Info("spool recovered after an unclean stop", "truncatedBytes", rec.TruncatedBytes, "cursorReset", rec.CursorReset)
	}
	c.metrics.observeSpool(sp.Stats())

	shipper := NewShipper(sp, c.uploader, c.cfg.Account, c.cfg.Shipper, c.metrics, c.log.WithName("shipper"))
	if c.policies != nil {
		shipper.evaluate = c.policies.Evaluate
		policyCtx, stopPolicies := context.WithCancel(ctx)
		defer stopPolicies()
		go c.policies.Run(policyCtx)
	}
	sink := &spoolSink{
		spool: sp, account: c.cfg.Account, version: c.cfg.Version, metrics: c.metrics,
		log: c.log.WithName("sink"), now: time.Now, wake: shipper.Wake,
	}

	ln, err := net.Listen("tcp", c.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("while listening on %s: %w", c.cfg.ListenAddr, err)
	}
	c.addr.Store(ln.Addr())
	srv := &http.Server{Handler: c.routes(sink), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second}

	chCtx, stopChannel := context.WithCancel(context.WithoutCancel(ctx))
	shipCtx, stopShipper := context.WithCancel(context.WithoutCancel(ctx))
	defer stopChannel()
	defer stopShipper()

	errs := make(chan error, 3)
	var wg sync.WaitGroup
	var channelDone, shipperDone sync.WaitGroup
	channelDone.Add(1)
	shipperDone.Add(1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs <- fmt.Errorf("while serving HTTP: %w", err)
		}
	}()
	go func() {
		defer channelDone.Done()
		if err := c.channel.Run(chCtx, sink); err != nil && chCtx.Err() == nil {
			errs <- fmt.Errorf("channel %s stopped: %w", c.channel.Name(), err)
		}
	}()
	go func() {
		defer shipperDone.Done()
		if err := shipper.Run(shipCtx); err != nil {
			errs <- fmt.Errorf("shipper stopped: %w", err)
		}
	}()
	c.ready.Store(true)
	close(c.started)
	c.log.Info("connector running", "listen", ln.Addr().String())

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errs:
		c.log.Error(runErr, "connector component failed; shutting down")
	}
	c.ready.Store(false)

	deadline, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(deadline); err != nil {
		c.log.Error(err, "HTTP server did not drain in time")
		srv.Close()
	}
	wg.Wait()
	stopChannel()
	channelDone.Wait()
	stopShipper()
	shipperDone.Wait()
	if err := shipper.Flush(deadline); err != nil {
		c.log.Info("stopped with records still spooled; they ship on next start",
			"pending", sp.Stats().PendingRecords, "reason", err.Error())
	}
	c.log.Info("connector stopped", "pending", sp.Stats().PendingRecords)
	return runErr
}

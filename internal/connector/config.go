package connector

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Config is one connector's configuration, as the operator renders it into the
// connector pod.
type Config struct {
	// Account is "namespace/name" of the MonitoredAccount; the archive only
	// accepts records for the account the connector's token belongs to.
	Account string
	// Channel names the channel implementation (a key of Deps.Factories).
	Channel string
	// ListenAddr serves the webhook, /healthz, /readyz and /metrics.
	ListenAddr    string
	SpoolDir      string
	SpoolMaxBytes int64
	ArchiveURL    string
	// TokenFile is the projected ServiceAccount token (audience vigil-archive).
	TokenFile       string
	Custodian       string
	ExternalID      string
	Credentials     map[string][]byte
	ChannelSettings map[string]string
	// Version is stamped into provenance.version of every record.
	Version string
	// ShutdownTimeout bounds the graceful stop, including the final flush
	// (default 20 s, under Kubernetes' default 30 s grace period).
	ShutdownTimeout time.Duration
	Shipper         ShipperOptions
	// PolicyDir holds policies.json, the account's policy bundle; empty
	// runs no policies (tests of capture alone).
	PolicyDir string
	// PolicyReload is how often the bundle is checked for changes (default 5 s).
	PolicyReload time.Duration
}

// Validate checks the fields the connector cannot run without.
func (c *Config) Validate() error {
	ns, name, ok := strings.Cut(c.Account, "/")
	if !ok {
		return fmt.Errorf("account %q must be namespace/name", c.Account)
	}
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return fmt.Errorf("account namespace %q: %s", ns, strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("account name %q: %s", name, strings.Join(errs, "; "))
	}
	switch {
	case c.Channel == "":
		return fmt.Errorf("channel is required")
	case c.ListenAddr == "":
		return fmt.Errorf("listen address is required")
	case c.SpoolDir == "":
		return fmt.Errorf("spool directory is required")
	case c.SpoolMaxBytes < 1<<20:
		return fmt.Errorf("spool max bytes must be at least 1 MiB, got %d", c.SpoolMaxBytes)
	}
	return nil
}

// Package api is the archive's HTTP API: connectors post capture batches,
// the operator reads statistics and runs purges and holds, reviewers search.
//
//	POST   /v1/records?account=NS/NAME[&custodian=C]  NDJSON capture.Envelope batch (connector of that account)
//	GET    /v1/records?account=NS/NAME[&q=&from=&to=&limit=&after=]   (admin, or RBAC list messages.review.vigil.dev)
//	GET    /v1/accounts/{namespace}/{name}/stats                       (admin)
//	POST   /v1/purge                                                    (admin)
//	PUT    /v1/holds/{namespace}/{name}    GET  …   DELETE …            (admin)
//	GET    /v1/audit?after=&limit=                                      (admin, or RBAC get audit.review.vigil.dev)
//	POST   /v1/exports                                                  (admin, or RBAC create exports.review.vigil.dev)
//	GET    /v1/log/...  checkpoint, verifier, leaves, proofs (see log.go) (same as the audit trail)
//	GET    /healthz  /readyz  /metrics
//
// Every request but the probes and metrics carries a bearer token.
package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vigil-operator/vigil/internal/archive/store"
)

// Defaults for Options.
const (
	DefaultMaxBatchBytes = 32 << 20
	DefaultMaxBatch      = 10000
	maxJSONBody          = 1 << 20
)

// Options configure a Server.
type Options struct {
	Store         store.Store
	Authenticator Authenticator
	// Authorizer grants reviewer access; nil grants none.
	Authorizer Authorizer
	// AdminSubjects may read statistics, run purges and manage holds: the
	// operator's ServiceAccount.
	AdminSubjects []string
	Logger        logr.Logger
	// Registerer receives the server's metrics; nil uses a private registry.
	Registerer prometheus.Registerer
	// Gatherer serves /metrics; nil serves the private registry.
	Gatherer      prometheus.Gatherer
	MaxBatchBytes int64
	MaxBatch      int
}

// Server is the archive's HTTP API.
type Server struct {
	store   store.Store
	authn   Authenticator
	authz   Authorizer
	admins  map[string]bool
	log     logr.Logger
	metrics *metrics
	gather  prometheus.Gatherer
	maxBody int64
	maxN    int
}

// NewServer builds a server.
func NewServer(o Options) (*Server, error) {
	if o.Store == nil || o.Authenticator == nil {
		return nil, errors.New("the archive API needs a store and an authenticator")
	}
	s := &Server{
		store: o.Store, authn: o.Authenticator, authz: o.Authorizer, log: o.Logger,
		admins: map[string]bool{}, maxBody: o.MaxBatchBytes, maxN: o.MaxBatch, gather: o.Gatherer,
	}
	if s.authz == nil {
		s.authz = NoAuthorizer{}
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBatchBytes
	}
	if s.maxN <= 0 {
		s.maxN = DefaultMaxBatch
	}
	for _, a := range o.AdminSubjects {
		s.admins[a] = true
	}
	reg := o.Registerer
	if reg == nil {
		r := prometheus.NewRegistry()
		reg, s.gather = r, r
	}
	if s.gather == nil {
		s.gather = prometheus.DefaultGatherer
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	return s, nil
}

// Handler returns the API's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /v1/records", s.route("ingest", s.authenticated(s.ingest)))
	mux.Handle("GET /v1/records", s.route("list", s.authenticated(s.listRecords)))
	mux.Handle("GET /v1/accounts/{namespace}/{name}/stats", s.route("stats", s.authenticated(s.admin(s.stats))))
	mux.Handle("POST /v1/purge", s.route("purge", s.authenticated(s.admin(s.purge))))
	mux.Handle("PUT /v1/holds/{namespace}/{name}", s.route("hold.put", s.authenticated(s.admin(s.putHold))))
	mux.Handle("GET /v1/holds/{namespace}/{name}", s.route("hold.get", s.authenticated(s.admin(s.getHold))))
	mux.Handle("DELETE /v1/holds/{namespace}/{name}", s.route("hold.release", s.authenticated(s.admin(s.releaseHold))))
	mux.Handle("GET /v1/audit", s.route("audit", s.authenticated(s.audit)))
	mux.Handle("POST /v1/exports", s.route("export", s.authenticated(s.createExport)))
	mux.Handle("GET /v1/log/checkpoint", s.route("log.checkpoint", s.authenticated(s.logCheckpoint)))
	mux.Handle("GET /v1/log/verifier", s.route("log.verifier", s.authenticated(s.logVerifier)))
	mux.Handle("GET /v1/log/leaves", s.route("log.leaves", s.authenticated(s.logLeaves)))
	mux.Handle("GET /v1/log/proof/inclusion", s.route("log.inclusion", s.authenticated(s.logInclusion)))
	mux.Handle("GET /v1/log/proof/consistency", s.route("log.consistency", s.authenticated(s.logConsistency)))
	mux.Handle("GET /v1/log/tlog/checkpoint", s.route("log.tlog.checkpoint", s.authenticated(s.tlogCheckpoint)))
	mux.Handle("GET /v1/log/tlog/tile/{path...}", s.route("log.tlog.tile", s.authenticated(s.tlogTile)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("GET /readyz", s.ready)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.gather, promhttp.HandlerOpts{}))
	return mux
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Error(err, "Readiness check failed")
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok"))
}

type identityKey struct{}

// handlerFunc is an API handler that has an authenticated caller.
type handlerFunc func(w http.ResponseWriter, r *http.Request, id Identity)

// authenticated checks the bearer token before the handler runs.
func (s *Server) authenticated(next handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerToken(r)
		if !ok {
			s.refuse(w, r, http.StatusUnauthorized, "unauthenticated", "a bearer token is required")
			return
		}
		id, err := s.authn.Authenticate(r.Context(), token)
		switch {
		case errors.Is(err, ErrUnauthenticated):
			s.refuse(w, r, http.StatusUnauthorized, "unauthenticated", "the token was refused")
			return
		case err != nil:
			s.log.Error(err, "Cannot authenticate a request")
			s.refuse(w, r, http.StatusServiceUnavailable, "authn_unavailable", "cannot check the token now; retry")
			return
		}
		next(w, r, id)
	}
}

// admin lets only the admin subjects through.
func (s *Server) admin(next handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, id Identity) {
		if !s.admins[id.Username] {
			s.refuse(w, r, http.StatusForbidden, "forbidden", id.Username+" may not use this endpoint")
			return
		}
		next(w, r, id)
	}
}

// allowed is true for admins and for identities RBAC grants verb on resource.
func (s *Server) allowed(r *http.Request, id Identity, verb, resource, namespace string) (bool, error) {
	if s.admins[id.Username] {
		return true, nil
	}
	return s.authz.Allowed(r.Context(), id, verb, resource, namespace)
}

// route records each request's outcome and latency under a fixed route name.
func (s *Server) route(name string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		s.metrics.requests.WithLabelValues(name, http.StatusText(sw.status)).Inc()
		s.metrics.latency.WithLabelValues(name).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

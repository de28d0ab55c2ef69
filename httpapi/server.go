// Package httpapi is tagd's HTTP server: the ixkio-compatible Response API
// (GET /v1/t and its legacy alias /k) and Management API (PATCH /v1/x/…,
// /v1/a/…), the appliance API under /api/v1 (API keys, CRUD of the data
// model, import and export, scans, readers, backup; restore on the admin
// socket), /metrics, the health endpoints /healthz and /readyz, API-key
// authentication with scopes and rate limits, and the single place where
// tagd error codes become HTTP statuses (statusOf in errors.go).
//
// The package imports the root package, the standard library and the
// Prometheus client library. It declares the store interfaces it consumes
// (Checker, ManageStore, CatalogStore, ScanLister, …); cmd/tagd fills in a
// Server's fields with the real store, then hands it listeners with Serve
// and stops it with Shutdown.
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/tagd-nfc/tagd"
)

// Limits of the http.Server that Serve runs. They bound what a slow or
// hostile LAN client can hold; Shutdown still lets in-flight requests end.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 10 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 16 << 10
)

// Checker runs the check flow for one Response API request; *tagd.Checker
// satisfies it.
type Checker interface {
	// Check identifies the tag, checks the token, the status cascade and
	// the SUN message, records the scan and returns what the Response API
	// answers. Every ixkio outcome, including errors such as
	// xuid_not_found, is a Result; a non-nil error is an internal fault.
	Check(ctx context.Context, req tagd.Request) (tagd.Result, error)
}

// Server serves tagd's HTTP API. Set its fields before the first call of
// Handler, Serve or Shutdown and do not change them afterwards.
type Server struct {
	// Checker answers GET /v1/t and /k. Without one, every lookup answers
	// internal_error (and logs why).
	Checker Checker
	// Ready reports whether the appliance can serve checks (store open,
	// …); /readyz answers 503 while it returns an error. Nil means ready.
	Ready func(ctx context.Context) error
	// Now is the clock that stamps requests; nil means time.Now.
	Now func() time.Time
	// Logger receives internal errors; nil discards them.
	Logger *slog.Logger
	// Scans lists the scan log for the admin API.
	Scans ScanLister
	// Readers returns the status of the readers (nil: none).
	Readers func() []tagd.ReaderStatus

	metricsOnce sync.Once
	metricsSt   *metricsState
	// Manage is the store behind the Management API, PATCH /v1/x/{xuid}
	// and /v1/a/{aid} (manage.go); nil answers Internal Error.
	Manage ManageStore
	// Catalog is the store behind the CRUD routes of accounts, folders,
	// groups, batches and tags (catalog.go); nil answers Internal Error.
	Catalog CatalogStore
	// Auth configures API keys (auth.go).
	Auth AuthConfig

	keys keyState // API-key rate limits and last-used writes (auth.go)

	mu  sync.Mutex
	srv *http.Server
}

// Handler returns the server's routes for the loopback and LAN listeners:
// the Response and Management APIs, the health endpoints, and the
// appliance API and /metrics behind API keys (each route with its scope).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	// The lookup routes take no method in their pattern: the handler
	// answers OPTIONS itself and refuses HEAD, which the mux would
	// otherwise route to GET and so record a scan without a reply body.
	mux.HandleFunc("/v1/t", s.handleLookup)
	mux.HandleFunc("/k", s.handleLookup)
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	s.manageRoutes(mux)
	s.keyRoutes(mux) // /api/v1/identity, /api/v1/apikeys behind RequireKey (identity.go)
	s.importRoutes(mux, true)
	s.catalogRoutes(mux, true)
	s.scanRoutes(mux, true)
	mux.Handle("GET /api/v1/backup", s.RequireKey(tagd.ScopeAdmin, false, http.HandlerFunc(s.handleBackup))) // backupapi.go
	mux.Handle("GET /metrics", s.RequireKey(tagd.ScopeAdmin, false, http.HandlerFunc(s.handleMetrics)))      // metrics.go
	return s.instrument(mux)                                                                                 // request metrics (metrics.go)
}

// PublicHandler is the handler for the LAN (HTTPS): the same routes as
// Handler, every one of the appliance API behind an API key.
func (s *Server) PublicHandler() http.Handler { return s.Handler() }

// AdminHandler is the handler of the admin socket (a Unix socket in the
// data directory, mode 0660, so the file system decides who may use it):
// the admin API, for the CLI while the service runs.
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	s.scanRoutes(mux, false) // /api/v1/scans, /api/v1/readers (admin.go)
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	s.adminKeyRoutes(mux) // /api/v1/apikeys management, keyless (identity.go)
	s.importRoutes(mux, false)
	s.catalogRoutes(mux, false)
	mux.HandleFunc("GET /api/v1/backup", s.handleBackup)    // backupapi.go
	mux.HandleFunc("POST /api/v1/restore", s.handleRestore) // backupapi.go; the admin socket only
	mux.HandleFunc("GET /metrics", s.handleMetrics)         // metrics.go
	return mux
}

// Serve accepts connections on l and serves Handler on them until
// Shutdown; it may be called for several listeners (wrap one with
// tls.NewListener for HTTPS). It returns nil when Shutdown stopped it and
// the accept error otherwise.
func (s *Server) Serve(l net.Listener) error {
	err := s.httpServer().Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections, closes idle ones and waits for
// in-flight requests to finish. If ctx ends first it closes the remaining
// connections and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	srv := s.httpServer()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
		return err
	}
	return nil
}

// httpServer returns the http.Server shared by Serve and Shutdown, making
// it on first use.
func (s *Server) httpServer() *http.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		s.srv = s.NewHTTPServer(s.Handler())
	}
	return s.srv
}

// NewHTTPServer returns an http.Server for h with the server's timeouts
// and size limits, logging to the server's logger, for callers that serve
// several listeners with different handlers.
func (s *Server) NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.logger().Handler(), slog.LevelWarn),
	}
}

// logger returns Logger or a logger that discards.
func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// now returns the current time from Now or time.Now.
func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// writeJSON writes a complete JSON reply. Replies are never cached: they
// carry per-tap verdicts and counters.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/httpapi"
	"github.com/tagd-nfc/tagd/store"
	"github.com/tagd-nfc/tagd/ui"
)

// defaultDataDir is where the service keeps its state.
const defaultDataDir = "/var/lib/tagd"

// config is the file given with --config (JSON); flags override it.
type config struct {
	Data   string `json:"data"`
	HTTP   string `json:"http"`
	HTTPS  string `json:"https"`
	Reader string `json:"reader"`
	// TLSCert and TLSKey name an operator-provided certificate instead of
	// the self-signed one of the data directory.
	TLSCert string `json:"tls_cert"`
	TLSKey  string `json:"tls_key"`
	// IdleAfter is how long the kiosk shows a verdict (default 6s); Lang
	// the kiosk's language (en, fr, de).
	IdleAfter duration `json:"idle_after"`
	Lang      string   `json:"lang"`
	// DemoTaps is "off" to keep the simulated reader quiet under --demo
	// (tests present their own cards).
	DemoTaps string `json:"demo_taps"`

	// API keys: api_key_rate, api_key_burst, api_keys_per_account (apikey.go).
	apiKeyConfig
}

// duration is a time.Duration written as "6s" in the config file.
type duration time.Duration

// UnmarshalJSON parses a duration string.
func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = duration(v)
	return nil
}

// Duration returns the value as a time.Duration.
func (d duration) Duration() time.Duration { return time.Duration(d) }

// loadConfig reads a config file; "" gives the defaults.
func loadConfig(path string) (config, error) {
	c := config{Data: defaultDataDir, HTTP: "127.0.0.1:8080", HTTPS: ":8443", Reader: "auto"}
	if path == "" {
		return c, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %v", path, err)
	}
	return c, nil
}

// runCmd is `tagd run`: the appliance.
type runCmd struct {
	out, errOut io.Writer
	cfg         config
	reader      readerSpec
	demo        bool
	now         func() time.Time

	// Set by run, for tests that drive Main: the listeners' addresses,
	// closed (ready) once they accept connections.
	ready     chan struct{}
	httpAddr  string
	httpsAddr string
	events    *tagd.Events
	kiosk     *ui.Server
}

// loopbackHandler serves the kiosk page (/, /assets/, /ws) and the API on
// the loopback listener.
func (c *runCmd) loopbackHandler(api *httpapi.Server) http.Handler {
	mux := http.NewServeMux()
	h := api.Handler()
	for _, p := range []string{"/v1/", "/k", "/healthz", "/readyz", "/metrics", "/api/v1/"} {
		mux.Handle(p, h)
	}
	mux.Handle("/", c.kiosk.Handler())
	return mux
}

func (c *runCmd) parse(args []string) error {
	fs := newFlagSet("run")
	cfgPath := fs.String("config", "", "config file (JSON)")
	data := fs.String("data", "", "data directory (default: the config's, else "+defaultDataDir+")")
	reader := fs.String("reader", "", "auto|pcsc[:NAME]|serial:DEV[,line][,baud=N]|sim|none (default auto)")
	httpAddr := fs.String("http", "", "loopback HTTP address: kiosk and full API (default 127.0.0.1:8080)")
	httpsAddr := fs.String("https", "", `HTTPS address on the LAN (default :8443; "" disables)`)
	fs.BoolVar(&c.demo, "demo", false, "load the demo data into an empty data directory")
	if err := parseFlagSet(fs, args); err != nil {
		return err
	}
	if len(fs.args) > 0 {
		return usageErr("unexpected argument %q", fs.args[0])
	}
	var err error
	if c.cfg, err = loadConfig(*cfgPath); err != nil {
		return usageErr("--config: %v", err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["data"] {
		c.cfg.Data = *data
	}
	if set["reader"] {
		c.cfg.Reader = *reader
	}
	if set["http"] {
		c.cfg.HTTP = *httpAddr
	}
	if set["https"] {
		c.cfg.HTTPS = *httpsAddr
	}
	if c.reader, err = parseReaderSpec(c.cfg.Reader); err != nil {
		return usageErr("--reader: %v", err)
	}
	if c.cfg.HTTP == "" {
		return usageErr("--http: an address is required (the kiosk and full API listen there)")
	}
	if host, _, err := net.SplitHostPort(c.cfg.HTTP); err != nil {
		return usageErr("--http: %v", err)
	} else if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return usageErr("--http: %q is not a loopback address; plain HTTP is for this machine only (use --https for the LAN)", c.cfg.HTTP)
	}
	return nil
}

func (c *runCmd) run(ctx context.Context) error {
	logger := slog.New(slog.NewTextHandler(c.errOut, nil))
	if c.now == nil {
		c.now = time.Now
	}
	dir := c.cfg.Data
	if !initialized(dir) {
		key, err := initData(ctx, dir, c.now)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.out, "initialised %s\nfirst admin API key (shown once, store it now): %s\n", dir, key)
	}
	d, err := openData(dir)
	if err != nil {
		return err
	}
	db, err := d.openStore(c.now)
	if err != nil {
		return err
	}
	defer db.Close()
	if c.demo {
		loaded, err := loadDemo(ctx, db)
		if err != nil {
			return err
		}
		if loaded {
			logger.Info("demo data loaded", "account", demoAID)
		}
	}
	checker := &tagd.Checker{Store: db, Verifier: newSUNVerifier(), Now: c.now, Rand: randUint64}
	events := &tagd.Events{}
	c.events = events
	api := &httpapi.Server{Checker: checker, Ready: func(context.Context) error { return db.Err() }, Now: c.now, Logger: logger, Scans: db, Readers: events.Readers, Manage: db, Catalog: db}
	defer c.startAPIKeys(ctx, api, db, logger)() // API keys: store, limits, purge; stops after the listeners (apikey.go)
	kiosk := &ui.Server{Events: events, Now: c.now, Logger: logger, IdleAfter: c.cfg.IdleAfter.Duration(), Lang: c.cfg.Lang}
	defer kiosk.Close()
	c.kiosk = kiosk
	rd := &readers{spec: c.reader, demo: c.demo, logger: logger, checker: checker, events: events, db: db, now: c.now, demoGap: 8 * time.Second, noDemoTaps: c.cfg.DemoTaps == "off"}
	rctx, stopReaders := context.WithCancel(ctx)
	rdone := make(chan error, 1)
	go func() { rdone <- rd.run(rctx) }()
	err = c.serve(ctx, logger, api, db)
	stopReaders()
	if rerr := <-rdone; err == nil && rerr != nil {
		err = fmt.Errorf("reader: %w", rerr)
	}
	return err
}

// serve runs the listeners until ctx ends, then shuts them down, letting
// in-flight requests finish.
func (c *runCmd) serve(ctx context.Context, logger *slog.Logger, api *httpapi.Server, db *store.DB) error {
	var servers []*http.Server
	var listeners []net.Listener
	closeAll := func() {
		for _, l := range listeners {
			l.Close()
		}
	}
	hl, err := net.Listen("tcp", c.cfg.HTTP)
	if err != nil {
		return err
	}
	listeners = append(listeners, hl)
	c.httpAddr = hl.Addr().String()
	servers = append(servers, api.NewHTTPServer(c.loopbackHandler(api)))
	if c.cfg.HTTPS != "" {
		tc, err := c.tlsConfig()
		if err != nil {
			closeAll()
			return err
		}
		tl, err := net.Listen("tcp", c.cfg.HTTPS)
		if err != nil {
			closeAll()
			return err
		}
		listeners = append(listeners, tls.NewListener(tl, tc))
		c.httpsAddr = tl.Addr().String()
		servers = append(servers, api.NewHTTPServer(api.PublicHandler()))
	}
	sock := filepath.Join(c.cfg.Data, sockFile)
	os.Remove(sock)
	al, err := net.Listen("unix", sock)
	if err != nil {
		closeAll()
		return fmt.Errorf("admin socket: %w", err)
	}
	os.Chmod(sock, 0o660)
	listeners = append(listeners, al)
	servers = append(servers, api.NewHTTPServer(api.AdminHandler()))

	errc := make(chan error, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Serve(listeners[i]); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	logger.Info("tagd running", "http", c.httpAddr, "https", c.httpsAddr, "admin_socket", sock)
	fmt.Fprintf(c.out, "tagd is running.\n  kiosk:   http://%s/\n  curl:    curl 'http://%s/v1/t?x=%s'\n", c.httpAddr, c.httpAddr, demoStdXUID)
	if c.httpsAddr != "" {
		fmt.Fprintf(c.out, "  LAN:     https://%s/v1/t?x=%s (self-signed certificate in %s)\n", lanAddr(c.httpsAddr), demoStdXUID, filepath.Join(c.cfg.Data, certFile))
	}
	if c.ready != nil {
		close(c.ready)
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if c.kiosk != nil {
		c.kiosk.Close() // websockets are hijacked: Shutdown does not wait for them
	}
	for _, s := range servers {
		if err := s.Shutdown(sctx); err != nil && serveErr == nil {
			serveErr = err
		}
	}
	wg.Wait()
	os.Remove(sock)
	logger.Info("tagd stopped")
	return serveErr
}

// tlsConfig loads the operator's certificate or the data directory's
// self-signed one: TLS 1.2 and later with modern AEAD suites only.
func (c *runCmd) tlsConfig() (*tls.Config, error) {
	cert, key := c.cfg.TLSCert, c.cfg.TLSKey
	if cert == "" {
		cert, key = filepath.Join(c.cfg.Data, certFile), filepath.Join(c.cfg.Data, keyFile)
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %w", err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{pair},
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}, nil
}

// randUint64 returns a random number for the {randnum}/{randhex} subtags.
func randUint64() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

// lanAddr shows a listening address as clients on the LAN would reach it:
// an unspecified host becomes the machine's host name.
func lanAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	return net.JoinHostPort(host, port)
}

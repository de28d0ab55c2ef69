package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/tagd-nfc/tagd"
)

// dataFlag adds --data to a flag set, defaulting to the config's data
// directory.
func dataFlag(fs *flagSet) *string {
	return fs.String("data", defaultDataDir, "data directory")
}

// initCmd is `tagd init`: a new data directory.
type initCmd struct {
	out  io.Writer
	data string
	now  func() time.Time
}

func (c *initCmd) parse(args []string) error {
	fs := newFlagSet("init")
	data := dataFlag(fs)
	if err := parseFlagSet(fs, args); err != nil {
		return err
	}
	if len(fs.args) > 0 {
		return usageErr("unexpected argument %q", fs.args[0])
	}
	c.data = *data
	return nil
}

func (c *initCmd) run(ctx context.Context) error {
	if c.now == nil {
		c.now = time.Now
	}
	key, err := initData(ctx, c.data, c.now)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.out, "initialised %s: database, key-encryption key (%s, mode 0600), TLS certificate (%s)\nfirst admin API key, shown once — store it now:\n%s\n",
		c.data, filepath.Join(c.data, kekFile), filepath.Join(c.data, certFile), key)
	return err
}

// scansCmd is `tagd scans`: the scan log, newest first. It asks the
// running service over its admin socket, else opens the database itself.
type scansCmd struct {
	out  io.Writer
	data string
	last int
	json bool
	now  func() time.Time
}

func (c *scansCmd) parse(args []string) error {
	fs := newFlagSet("scans")
	data := dataFlag(fs)
	last := fs.Int("last", 20, "how many scans, newest first")
	fs.BoolVar(&c.json, "json", false, "print JSON (one array)")
	if err := parseFlagSet(fs, args); err != nil {
		return err
	}
	if len(fs.args) > 0 {
		return usageErr("unexpected argument %q", fs.args[0])
	}
	if *last < 1 || *last > 1000000 {
		return usageErr("--last: want 1 to 1000000")
	}
	c.data, c.last = *data, *last
	return nil
}

func (c *scansCmd) run(ctx context.Context) error {
	scans, err := c.fromSocket(ctx)
	if errors.Is(err, errNoService) {
		scans, err = c.fromStore(ctx)
	}
	if err != nil {
		return err
	}
	if c.json {
		if scans == nil {
			scans = []tagd.Scan{}
		}
		enc := json.NewEncoder(c.out)
		return enc.Encode(scans)
	}
	w := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "SEQ\tTIME\tSOURCE\tXUID\tCOUNTER\tAUTH\tRESPONSE/ERROR")
	for _, s := range scans {
		ctr := ""
		if s.HasCounter {
			ctr = strconv.FormatUint(uint64(s.Counter), 10)
		}
		out := s.Response
		if s.Error != "" {
			out = "error: " + s.Error
		}
		auth := s.Auth
		if s.Reason != "" {
			auth += " (" + string(s.Reason) + ")"
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Seq, s.Time.Format(time.RFC3339), s.Source, s.XUID, ctr, auth, out)
	}
	return w.Flush()
}

// errNoService says no service answers on the admin socket.
var errNoService = errors.New("no running service")

// adminClient returns an HTTP client that dials the admin socket, without
// an overall timeout (a backup may take a while).
func adminClient(sock string) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
}

// serviceRunning reports whether a service answers on the admin socket.
func serviceRunning(ctx context.Context, data string) bool {
	sock := filepath.Join(data, sockFile)
	if _, err := os.Stat(sock); err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://tagd/healthz", nil)
	resp, err := adminClient(sock).Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

// fromSocket asks the running service.
func (c *scansCmd) fromSocket(ctx context.Context) ([]tagd.Scan, error) {
	sock := filepath.Join(c.data, sockFile)
	if _, err := os.Stat(sock); err != nil {
		return nil, errNoService
	}
	cl := adminClient(sock)
	cl.Timeout = 30 * time.Second
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://tagd/api/v1/scans?last="+strconv.Itoa(c.last), nil)
	resp, err := cl.Do(req)
	if err != nil {
		return nil, errNoService // a stale socket of a stopped service
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("service: %s: %s", resp.Status, b)
	}
	var scans []tagd.Scan
	return scans, json.NewDecoder(resp.Body).Decode(&scans)
}

// fromStore opens the database directly (the service is not running).
func (c *scansCmd) fromStore(ctx context.Context) ([]tagd.Scan, error) {
	if c.now == nil {
		c.now = time.Now
	}
	d, err := openData(c.data)
	if err != nil {
		return nil, err
	}
	db, err := d.openStore(c.now)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.Scans(ctx, c.last)
}

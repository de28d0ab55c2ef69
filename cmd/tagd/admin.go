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

// serviceError is the error of a refused admin-socket request: the
// service's {"Code","Message"} as a *tagd.Error, else the status.
func serviceError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e struct{ Code, Message string }
	if json.Unmarshal(b, &e) == nil && e.Code != "" {
		return &tagd.Error{Code: tagd.Code(e.Code), Message: e.Message}
	}
	return fmt.Errorf("admin socket: %s", resp.Status)
}

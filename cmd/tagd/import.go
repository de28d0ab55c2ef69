package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// importCmd is `tagd import tags|keys FILE.csv [--batch ID] [--data DIR]`:
// all or nothing, through the running service's admin socket (the file is
// streamed), else into the database directly. Key material never appears
// in its output or errors.
type importCmd struct {
	out   io.Writer
	kind  string // "tags" or "keys"
	file  string
	batch string
	data  string
	now   func() time.Time
}

const importUsage = "usage: tagd import tags FILE.csv --batch ID [--data DIR] | tagd import keys FILE.csv [--data DIR]"

func (c *importCmd) parse(args []string) error {
	if len(args) == 0 || (args[0] != "tags" && args[0] != "keys") {
		return usageErr("%s", importUsage)
	}
	c.kind = args[0]
	fs := newFlagSet("import " + c.kind)
	data := dataFlag(fs)
	fs.StringVar(&c.batch, "batch", "", "batch the tags belong to (tags only)")
	if err := parseFlagSet(fs, args[1:]); err != nil {
		return err
	}
	if len(fs.args) != 1 {
		return usageErr("%s", importUsage)
	}
	c.file, c.data = fs.args[0], *data
	if c.kind == "tags" && c.batch == "" {
		return usageErr("--batch: tags are imported into a batch")
	}
	if c.kind == "keys" && c.batch != "" {
		return usageErr("--batch: only for tags")
	}
	return nil
}

func (c *importCmd) run(ctx context.Context) error {
	n, err := c.viaSocket(ctx)
	if errors.Is(err, errNoService) {
		n, err = c.viaStore(ctx)
	}
	if err != nil {
		return err
	}
	if c.kind == "tags" {
		_, err = fmt.Fprintf(c.out, "imported %d rows into batch %s\n", n, c.batch)
	} else {
		_, err = fmt.Fprintf(c.out, "imported the keys of %d tags\n", n)
	}
	return err
}

// open opens the file ("-": standard input).
func (c *importCmd) open() (io.ReadCloser, error) {
	if c.file == "-" {
		return io.NopCloser(os.Stdin), nil
	}
	return os.Open(c.file)
}

// viaSocket streams the file to the running service.
func (c *importCmd) viaSocket(ctx context.Context) (int, error) {
	if !serviceRunning(ctx, c.data) {
		return 0, errNoService // no socket, or a stale one of a stopped service
	}
	f, err := c.open()
	if err != nil {
		return 0, err
	}
	defer f.Close()
	cl := adminClient(filepath.Join(c.data, sockFile))
	path := "http://tagd/api/v1/import/keys"
	if c.kind == "tags" {
		path = "http://tagd/api/v1/import/tags?batch=" + url.QueryEscape(c.batch)
	}
	req, err := http.NewRequestWithContext(ctx, "POST", path, f)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "text/csv")
	resp, err := cl.Do(req)
	if err != nil {
		return 0, fmt.Errorf("admin socket: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, serviceError(resp)
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var ok struct{ Rows int }
	if err := json.Unmarshal(b, &ok); err != nil {
		return 0, fmt.Errorf("admin socket: %w", err)
	}
	return ok.Rows, nil
}

// viaStore imports into the database (the service is not running).
func (c *importCmd) viaStore(ctx context.Context) (int, error) {
	if c.now == nil {
		c.now = time.Now
	}
	f, err := c.open()
	if err != nil {
		return 0, err
	}
	defer f.Close()
	d, err := openData(c.data)
	if err != nil {
		return 0, err
	}
	db, err := d.openStore(c.now)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	if c.kind == "tags" {
		return db.ImportTagsCSV(ctx, c.batch, f)
	}
	return db.ImportKeysCSV(ctx, f)
}

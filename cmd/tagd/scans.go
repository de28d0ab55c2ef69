package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/httpapi"
)

// scansCmd is `tagd scans`: the scan log, newest first, filtered, as a
// table, JSON or CSV. It asks the running service over its admin socket,
// else opens the database itself.
type scansCmd struct {
	out  io.Writer
	data string
	q    tagd.ScanQuery
	json bool
	csv  bool
	now  func() time.Time
}

func (c *scansCmd) parse(args []string) error {
	fs := newFlagSet("scans")
	data := dataFlag(fs)
	last := fs.Int("last", 20, "how many scans, newest first (with --csv: all unless given)")
	fs.BoolVar(&c.json, "json", false, "print JSON (one array)")
	fs.BoolVar(&c.csv, "csv", false, "print CSV with a header row")
	fs.StringVar(&c.q.XUID, "xuid", "", "only the scans of this tag")
	fs.StringVar(&c.q.UID, "uid", "", "only the scans of this chip UID (hex)")
	fs.StringVar(&c.q.AID, "aid", "", "only the scans of this account")
	fs.StringVar(&c.q.Source, "source", "", `only the scans from this source: "api" or "reader:NAME"`)
	fs.StringVar(&c.q.Verdict, "verdict", "", "only pass, fail or none (no SUN check)")
	fs.StringVar(&c.q.Reason, "reason", "", "only the scans with this reason or error, such as replay or xuid_not_found")
	since := fs.String("since", "", "only scans at or after this RFC 3339 time")
	until := fs.String("until", "", "only scans before this RFC 3339 time")
	before := fs.Uint64("before", 0, "only scans with a seq below this one (the next page)")
	if err := parseFlagSet(fs, args); err != nil {
		return err
	}
	if len(fs.args) > 0 {
		return usageErr("unexpected argument %q", fs.args[0])
	}
	if c.json && c.csv {
		return usageErr("--json and --csv: choose one")
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *last < 1 || *last > tagd.MaxScanLimit {
		return usageErr("--last: want 1 to %d", tagd.MaxScanLimit)
	}
	if !c.csv || set["last"] {
		c.q.Limit = *last
	}
	for _, t := range []struct {
		name string
		val  string
		dst  *time.Time
	}{{"since", *since, &c.q.Since}, {"until", *until, &c.q.Until}} {
		if t.val == "" {
			continue
		}
		tm, err := time.Parse(time.RFC3339, t.val)
		if err != nil {
			return usageErr("--%s: want an RFC 3339 time, such as 2026-03-01T12:00:00Z", t.name)
		}
		*t.dst = tm
	}
	c.q.Before = *before
	if err := c.q.Validate(); err != nil {
		return usageErr("--%s", err.(*tagd.Error).Message)
	}
	c.data = *data
	return nil
}

func (c *scansCmd) run(ctx context.Context) error {
	if c.csv {
		err := c.csvFromSocket(ctx)
		if errors.Is(err, errNoService) {
			cw := csv.NewWriter(c.out)
			_ = cw.Write(tagd.ScanCSVHeader())
			err = c.fromStore(ctx, func(s *tagd.Scan) error { return cw.Write(s.CSVRecord()) })
			cw.Flush()
			if err == nil {
				err = cw.Error()
			}
		}
		return err
	}
	scans, err := c.fromSocket(ctx)
	if errors.Is(err, errNoService) {
		err = c.fromStore(ctx, func(s *tagd.Scan) error {
			scans = append(scans, *s)
			return nil
		})
	}
	if err != nil {
		return err
	}
	if c.json {
		if scans == nil {
			scans = []tagd.Scan{}
		}
		return json.NewEncoder(c.out).Encode(scans)
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

// get sends GET /api/v1/scans with the query in format to the running
// service; errNoService when none answers.
func (c *scansCmd) get(ctx context.Context, format string) (*http.Response, error) {
	sock := filepath.Join(c.data, sockFile)
	if _, err := os.Stat(sock); err != nil {
		return nil, errNoService
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://tagd/api/v1/scans?"+httpapi.ScanQueryValues(c.q, format).Encode(), nil)
	resp, err := adminClient(sock).Do(req)
	if err != nil {
		return nil, errNoService // a stale socket of a stopped service
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("service: %s: %s", resp.Status, b)
	}
	return resp, nil
}

// fromSocket asks the running service for the scans.
func (c *scansCmd) fromSocket(ctx context.Context) ([]tagd.Scan, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := c.get(ctx, httpapi.ScanFormatJSON)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var scans []tagd.Scan
	return scans, json.NewDecoder(resp.Body).Decode(&scans)
}

// csvFromSocket copies the running service's CSV export to the output.
func (c *scansCmd) csvFromSocket(ctx context.Context) error {
	resp, err := c.get(ctx, httpapi.ScanFormatCSV)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(c.out, resp.Body); err != nil {
		return fmt.Errorf("service: the CSV export broke off: %w", err)
	}
	return nil
}

// fromStore opens the database directly (the service is not running) and
// calls fn with each selected scan.
func (c *scansCmd) fromStore(ctx context.Context, fn func(*tagd.Scan) error) error {
	if c.now == nil {
		c.now = time.Now
	}
	d, err := openData(c.data)
	if err != nil {
		return err
	}
	db, err := d.openStore(c.now)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.EachScan(ctx, c.q, fn)
}

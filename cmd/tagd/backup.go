package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tagd-nfc/tagd/store"
)

// backupCmd is `tagd backup FILE [--data DIR]`: a hot backup of the
// database, written atomically to FILE (temporary file in FILE's
// directory, fsync, rename, fsync of the directory). It streams the backup
// from the running service over the admin socket, else reads the database
// itself.
type backupCmd struct {
	out  io.Writer
	data string
	file string
	now  func() time.Time
}

func (c *backupCmd) parse(args []string) error {
	fs := newFlagSet("backup")
	data := dataFlag(fs)
	if err := parseFlagSet(fs, args); err != nil {
		return err
	}
	if len(fs.args) != 1 {
		return usageErr("usage: tagd backup FILE [--data DIR]")
	}
	c.data, c.file = *data, fs.args[0]
	return nil
}

func (c *backupCmd) run(ctx context.Context) error {
	if c.now == nil {
		c.now = time.Now
	}
	via := "the running service"
	n, err := writeAtomic(c.file, func(w io.Writer) (int64, error) {
		n, err := c.fromSocket(ctx, w)
		if errors.Is(err, errNoService) {
			via = "the database"
			n, err = c.fromStore(ctx, w)
		}
		return n, err
	})
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	_, err = fmt.Fprintf(c.out, "backup of %s written to %s (%d bytes, from %s)\n", filepath.Join(c.data, dbFile), c.file, n, via)
	return err
}

// fromSocket streams GET /api/v1/backup of the running service to w. It
// is errNoService, before anything was written, when none answers.
func (c *backupCmd) fromSocket(ctx context.Context, w io.Writer) (int64, error) {
	sock := filepath.Join(c.data, sockFile)
	if _, err := os.Stat(sock); err != nil {
		return 0, errNoService
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://tagd/api/v1/backup", nil)
	resp, err := adminClient(sock).Do(req)
	if err != nil {
		return 0, errNoService // a stale socket of a stopped service
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, fmt.Errorf("service: %s: %s", resp.Status, b)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("service: %w", err)
	}
	if want, perr := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64); perr == nil && n != want {
		return n, fmt.Errorf("service: the backup ended after %d of %d bytes", n, want)
	}
	return n, nil
}

// fromStore opens the database itself (the service is not running).
func (c *backupCmd) fromStore(ctx context.Context, w io.Writer) (int64, error) {
	d, err := openData(c.data)
	if err != nil {
		return 0, err
	}
	db, err := d.openStore(c.now)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return db.Backup(ctx, w)
}

// writeAtomic writes path through fill: into a temporary file of mode
// 0600 in path's directory, fsynced, renamed over path, and the directory
// fsynced. On failure path is untouched and the temporary file removed.
func writeAtomic(path string, fill func(io.Writer) (int64, error)) (int64, error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	n, err := fill(f)
	if err != nil {
		return n, err
	}
	if err := f.Sync(); err != nil {
		return n, err
	}
	if err := f.Close(); err != nil {
		return n, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return n, err
	}
	ok = true
	d, err := os.Open(dir)
	if err != nil {
		return n, err
	}
	defer d.Close()
	return n, d.Sync()
}

// restoreCmd is `tagd restore FILE [--data DIR]`: it replaces the database
// of the data directory with a backup, keeping the old one as tagd.db.bak.
// While the service runs it sends the backup over the admin socket and the
// service swaps its database in place (taps wait a moment, nothing
// restarts); otherwise it replaces the file itself. Either way it refuses
// (leaving everything as it was) a file that is not a complete tagd
// database, has an unknown schema version, was made under another
// key-encryption key (another appliance's backup: restore that
// appliance's whole data directory, kek included, instead) or fails the
// consistency check.
type restoreCmd struct {
	out  io.Writer
	data string
	file string
}

func (c *restoreCmd) parse(args []string) error {
	fs := newFlagSet("restore")
	data := dataFlag(fs)
	if err := parseFlagSet(fs, args); err != nil {
		return err
	}
	if len(fs.args) != 1 {
		return usageErr("usage: tagd restore FILE [--data DIR]")
	}
	c.data, c.file = *data, fs.args[0]
	return nil
}

func (c *restoreCmd) run(ctx context.Context) error {
	db := filepath.Join(c.data, dbFile)
	if serviceRunning(ctx, c.data) {
		if err := c.viaSocket(ctx); err != nil {
			return fmt.Errorf("restore: %s: %w", c.file, err)
		}
		_, err := fmt.Fprintf(c.out, "restored %s into the running service's %s; the previous database is kept as %s.bak\n", c.file, db, db)
		return err
	}
	d, err := openData(c.data)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := store.Restore(ctx, db, c.file, d.kek); err != nil {
		return fmt.Errorf("restore: %s: %w", c.file, err)
	}
	_, err = fmt.Fprintf(c.out, "restored %s into %s; the previous database is kept as %s.bak\n", c.file, db, db)
	return err
}

// viaSocket sends the backup to the running service (POST /api/v1/restore
// on the admin socket).
func (c *restoreCmd) viaSocket(ctx context.Context) error {
	f, err := os.Open(c.file)
	if err != nil {
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return err
	} else if !fi.Mode().IsRegular() {
		return fmt.Errorf("not a regular file")
	}
	req, err := http.NewRequestWithContext(ctx, "POST", "http://tagd/api/v1/restore", f)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := adminClient(filepath.Join(c.data, sockFile)).Do(req)
	if err != nil {
		return fmt.Errorf("service: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return serviceError(resp)
	}
	return nil
}

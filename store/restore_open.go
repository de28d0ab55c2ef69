package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// RestoreFrom replaces the contents of the open database with the backup
// read from r, while the store stays in use, and returns the backup's
// size. The backup is first copied next to the database and checked as
// VerifyBackup does (complete, tagd's schema, this database's KEK,
// consistent); a backup that fails is refused with CodeInvalid and
// nothing changes. Then taps and writes wait, reads finish, the journal is
// folded, the current file is kept as path+".bak" (replacing an older
// one), the copy is renamed over it and the database is reopened: every
// answer after RestoreFrom returns comes from the backup. Acknowledged taps
// and changes made after the backup was taken are gone with it; counters
// go back to the backup's, so a tap seen since then would verify again.
func (db *DB) RestoreFrom(ctx context.Context, r io.Reader) (int64, error) {
	dir := filepath.Dir(db.path)
	tmp, n, err := receiveBackup(dir, r)
	if err != nil {
		return 0, err
	}
	installed := false
	defer func() {
		if !installed {
			os.Remove(tmp)
		}
	}()
	if err := verifySealed(ctx, tmp, db.aead); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}

	j := &db.j
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return 0, errors.New("store: database closed")
	}
	if err := db.foldLocked(); err != nil {
		return 0, err
	}
	db.swap.Lock()
	defer db.swap.Unlock()
	if err := keepOld(db.path, db.path+".bak"); err != nil {
		return 0, fmt.Errorf("store: restore: keep the current database as %s.bak: %w", db.path, err)
	}
	if err := db.bolt.Close(); err != nil {
		return 0, fmt.Errorf("store: restore: close: %w", err)
	}
	if err := os.Rename(tmp, db.path); err != nil {
		// the old file is still in place: open it again
		return 0, errors.Join(fmt.Errorf("store: restore: %w", err), db.openBolt())
	}
	installed = true
	if err := syncDir(dir); err != nil {
		return 0, errors.Join(err, db.openBolt())
	}
	if err := db.openBolt(); err != nil {
		// The checked copy does not open: put the old database back.
		err = fmt.Errorf("store: restore: open the restored database: %w", err)
		if rerr := os.Rename(db.path+".bak", db.path); rerr != nil {
			return 0, errors.Join(err, rerr)
		}
		return 0, errors.Join(err, db.openBolt())
	}
	// Everything cached was read from the old file.
	db.live.clear()
	db.groupsChanged()
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		j.seq = bkt(tx, bucketScans).Sequence()
		return nil
	}); err != nil {
		return 0, fmt.Errorf("store: restore: %w", err)
	}
	return n, nil
}

// receiveBackup copies r into a new file of mode 0600 in dir, fsynced, and
// returns its path and size.
func receiveBackup(dir string, r io.Reader) (string, int64, error) {
	out, err := os.CreateTemp(dir, ".tagd-restore-*.db")
	if err != nil {
		return "", 0, fmt.Errorf("store: restore: %w", err)
	}
	name := out.Name()
	n, err := io.Copy(out, r)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", 0, fmt.Errorf("store: restore: receive the backup: %w", err)
	}
	return name, n, nil
}

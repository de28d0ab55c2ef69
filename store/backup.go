package store

import (
	"context"
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the database file to w while the
// database stays in use, and returns the number of bytes written. The copy
// opens with Open and the same KEK. It holds a read transaction for the
// duration, so the file may grow while a slow reader drains it.
func (db *DB) Backup(ctx context.Context, w io.Writer) (int64, error) {
	return db.BackupTo(ctx, w, nil)
}

// BackupTo is Backup that first tells start, if not nil, the exact size of
// the copy it is about to write (for Content-Length), from inside the read
// transaction that the copy is taken from. Writes taken before BackupTo
// began its transaction are in the copy; later ones are not. The copy stops
// with ctx's error when ctx ends.
func (db *DB) BackupTo(ctx context.Context, w io.Writer, start func(size int64)) (int64, error) {
	var n int64
	err := db.view(ctx, func(tx *bolt.Tx) error {
		if start != nil {
			start(tx.Size())
		}
		var err error
		n, err = tx.WriteTo(ctxWriter{ctx: ctx, w: w})
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			return fmt.Errorf("backup: %w", err)
		}
		return nil
	})
	return n, err
}

// ScanLogSize returns the number of entries in the scan log (for metrics).
func (db *DB) ScanLogSize(ctx context.Context) (int, error) {
	var n int
	err := db.view(ctx, func(tx *bolt.Tx) error {
		n = bkt(tx, bucketScans).Stats().KeyN
		return nil
	})
	return n, err
}

// ctxWriter fails writes once ctx has ended, so that a backup to a stalled
// or abandoned writer does not pin its read transaction for long.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

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
	var n int64
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		return nil
	})
	return n, err
}

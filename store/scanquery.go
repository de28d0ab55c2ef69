package store

import (
	"context"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
)

// scanCtxEvery is how many scan-log entries EachScan reads between two
// looks at its context.
const scanCtxEvery = 1024

// EachScan calls fn with every scan of the log that q selects, newest
// first, at most q.Limit of them (all when 0), from one read transaction:
// a consistent view however long fn takes, and nothing held in memory but
// the scan at hand. It starts below the cursor q.Before when set, and
// stops at the first error of fn, which it returns. It is CodeInvalid
// (Field naming the parameter) when q does not validate. The *Scan is
// fn's to keep.
//
// Time bounds are checked on every entry: the log is in sequence order,
// and a clock set back (a Pi without a real-time clock, before NTP) may
// have stamped a later entry with an earlier time.
func (db *DB) EachScan(ctx context.Context, q tagd.ScanQuery, fn func(*tagd.Scan) error) error {
	if err := q.Validate(); err != nil {
		return err
	}
	return db.view(ctx, func(tx *bolt.Tx) error {
		c := bkt(tx, bucketScans).Cursor()
		var k, v []byte
		if q.Before != 0 {
			// the first key >= Before, then one back: the newest key < Before
			if k, _ = c.Seek(seqKey(q.Before)); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		} else {
			k, v = c.Last()
		}
		n, read := 0, 0
		for ; k != nil; k, v = c.Prev() {
			if read++; read%scanCtxEvery == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			s, err := decodeScan(v)
			if err != nil {
				return err
			}
			if !q.Match(s) {
				continue
			}
			if err := fn(s); err != nil {
				return err
			}
			if n++; q.Limit > 0 && n >= q.Limit {
				return nil
			}
		}
		return nil
	})
}

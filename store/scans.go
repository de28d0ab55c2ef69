package store

import (
	"context"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
)

// AppendScan appends s, a scan that concerns no known tag (or an inactive
// one), to the scan log and returns it with its Seq, and Time set to now
// when zero. The scan is durable before AppendScan returns (journaled like
// a tap; concurrent appends and taps share one sync).
func (db *DB) AppendScan(ctx context.Context, s tagd.Scan) (tagd.Scan, error) {
	if err := ctx.Err(); err != nil {
		return tagd.Scan{}, err
	}
	if s.Time.IsZero() {
		s.Time = db.now()
	}
	j := &db.j
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return tagd.Scan{}, j.err
	}
	s.Seq = j.seq + 1
	data, err := encode(&s)
	if err != nil {
		return tagd.Scan{}, err
	}
	j.seq++
	j.appendRecord(&journalRecord{kind: recScan, seq: s.Seq, scan: data})
	j.scans = append(j.scans, pendingScan{seq: s.Seq, data: data})
	j.pending.Store(int64(len(j.scans)))
	if err := db.commit(j.gen); err != nil {
		return tagd.Scan{}, err
	}
	return s, nil
}

// Scans returns the last scans of the log, newest first. It is
// CodeInvalid (Field "last") unless last is positive.
func (db *DB) Scans(ctx context.Context, last int) ([]tagd.Scan, error) {
	if last <= 0 {
		return nil, invalid("last", "the number of scans must be positive")
	}
	var out []tagd.Scan
	err := db.view(ctx, func(tx *bolt.Tx) error {
		out = out[:0]
		c := bkt(tx, bucketScans).Cursor()
		for k, v := c.Last(); k != nil && len(out) < last; k, v = c.Prev() {
			s, err := decodeScan(v)
			if err != nil {
				return err
			}
			out = append(out, *s)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// prune deletes the scans older than the last ScanRetention sequence
// numbers. After each append that is at most one entry; after the
// retention was lowered it is everything beyond it, once.
func (db *DB) prune(b *bolt.Bucket) error {
	seq := b.Sequence()
	if seq <= db.retention {
		return nil
	}
	cutoff := seqKey(seq - db.retention) // delete keys <= cutoff
	c := b.Cursor()
	for k, _ := c.First(); k != nil && string(k) <= string(cutoff); k, _ = c.First() {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

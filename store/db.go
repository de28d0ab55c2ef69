package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Defaults of Options.
const (
	// DefaultTimeout is how long Open waits for the file lock.
	DefaultTimeout = time.Second
	// DefaultScanRetention is the number of scan-log entries kept.
	DefaultScanRetention = 1_000_000
)

// Options configure Open.
type Options struct {
	// KEK is the 32-byte key-encryption key that seals key material at
	// rest. Required. Open does not keep the slice.
	KEK []byte
	// Now is the clock used for creation times and scan times; nil means
	// time.Now.
	Now func() time.Time
	// NoSync skips fsync on commit. It is for tests ONLY: with it, a power
	// cut can lose or corrupt committed data, and RecordTap no longer
	// keeps its durability promise.
	NoSync bool
	// Timeout is how long Open waits for the file lock held by another
	// process before giving up; zero means DefaultTimeout.
	Timeout time.Duration
	// ScanRetention is the number of scan-log entries kept; the oldest are
	// pruned in the write that appends a new one. Zero means
	// DefaultScanRetention.
	ScanRetention int
}

// DB is an open store. It is safe for concurrent use.
type DB struct {
	bolt      *bolt.DB
	aead      cipher.AEAD
	now       func() time.Time
	retention uint64
	// commits queues the RecordTap and AppendScan writes for group commit.
	commits committer
	// groupGen counts group and group-key writes; profiles caches
	// SUNProfiles for one generation.
	groupGen atomic.Uint64
	profiles atomic.Pointer[profileCache]
	// records caches decoded accounts, folders, groups and batches.
	records recordCache
}

// Open opens (creating if needed) the database at path with mode 0600,
// migrates its schema to the current version and checks that opts.KEK is
// the database's key-encryption key.
func Open(path string, opts Options) (*DB, error) {
	if len(opts.KEK) != 32 {
		return nil, &tagd.Error{Code: tagd.CodeInvalid, Field: "kek", Message: fmt.Sprintf("the key-encryption key must be 32 bytes, not %d", len(opts.KEK))}
	}
	if opts.ScanRetention < 0 {
		return nil, &tagd.Error{Code: tagd.CodeInvalid, Field: "scan_retention", Message: "scan retention must not be negative"}
	}
	block, err := aes.NewCipher(opts.KEK)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	db := &DB{aead: aead, now: opts.Now, retention: uint64(opts.ScanRetention)}
	if db.now == nil {
		db.now = time.Now
	}
	if db.retention == 0 {
		db.retention = DefaultScanRetention
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	// InitialMmapSize: a commit that has to grow the mapping waits for
	// every open read transaction, and a hot backup holds one for the whole
	// download; mapping 64 MiB up front (address space, not memory) keeps
	// taps flowing during a backup of a database up to that size.
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, InitialMmapSize: 64 << 20})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, tagd.Errorf(tagd.CodeConflict, "database %s is locked by another process (gave up after %s): is tagd already running? Use its admin socket or stop it first", path, timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	b.NoSync = opts.NoSync
	db.bolt = b
	if err := b.Update(db.setup); err != nil {
		b.Close()
		var te *tagd.Error
		if errors.As(err, &te) {
			return nil, err
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.startCommitter()
	return db, nil
}

// Close closes the database. Calls in flight finish first; calls after
// Close fail.
func (db *DB) Close() error {
	db.stopCommitter()
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// view runs fn in a read transaction after checking ctx.
func (db *DB) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return wrap(db.bolt.View(fn))
}

// update runs fn in a write transaction of its own after checking ctx.
func (db *DB) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return wrap(db.bolt.Update(fn))
}

// groupCommit runs fn, which must be idempotent with respect to everything
// outside its transaction, in a durable write transaction that it shares
// with the writes queued at the same time: one fsync for all of them. A
// committer goroutine takes whatever queued while the previous commit was
// syncing and commits it as one batch, so there is no fixed delay (unlike
// bbolt's Batch) and no caller ever waits for batches other than the one
// before its own.
func (db *DB) groupCommit(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := &commitCall{fn: fn, done: make(chan struct{})}
	q := &db.commits
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return fmt.Errorf("store: database closed")
	}
	q.queue = append(q.queue, c)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default: // the committer is already awake
	}
	<-c.done
	return wrap(c.err)
}

// committer is the group-commit queue and its goroutine.
type committer struct {
	mu       sync.Mutex
	queue    []*commitCall
	closed   bool
	wake     chan struct{} // capacity 1: "there is work"
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{} // closed when the goroutine has ended
}

// commitCall is one queued write.
type commitCall struct {
	fn   func(*bolt.Tx) error
	err  error
	done chan struct{}
}

// startCommitter starts the committer goroutine; stopCommitter ends it.
func (db *DB) startCommitter() {
	q := &db.commits
	q.wake, q.stop, q.done = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	go db.commitLoop()
}

// commitLoop commits the queue batch by batch until stopped; on stop it
// commits what is queued and refuses new writes.
func (db *DB) commitLoop() {
	q := &db.commits
	defer close(q.done)
	for {
		stopping := false
		select {
		case <-q.wake:
		case <-q.stop:
			stopping = true
		}
		for {
			q.mu.Lock()
			batch := q.queue
			q.queue = nil
			if stopping && len(batch) == 0 {
				q.closed = true
			}
			q.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			db.commitBatch(batch)
		}
		if stopping {
			return
		}
	}
}

// stopCommitter commits what is queued and stops the committer.
func (db *DB) stopCommitter() {
	q := &db.commits
	if q.stop == nil {
		return
	}
	q.stopOnce.Do(func() { close(q.stop) })
	<-q.done
}

// commitBatch runs the calls in one transaction. When one of them fails,
// the transaction is rolled back, the failing call is run alone to get its
// own result, and the others are committed again without it.
func (db *DB) commitBatch(batch []*commitCall) {
	for len(batch) > 0 {
		failed := -1
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			for i, c := range batch {
				if err := c.fn(tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, c := range batch {
				c.err = err // nil, or the commit's own failure
				close(c.done)
			}
			return
		}
		c := batch[failed]
		c.err = db.bolt.Update(c.fn)
		close(c.done)
		batch = append(batch[:failed:failed], batch[failed+1:]...)
	}
}

// wrap passes *tagd.Error and context errors through and prefixes
// everything else (bbolt and decoding errors, all CodeInternal) with
// "store: ".
func wrap(err error) error {
	var te *tagd.Error
	if err == nil || errors.As(err, &te) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("store: %w", err)
}

// invalid returns a CodeInvalid error about field.
func invalid(field, format string, args ...any) *tagd.Error {
	return &tagd.Error{Code: tagd.CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// conflict returns a CodeConflict error about field.
func conflict(field, format string, args ...any) *tagd.Error {
	return &tagd.Error{Code: tagd.CodeConflict, Field: field, Message: fmt.Sprintf(format, args...)}
}

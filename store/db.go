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
	// j is the tap journal (journal.go): taps and scans are durable in it
	// before they reach the bbolt file.
	j journal
	// live holds the tap states and views the check flow reads (live.go).
	live live
	// groupGen counts group and group-key writes; profiles caches
	// SUNProfiles for one generation.
	groupGen atomic.Uint64
	profiles atomic.Pointer[profileCache]
	// records caches decoded accounts, folders, groups and batches.
	records recordCache

	// path is the database file; bopts how it is opened (RestoreFrom
	// reopens it).
	path  string
	bopts *bolt.Options
	// swap guards db.bolt: every use holds it for reading, RestoreFrom
	// for writing while it replaces the file. Taken after j.mu, never
	// before it.
	swap sync.RWMutex
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
	db := &DB{aead: aead, now: opts.Now, retention: uint64(opts.ScanRetention), path: path}
	if db.now == nil {
		db.now = time.Now
	}
	if db.retention == 0 {
		db.retention = DefaultScanRetention
	}
	if err := checkJournal(path + journalSuffix); err != nil {
		return nil, err
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	// InitialMmapSize: a commit that has to grow the mapping waits for
	// every open read transaction, and a hot backup holds one for the whole
	// download; mapping 64 MiB up front (address space, not memory) keeps
	// taps flowing during a backup of a database up to that size.
	db.bopts = &bolt.Options{Timeout: timeout, InitialMmapSize: 64 << 20, NoSync: opts.NoSync}
	if err := db.openBolt(); err != nil {
		return nil, err
	}
	if err := db.openJournal(path+journalSuffix, opts.NoSync); err != nil {
		db.bolt.Close()
		return nil, err
	}
	return db, nil
}

// openBolt opens the bbolt file at db.path and migrates its schema.
func (db *DB) openBolt() error {
	b, err := bolt.Open(db.path, 0o600, db.bopts)
	if errors.Is(err, berrors.ErrTimeout) {
		return tagd.Errorf(tagd.CodeConflict, "database %s is locked by another process (gave up after %s): is tagd already running? Use its admin socket or stop it first", db.path, db.bopts.Timeout)
	}
	if err != nil {
		return fmt.Errorf("store: open %s: %w", db.path, err)
	}
	b.NoSync = db.bopts.NoSync
	if err := b.Update(db.setup); err != nil {
		b.Close()
		var te *tagd.Error
		if errors.As(err, &te) {
			return err
		}
		return fmt.Errorf("store: open %s: %w", db.path, err)
	}
	db.bolt = b
	return nil
}

// Close closes the database. Calls in flight finish first; calls after
// Close fail.
func (db *DB) Close() error {
	jerr := db.closeJournal()
	db.swap.Lock()
	defer db.swap.Unlock()
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return jerr
}

// view runs fn in a read transaction after checking ctx. What the journal
// holds is folded into the bbolt file first, so fn sees every
// acknowledged tap and scan.
func (db *DB) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := db.fold(); err != nil {
		return err
	}
	db.swap.RLock()
	defer db.swap.RUnlock()
	return wrap(db.bolt.View(fn))
}

// viewLive is view without the fold, for the check flow's reads: a tag's
// counters may then be behind the journal (the tap path reads them from
// the journal's overlay) and the newest scans may not be in the log yet.
func (db *DB) viewLive(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	db.swap.RLock()
	defer db.swap.RUnlock()
	return wrap(db.bolt.View(fn))
}

// update runs fn in a write transaction of its own after checking ctx.
// Taps wait meanwhile: the journal is folded first and the tap states kept
// in memory are dropped, since fn may change any tag.
func (db *DB) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j := &db.j
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := db.foldLocked(); err != nil {
		return err
	}
	if j.closed {
		return fmt.Errorf("store: database closed")
	}
	db.swap.RLock()
	err := db.bolt.Update(fn)
	db.swap.RUnlock()
	db.live.clear()
	return wrap(err)
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

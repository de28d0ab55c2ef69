package store_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/store"
	bolt "go.etcd.io/bbolt"
)

// TestOpenNew creates a database: file mode 0600, schema version 1,
// every bucket, no accounts.
func TestOpenNew(t *testing.T) {
	db := openDB(t)
	if n, err := db.CountAccounts(context.Background()); err != nil || n != 0 {
		t.Fatalf("CountAccounts = %d, %v", n, err)
	}
	fi, err := os.Stat(db.path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
	}
	db.raw(t, func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte("meta")).Get([]byte("version"))
		if binary.BigEndian.Uint64(v) != store.SchemaVersion {
			t.Errorf("version %x", v)
		}
		for _, b := range []string{"meta", "accounts", "folders", "groups", "batches", "tags", "idx_uid", "idx_uid_any", "idx_cuid", "keys", "scans"} {
			if tx.Bucket([]byte(b)) == nil {
				t.Errorf("no bucket %s", b)
			}
		}
		return nil
	})
}

// TestOpenFutureVersion refuses a database written by a newer tagd, and
// leaves it untouched.
func TestOpenFutureVersion(t *testing.T) {
	db := openDB(t)
	fixture(t, db)
	db.raw(t, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("version"), binary.BigEndian.AppendUint64(nil, store.SchemaVersion+1))
	})
	before, _ := os.ReadFile(db.path)
	_, err := store.Open(db.path, db.opts)
	wantInternal(t, err, "newer than this tagd supports")
	if !strings.Contains(err.Error(), "schema version 2") {
		t.Errorf("error %q does not name the version", err)
	}
	after, _ := os.ReadFile(db.path)
	if !bytes.Equal(before, after) {
		t.Error("a refused Open changed the file")
	}
}

// TestOpenGarbageVersion refuses a meta version that is not 8 bytes.
func TestOpenGarbageVersion(t *testing.T) {
	db := openDB(t)
	db.raw(t, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("version"), []byte("one"))
	})
	_, err := store.Open(db.path, db.opts)
	wantInternal(t, err, "schema version")
}

// TestOpenMigratesOldFile opens a bbolt file with only some buckets and no
// version (as a version-0 file would be): Open migrates it to version 1.
func TestOpenMigratesOldFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("tags"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	db, err := store.Open(path, store.Options{KEK: testKEK(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestOpenLocked opens a database that is already open: the second Open
// gives up after its timeout with a clear conflict error.
func TestOpenLocked(t *testing.T) {
	db := openDB(t)
	opts := db.opts
	opts.Timeout = 100 * time.Millisecond
	start := time.Now()
	_, err := store.Open(db.path, opts)
	wantCode(t, err, tagd.CodeConflict, "")
	if !strings.Contains(err.Error(), "locked by another process") || !strings.Contains(err.Error(), db.path) {
		t.Errorf("unclear error %q", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %v", d)
	}
}

// TestOpenBadPath fails clearly on a directory that does not exist.
func TestOpenBadPath(t *testing.T) {
	_, err := store.Open(filepath.Join(t.TempDir(), "no", "such", "dir", "tagd.db"), store.Options{KEK: testKEK()})
	if err == nil || tagd.ErrorCode(err) != tagd.CodeInternal || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open in a missing directory: %v", err)
	}
}

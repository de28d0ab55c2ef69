package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// verifyTimeout bounds how long VerifyBackup and Restore wait for the
// file lock of their private copy (nobody else knows it, so this only
// guards against the unexpected).
const verifyTimeout = time.Second

// VerifyBackup checks, without changing path, that the file at path is a
// database that Restore would accept for a data directory whose
// key-encryption key is kek: a complete bbolt file (not truncated), of a
// schema version this tagd knows, whose sealed KEK check value opens with
// kek (a backup of another appliance or data directory is refused), and on
// which Check passes. It works on a private copy in the system's temporary
// directory, opened read-only.
func VerifyBackup(ctx context.Context, path string, kek []byte) error {
	tmp, err := copyToTemp(path, os.TempDir())
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	return verifyFile(ctx, tmp, kek)
}

// Restore replaces the database at dbPath with the backup at src after
// checking the backup as VerifyBackup does. It refuses (CodeConflict)
// while another process, such as the running service, has dbPath open. It
// copies src next to dbPath, checks the copy, keeps the current database as
// dbPath+".bak" (replacing an older .bak), renames the copy over dbPath and
// fsyncs the directory. A journal of the current database moves with it
// to dbPath+".bak"+".journal". When it refuses or fails before that rename, the
// database at dbPath is untouched.
func Restore(ctx context.Context, dbPath, src string, kek []byte) error {
	dir := filepath.Dir(dbPath)
	unlock, err := lockFile(dbPath)
	if err != nil {
		return err
	}
	defer unlock()
	tmp, err := copyToTemp(src, dir)
	if err != nil {
		return err
	}
	installed := false
	defer func() {
		if !installed {
			os.Remove(tmp)
		}
	}()
	if err := verifyFile(ctx, tmp, kek); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := os.Stat(dbPath); err == nil {
		if err := keepOld(dbPath, dbPath+".bak"); err != nil {
			return fmt.Errorf("store: restore: keep the current database as %s.bak: %w", dbPath, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("store: restore: %w", err)
	}
	// The journal of taps not yet folded (after a crash) belongs to the
	// database being replaced: it goes with it, where opening the .bak
	// replays it, and never onto the restored one.
	if err := os.Rename(dbPath+journalSuffix, dbPath+".bak"+journalSuffix); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("store: restore: %w", err)
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	installed = true
	return syncDir(dir)
}

// lockFile takes bbolt's exclusive file lock on path without waiting, so
// that neither the service nor another command opens the database while it
// is being replaced; a missing file needs no lock.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return func() {}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: restore: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, tagd.Errorf(tagd.CodeConflict, "database %s is in use by another process (is tagd running?): stop the service first", path)
		}
		return nil, fmt.Errorf("store: restore: lock %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// keepOld makes bak a copy of the current database: a hard link when the
// file system has them, else a synced copy; either way bak appears
// atomically.
func keepOld(path, bak string) error {
	tmpBak := bak + ".tmp"
	os.Remove(tmpBak)
	if err := os.Link(path, tmpBak); err != nil {
		if err := copyFile(path, tmpBak); err != nil {
			os.Remove(tmpBak)
			return err
		}
	}
	if err := os.Rename(tmpBak, bak); err != nil {
		os.Remove(tmpBak)
		return err
	}
	return nil
}

// copyToTemp copies src to a new file of mode 0600 in dir, fsynced, and
// returns its path.
func copyToTemp(src, dir string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", invalidBackup("%v", err)
	}
	defer in.Close()
	if fi, err := in.Stat(); err != nil {
		return "", invalidBackup("%v", err)
	} else if !fi.Mode().IsRegular() {
		return "", invalidBackup("%s is not a regular file", src)
	}
	name, _, err := receiveBackup(dir, in)
	return name, err
}

// copyFile copies src to the new file dst (mode 0600) and fsyncs it.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir fsyncs a directory so that renames in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("store: restore: sync %s: %w", dir, err)
	}
	return nil
}

// invalidBackup is the error of a file that is not a usable tagd database.
func invalidBackup(format string, args ...any) *tagd.Error {
	return &tagd.Error{Code: tagd.CodeInvalid, Field: "file", Message: "not a complete tagd database: " + fmt.Sprintf(format, args...)}
}

// verifyFile checks a private copy of a backup, opened read-only (it is
// never written).
func verifyFile(ctx context.Context, path string, kek []byte) (err error) {
	if len(kek) != 32 {
		return &tagd.Error{Code: tagd.CodeInvalid, Field: "kek", Message: fmt.Sprintf("the key-encryption key must be 32 bytes, not %d", len(kek))}
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return verifySealed(ctx, path, aead)
}

// verifySealed is verifyFile with the KEK's cipher.
func verifySealed(ctx context.Context, path string, aead cipher.AEAD) (err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	if fi.Size() == 0 {
		return invalidBackup("the file is empty")
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: verifyTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return fmt.Errorf("store: restore: the copy of the backup is locked: %w", err)
	}
	if err != nil {
		return invalidBackup("%v", err)
	}
	defer b.Close()
	defer func() {
		// bbolt panics on some corrupt pages; a backup file is input.
		if p := recover(); p != nil {
			err = invalidBackup("%v", p)
		}
	}()
	vdb := &DB{bolt: b, aead: aead, now: time.Now, retention: DefaultScanRetention}
	err = b.View(func(tx *bolt.Tx) error {
		// A backup is exactly tx.Size() bytes; a shorter file lost pages
		// that the last transaction uses (reading them would fault).
		if need := tx.Size(); fi.Size() < need {
			return invalidBackup("the file has %d bytes but its last transaction needs %d (truncated?)", fi.Size(), need)
		}
		meta := bkt(tx, bucketMeta)
		if meta == nil {
			return invalidBackup("a bbolt file without tagd's meta bucket")
		}
		version, err := decodeVersion(meta.Get([]byte(metaVersion)))
		if err != nil {
			return invalidBackup("%v", err)
		}
		if version == 0 || version > SchemaVersion {
			return invalidBackup("unknown schema version %d (this tagd knows 1 to %d)", version, SchemaVersion)
		}
		for _, name := range allBuckets() {
			if bkt(tx, name) == nil {
				return invalidBackup("schema version %d database without bucket %s", version, name)
			}
		}
		sealed := meta.Get([]byte(metaKEKCheck))
		if sealed == nil {
			return invalidBackup("no key-encryption key check value")
		}
		plain, err := vdb.open(kekCheckID, sealed)
		if err != nil || string(plain) != kekCheckPayload {
			return &tagd.Error{Code: tagd.CodeInvalid, Field: "file", Message: "the backup was made with another key-encryption key (another appliance or data directory): its key material would not decrypt here, so it is refused"}
		}
		return nil
	})
	if err != nil {
		var te *tagd.Error
		if errors.As(err, &te) {
			return err
		}
		return invalidBackup("%v", err)
	}
	if err := vdb.Check(ctx); err != nil {
		var ce *CheckError
		if errors.As(err, &ce) {
			return &tagd.Error{Code: tagd.CodeInvalid, Field: "file", Message: "the backup fails the consistency check: " + ce.Error()}
		}
		return err
	}
	return nil
}

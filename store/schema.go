package store

import (
	"encoding/binary"
	"fmt"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the version of the database layout this code reads and
// writes. Open migrates older databases and refuses newer ones.
const SchemaVersion = 1

// Bucket names and meta keys.
const (
	bucketMeta     = "meta"
	bucketAccounts = "accounts"
	bucketFolders  = "folders"
	bucketGroups   = "groups"
	bucketBatches  = "batches"
	bucketTags     = "tags"
	bucketUID      = "idx_uid"
	bucketUIDAny   = "idx_uid_any"
	bucketCUID     = "idx_cuid"
	bucketKeys     = "keys"
	bucketScans    = "scans"
	bucketAPIKeys  = "apikeys"

	metaVersion  = "version"
	metaKEKCheck = "kek_check"
	// kekCheckID is the record id (additional data) of the KEK check
	// value, and kekCheckPayload its plaintext.
	kekCheckID      = "meta:kek_check"
	kekCheckPayload = "tagd key-encryption key check v1"
)

// bkt returns the named bucket of tx. Open makes sure that every bucket
// exists, and nothing deletes one.
func bkt(tx *bolt.Tx, name string) *bolt.Bucket { return tx.Bucket([]byte(name)) }

// allBuckets lists the buckets that schema version 1 has.
func allBuckets() []string {
	return []string{bucketMeta, bucketAccounts, bucketFolders, bucketGroups, bucketBatches, bucketTags, bucketUID, bucketUIDAny, bucketCUID, bucketKeys, bucketScans, bucketAPIKeys}
}

// migration moves a database from one schema version to the next inside
// the write transaction of Open.
type migration func(tx *bolt.Tx) error

// migrations returns the migrations by the version they start from:
// migrations()[v] moves a database from version v to v+1. Version 0 is an
// empty file.
func migrations() []migration {
	return []migration{
		0: func(tx *bolt.Tx) error {
			for _, name := range allBuckets() {
				if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
					return fmt.Errorf("create bucket %s: %w", name, err)
				}
			}
			return nil
		},
	}
}

// setup runs in Open's write transaction: it migrates the schema, checks
// that every bucket is there, checks (or, on a new database, stores) the
// KEK check value and prunes the scan log to the retention.
func (db *DB) setup(tx *bolt.Tx) error {
	var version uint64
	if meta := bkt(tx, bucketMeta); meta != nil {
		v, err := decodeVersion(meta.Get([]byte(metaVersion)))
		if err != nil {
			return err
		}
		version = v
	}
	if version > SchemaVersion {
		return tagd.Errorf(tagd.CodeInternal, "the database has schema version %d, newer than this tagd supports (%d): upgrade tagd or restore a backup made by this version", version, SchemaVersion)
	}
	ms := migrations()
	if len(ms) != SchemaVersion {
		return fmt.Errorf("%d migrations for schema version %d", len(ms), SchemaVersion)
	}
	for v := version; v < SchemaVersion; v++ {
		if err := ms[v](tx); err != nil {
			return fmt.Errorf("migrate schema from version %d to %d: %w", v, v+1, err)
		}
		if err := bkt(tx, bucketMeta).Put([]byte(metaVersion), encodeVersion(v+1)); err != nil {
			return err
		}
	}
	for _, name := range allBuckets() {
		if bkt(tx, name) == nil {
			return fmt.Errorf("schema version %d database has no bucket %s", SchemaVersion, name)
		}
	}
	meta := bkt(tx, bucketMeta)
	if sealed := meta.Get([]byte(metaKEKCheck)); sealed != nil {
		plain, err := db.open(kekCheckID, sealed)
		if err != nil {
			return err
		}
		if string(plain) != kekCheckPayload {
			return errKEK(kekCheckID)
		}
	} else {
		sealed, err := db.seal(kekCheckID, []byte(kekCheckPayload))
		if err != nil {
			return err
		}
		if err := meta.Put([]byte(metaKEKCheck), sealed); err != nil {
			return err
		}
	}
	return db.prune(bkt(tx, bucketScans))
}

// encodeVersion encodes a schema version.
func encodeVersion(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// decodeVersion decodes a stored schema version; nil (no version yet) is
// version 0.
func decodeVersion(b []byte) (uint64, error) {
	if b == nil {
		return 0, nil
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("decode schema version: %d bytes, want 8", len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

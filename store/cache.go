package store

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
)

// recordCache keeps decoded records that change rarely (accounts,
// folders, groups, batches) with the bytes they were decoded from. A read
// still fetches the bytes in its transaction, so it is as consistent as
// before; only when they are the bytes seen last time is the JSON decoding
// skipped. No invalidation is needed: a changed record has other bytes.
type recordCache struct {
	mu sync.Mutex
	m  map[string]cachedRecord
}

// cachedRecord is one decoded record and its stored bytes.
type cachedRecord struct {
	raw []byte
	val any
}

// maxCachedRecords bounds the cache; beyond it, it starts afresh.
const maxCachedRecords = 4096

// getCached is get with the record cache: it returns a copy of the cached
// value when the stored bytes are unchanged.
func getCached[T any](c *recordCache, tx *bolt.Tx, bucket, key string, dec func([]byte) (*T, error)) (*T, error) {
	data := bkt(tx, bucket).Get([]byte(key))
	if data == nil {
		return nil, nil
	}
	ck := bucket + "\x00" + key
	c.mu.Lock()
	e, ok := c.m[ck]
	c.mu.Unlock()
	if ok && bytes.Equal(e.raw, data) {
		v := *(e.val.(*T)) // a copy: callers may change what they get
		return &v, nil
	}
	v, err := dec(data)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", bucket, key, err)
	}
	keep := *v
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedRecords {
		c.m = map[string]cachedRecord{}
	}
	c.m[ck] = cachedRecord{raw: bytes.Clone(data), val: &keep}
	c.mu.Unlock()
	return v, nil
}

// getTagCached is getTag through the record cache, for the check flow's
// reads: the tag's maps and slices are shared and must not be changed.
func getTagCached(db *DB, tx *bolt.Tx, xuid string) (*tagd.Tag, error) {
	t, err := getCached(&db.records, tx, bucketTags, xuid, decodeTag)
	if err == nil && t == nil {
		err = tagd.NotFound("xuid", "tag %q not found", xuid)
	}
	return t, err
}

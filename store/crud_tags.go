package store

import (
	"bytes"
	"context"
	"fmt"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
)

// MaxTagPage is the most tags one call of Tags returns.
const MaxTagPage = 1000

// Tags returns up to limit tags (1 to MaxTagPage) of batch batchID ("":
// of every batch) within account aid ("": of every account), in XUID order
// starting after the XUID after ("": from the first). next is the XUID to
// pass as after for the next page, "" when there are no more.
func (db *DB) Tags(ctx context.Context, aid, batchID, after string, limit int) (tags []tagd.Tag, next string, err error) {
	if limit < 1 || limit > MaxTagPage {
		return nil, "", invalid("limit", "limit must be 1 to %d", MaxTagPage)
	}
	var needles [][]byte
	for _, p := range [][2]string{{"aid", aid}, {"batch_id", batchID}} {
		if p[1] != "" {
			n, err := jsonPair(p[0], p[1])
			if err != nil {
				return nil, "", err
			}
			needles = append(needles, n)
		}
	}
	err = db.view(ctx, func(tx *bolt.Tx) error {
		tags, next = []tagd.Tag{}, ""
		c := bkt(tx, bucketTags).Cursor()
		k, v := c.First()
		if after != "" {
			k, v = c.Seek([]byte(after))
			if k != nil && string(k) == after {
				k, v = c.Next()
			}
		}
		for i := 0; k != nil; k, v = c.Next() {
			if i++; i%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if !containsAll(v, needles) {
				continue
			}
			t, err := decodeTag(v)
			if err != nil {
				return fmt.Errorf("tags %q: %w", k, err)
			}
			if (aid != "" && t.AID != aid) || (batchID != "" && t.BatchID != batchID) {
				continue
			}
			if len(tags) == limit {
				next = tags[len(tags)-1].XUID
				return nil
			}
			tags = append(tags, *t)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return tags, next, nil
}

// containsAll reports whether b contains every needle.
func containsAll(b []byte, needles [][]byte) bool {
	for _, n := range needles {
		if !bytes.Contains(b, n) {
			return false
		}
	}
	return true
}

// PatchTag changes tag xuid as UpdateTag does (fn inside the write
// transaction, its error returned as is, the indexes kept in step, the
// XUID and the account fixed; nothing is stored on any error), except
// that the tag may move only to another batch of the same folder (ixkio:
// Tag Codes move between the Batches of one Active Folder).
func (db *DB) PatchTag(ctx context.Context, xuid string, fn func(*tagd.Tag) error) error {
	return db.changeTag(ctx, xuid, fn, func(tx *bolt.Tx, old, nt *tagd.Tag) error {
		from, err := batchFolder(tx, old.BatchID)
		if err != nil {
			return err
		}
		to, err := batchFolder(tx, nt.BatchID)
		if err != nil {
			return err
		}
		if from != to {
			return invalid("batch_id", "a tag moves only between the batches of its folder")
		}
		return nil
	})
}

// DeleteTag deletes tag xuid, its UID and CUID index entries and its own
// keys. It is CodeNotFound with Field "xuid" when there is no such tag.
// The scan log keeps the tag's scans.
func (db *DB) DeleteTag(ctx context.Context, xuid string) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		t, err := getTag(tx, xuid)
		if err != nil {
			return err
		}
		if err := removeIndexes(tx, t); err != nil {
			return err
		}
		if err := db.putKeys(tx, tagKeyID(xuid), tagd.Keys{}); err != nil { // deletes the key record
			return err
		}
		return bkt(tx, bucketTags).Delete([]byte(xuid))
	})
}

// batchFolder returns the ID of the folder that batch id is in. A missing
// batch is CodeNotFound with Field "batch_id".
func batchFolder(tx *bolt.Tx, id string) (string, error) {
	b, err := getBatch(tx, id)
	if err != nil {
		return "", err
	}
	g, err := get(tx, bucketGroups, b.GroupID, decodeGroup)
	if err != nil {
		return "", err
	}
	if g == nil {
		return "", fmt.Errorf("batch %q: group %q is missing", b.ID, b.GroupID)
	}
	return g.FolderID, nil
}

package store

import (
	"context"
	"fmt"
	"maps"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
)

// CreateTag stores a new tag in an existing batch, with its own keys (nil
// for none). It assigns a random 8-character XUID when t.XUID is empty,
// takes the AID from the batch's account (a different t.AID is
// CodeInvalid), stores the UID in uppercase, defaults Status to Active and
// CreatedAt to now, and sets *t to what was stored. It is CodeConflict
// when the XUID exists, or when the UID or CUID is taken in the account.
func (db *DB) CreateTag(ctx context.Context, t *tagd.Tag, k *tagd.Keys) error {
	nt := *t
	generated := nt.XUID == ""
	if generated {
		nt.XUID = newID(8)
	}
	if err := checkTag(&nt); err != nil {
		return err
	}
	if k != nil {
		if emptyKeys(*k) {
			return invalid("keys", "no key given (pass nil keys for a tag without keys of its own)")
		}
		if err := validateKeys(*k); err != nil {
			return err
		}
	}
	if nt.CreatedAt.IsZero() {
		nt.CreatedAt = db.now()
	}
	err := db.update(ctx, func(tx *bolt.Tx) error {
		tags := bkt(tx, bucketTags)
		for generated && tags.Get([]byte(nt.XUID)) != nil {
			nt.XUID = newID(8)
		}
		if tags.Get([]byte(nt.XUID)) != nil {
			return conflict("xuid", "tag %q exists", nt.XUID)
		}
		aid, err := batchAccount(tx, nt.BatchID)
		if err != nil {
			return err
		}
		if nt.AID == "" {
			nt.AID = aid
		} else if nt.AID != aid {
			return invalid("aid", "batch %q belongs to account %q, not %q", nt.BatchID, aid, nt.AID)
		}
		if err := addIndexes(tx, &nt); err != nil {
			return err
		}
		if err := put(tx, bucketTags, nt.XUID, &nt); err != nil {
			return err
		}
		if k != nil {
			return db.putKeys(tx, tagKeyID(nt.XUID), *k)
		}
		return nil
	})
	if err == nil {
		*t = nt
	}
	return err
}

// UpdateTag atomically reads tag xuid, applies fn to it and stores the
// result, keeping the UID and CUID indexes in step. fn runs inside the
// write transaction: it must not call the DB. An error from fn is returned
// as is. The XUID and AID cannot change; the batch may change within the
// account.
func (db *DB) UpdateTag(ctx context.Context, xuid string, fn func(*tagd.Tag) error) error {
	return db.changeTag(ctx, xuid, fn, func(tx *bolt.Tx, _, nt *tagd.Tag) error {
		aid, err := batchAccount(tx, nt.BatchID)
		if err != nil {
			return err
		}
		if aid != nt.AID {
			return invalid("batch_id", "batch %q belongs to another account", nt.BatchID)
		}
		return nil
	})
}

// changeTag is the read-modify-write that UpdateTag and PatchTag share. In
// one write transaction it reads tag xuid, applies fn to an independent
// copy, refuses a changed XUID or AID, checks the result, runs move when
// the batch changed, and stores the tag, keeping the UID and CUID indexes
// in step. An error from fn is returned as is; nothing is stored on any
// error.
func (db *DB) changeTag(ctx context.Context, xuid string, fn func(*tagd.Tag) error, move func(tx *bolt.Tx, old, nt *tagd.Tag) error) error {
	var fnErr error
	err := db.update(ctx, func(tx *bolt.Tx) error {
		old, err := getTag(tx, xuid)
		if err != nil {
			return err
		}
		nt, err := getTag(tx, xuid) // a second, independent copy for fn
		if err != nil {
			return err
		}
		if err := fn(nt); err != nil {
			fnErr = err
			return err
		}
		if nt.XUID != old.XUID {
			return invalid("xuid", "the XUID of a tag cannot change")
		}
		if nt.AID != old.AID {
			return invalid("aid", "the account of a tag cannot change")
		}
		if err := checkTag(nt); err != nil {
			return err
		}
		if nt.BatchID != old.BatchID {
			if err := move(tx, old, nt); err != nil {
				return err
			}
		}
		if nt.UID != old.UID || nt.CUID != old.CUID {
			if err := removeIndexes(tx, old); err != nil {
				return err
			}
			if err := addIndexes(tx, nt); err != nil {
				return err
			}
		}
		return put(tx, bucketTags, nt.XUID, nt)
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

// SetTagKeys replaces the keys of tag xuid; nil removes them.
func (db *DB) SetTagKeys(ctx context.Context, xuid string, k *tagd.Keys) error {
	var keys tagd.Keys
	if k != nil {
		if emptyKeys(*k) {
			return invalid("keys", "no key given (pass nil to remove the tag's keys)")
		}
		if err := validateKeys(*k); err != nil {
			return err
		}
		keys = *k
	}
	return db.update(ctx, func(tx *bolt.Tx) error {
		if _, err := getTag(tx, xuid); err != nil {
			return err
		}
		return db.putKeys(tx, tagKeyID(xuid), keys)
	})
}

// Tag returns the tag xuid.
func (db *DB) Tag(ctx context.Context, xuid string) (*tagd.Tag, error) {
	var t *tagd.Tag
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		t, err = getTag(tx, xuid)
		return err
	})
	return t, err
}

// TagKeys returns the decrypted keys of tag xuid; ok is false when the tag
// has none of its own. It is CodeNotFound with Field "xuid" when the tag
// does not exist.
func (db *DB) TagKeys(ctx context.Context, xuid string) (k tagd.Keys, ok bool, err error) {
	err = db.viewLive(ctx, func(tx *bolt.Tx) error {
		if bkt(tx, bucketTags).Get([]byte(xuid)) == nil {
			return tagd.NotFound("xuid", "tag %q not found", xuid)
		}
		k, ok, err = db.getKeys(tx, tagKeyID(xuid))
		return err
	})
	return k, ok, err
}

// getTag reads tag xuid; CodeNotFound with Field "xuid" when it does not
// exist.
func getTag(tx *bolt.Tx, xuid string) (*tagd.Tag, error) {
	t, err := get(tx, bucketTags, xuid, decodeTag)
	if err == nil && t == nil {
		err = tagd.NotFound("xuid", "tag %q not found", xuid)
	}
	return t, err
}

// batchAccount returns the AID of the account that batch id belongs to,
// through its group and folder. A missing batch is CodeNotFound with Field
// "batch_id"; a broken chain above it is an internal error.
func batchAccount(tx *bolt.Tx, id string) (string, error) {
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
	f, err := get(tx, bucketFolders, g.FolderID, decodeFolder)
	if err != nil {
		return "", err
	}
	if f == nil {
		return "", fmt.Errorf("group %q: folder %q is missing", g.ID, g.FolderID)
	}
	return f.AID, nil
}

// addIndexes adds the UID and CUID index entries of t, CodeConflict when
// another tag of the account holds its UID or CUID.
func addIndexes(tx *bolt.Tx, t *tagd.Tag) error {
	if t.UID != "" {
		k := indexKey(t.AID, t.UID)
		idx := bkt(tx, bucketUID)
		if v := idx.Get(k); v != nil && string(v) != t.XUID {
			return conflict("uid", "UID %s is already used by tag %s in account %q", t.UID, v, t.AID)
		}
		if err := idx.Put(k, []byte(t.XUID)); err != nil {
			return err
		}
		if err := bkt(tx, bucketUIDAny).Put(indexKey(t.UID, t.AID), []byte(t.XUID)); err != nil {
			return err
		}
	}
	if t.CUID != "" {
		k := indexKey(t.AID, t.CUID)
		idx := bkt(tx, bucketCUID)
		if v := idx.Get(k); v != nil && string(v) != t.XUID {
			return conflict("cuid", "CUID %q is already used by tag %s in account %q", t.CUID, v, t.AID)
		}
		if err := idx.Put(k, []byte(t.XUID)); err != nil {
			return err
		}
	}
	return nil
}

// removeIndexes removes the UID and CUID index entries that point to t.
func removeIndexes(tx *bolt.Tx, t *tagd.Tag) error {
	del := func(bucket string, k []byte) error {
		b := bkt(tx, bucket)
		if v := b.Get(k); v != nil && string(v) == t.XUID {
			return b.Delete(k)
		}
		return nil
	}
	if t.UID != "" {
		if err := del(bucketUID, indexKey(t.AID, t.UID)); err != nil {
			return err
		}
		if err := del(bucketUIDAny, indexKey(t.UID, t.AID)); err != nil {
			return err
		}
	}
	if t.CUID != "" {
		return del(bucketCUID, indexKey(t.AID, t.CUID))
	}
	return nil
}

// cloneTag returns a deep copy of t.
func cloneTag(t *tagd.Tag) *tagd.Tag {
	c := *t
	c.Extended = maps.Clone(t.Extended)
	if t.Ruleset != nil {
		c.Ruleset = cloneRuleset(t.Ruleset)
	}
	return &c
}

// cloneRuleset returns a deep copy of r.
func cloneRuleset(r *tagd.Ruleset) *tagd.Ruleset {
	c := *r
	if r.Groups != nil {
		c.Groups = make([]tagd.RuleGroup, len(r.Groups))
		for i, g := range r.Groups {
			c.Groups[i] = g
			c.Groups[i].Rules = append([]tagd.Rule(nil), g.Rules...)
		}
	}
	return &c
}

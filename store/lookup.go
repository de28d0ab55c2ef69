package store

import (
	"bytes"
	"context"
	"fmt"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
)

// FindTag returns the tag named by l with the batch, group, folder and
// account above it, read in one transaction. l names the tag by XUID (the
// AID is then ignored), else by AID and CUID, else by AID and UID (in any
// case). It is CodeNotFound with Field "xuid", "aid", "cuid" or "uid" for
// whatever was not found, and CodeInvalid (Field "lookup") when l names
// nothing.
func (db *DB) FindTag(ctx context.Context, l tagd.Lookup) (*tagd.TagView, error) {
	key := lookupKey(l)
	if v, ok := db.live.view(key); ok && key != "" {
		return v, nil
	}
	epoch := db.live.current()
	var v *tagd.TagView
	err := db.viewLive(ctx, func(tx *bolt.Tx) error {
		var xuid string
		switch {
		case l.XUID != "":
			xuid = l.XUID
		case l.AID != "" && l.CUID != "":
			if _, err := getAccount(tx, l.AID); err != nil {
				return err
			}
			x := bkt(tx, bucketCUID).Get(indexKey(l.AID, l.CUID))
			if x == nil {
				return tagd.NotFound("cuid", "no tag with CUID %q in account %q", l.CUID, l.AID)
			}
			xuid = string(x)
		case l.AID != "" && l.UID != "":
			if _, err := getAccount(tx, l.AID); err != nil {
				return err
			}
			uid, ok := normUID(l.UID)
			var x []byte
			if ok {
				x = bkt(tx, bucketUID).Get(indexKey(l.AID, uid))
			}
			if x == nil {
				return tagd.NotFound("uid", "no tag with UID %q in account %q", l.UID, l.AID)
			}
			xuid = string(x)
		default:
			return invalid("lookup", "a lookup needs an XUID, or an AID with a CUID or a UID")
		}
		t, err := getTagCached(db, tx, xuid)
		if err != nil {
			return err
		}
		v, err = db.loadView(tx, t)
		return err
	})
	if err != nil {
		return nil, err
	}
	return db.keepView(key, v, epoch), nil
}

// FindTagByUID returns the tag with the given chip UID (in any case) in
// whichever account holds it. It is CodeNotFound with Field "uid" when no
// account does, and CodeConflict with Field "uid" when several do.
func (db *DB) FindTagByUID(ctx context.Context, uid string) (*tagd.TagView, error) {
	u, ok := normUID(uid)
	if !ok {
		return nil, tagd.NotFound("uid", "no tag with UID %q", uid)
	}
	key := "U\x00" + u
	if v, ok := db.live.view(key); ok {
		return v, nil
	}
	epoch := db.live.current()
	var v *tagd.TagView
	err := db.viewLive(ctx, func(tx *bolt.Tx) error {
		prefix := indexKey(u, "")
		var xuids []string
		c := bkt(tx, bucketUIDAny).Cursor()
		for k, x := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, x = c.Next() {
			xuids = append(xuids, string(x))
		}
		switch len(xuids) {
		case 0:
			return tagd.NotFound("uid", "no tag with UID %s", u)
		case 1:
		default:
			return conflict("uid", "UID %s is held by tags in %d accounts; name the account", u, len(xuids))
		}
		t, err := getTagCached(db, tx, xuids[0])
		if err != nil {
			return err
		}
		v, err = db.loadView(tx, t)
		return err
	})
	if err != nil {
		return nil, err
	}
	return db.keepView(key, v, epoch), nil
}

// lookupKey is the key of a lookup's view in the live views: "" for a
// lookup that names nothing.
func lookupKey(l tagd.Lookup) string {
	switch {
	case l.XUID != "":
		return "x\x00" + l.XUID
	case l.AID != "" && l.CUID != "":
		return "c\x00" + l.AID + "\x00" + l.CUID
	case l.AID != "" && l.UID != "":
		if u, ok := normUID(l.UID); ok {
			return "u\x00" + l.AID + "\x00" + u
		}
	}
	return ""
}

// keepView keeps v, read from the bbolt file, among the live views under
// key (when the live state was not cleared since epoch) and returns it
// with its tag's latest tap state.
func (db *DB) keepView(key string, v *tagd.TagView, epoch uint64) *tagd.TagView {
	if key != "" {
		db.live.putView(key, v, epoch)
	}
	if st, ok := db.live.state(v.Tag.XUID); ok {
		st.apply(&v.Tag)
	}
	return v
}

// loadView reads everything above t. A missing record is an internal
// error: the database is inconsistent (Check reports it).
//
// The batch, group, folder and account come from the record cache: the
// view is a copy, but its maps and slices (rulesets, fields, extended data)
// are shared with other views and must be treated as read-only.
func (db *DB) loadView(tx *bolt.Tx, t *tagd.Tag) (*tagd.TagView, error) {
	v := &tagd.TagView{Tag: *t}
	b, err := above(db, tx, bucketBatches, "batch", t.BatchID, "tag", t.XUID, decodeBatch)
	if err != nil {
		return nil, err
	}
	g, err := above(db, tx, bucketGroups, "group", b.GroupID, "batch", b.ID, decodeGroup)
	if err != nil {
		return nil, err
	}
	f, err := above(db, tx, bucketFolders, "folder", g.FolderID, "group", g.ID, decodeFolder)
	if err != nil {
		return nil, err
	}
	a, err := above(db, tx, bucketAccounts, "account", f.AID, "folder", f.ID, decodeAccount)
	if err != nil {
		return nil, err
	}
	v.Batch, v.Group, v.Folder, v.Account = *b, *g, *f, *a
	return v, nil
}

// above reads record id of bucket (a kind), which record childID (a
// childKind) hangs from, through the record cache; a missing one is an
// internal error (the database is inconsistent), worded as Check words it.
func above[T any](db *DB, tx *bolt.Tx, bucket, kind, id, childKind, childID string, dec func([]byte) (*T, error)) (*T, error) {
	v, err := getCached(&db.records, tx, bucket, id, dec)
	if err == nil && v == nil {
		err = fmt.Errorf("%s %q: %s %q is missing", childKind, childID, kind, id)
	}
	return v, err
}

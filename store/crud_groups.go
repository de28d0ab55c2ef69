package store

import (
	"context"
	"maps"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
)

// Groups returns the tag groups of folder folderID ("": of every folder)
// within account aid ("": of every account), by ID.
func (db *DB) Groups(ctx context.Context, aid, folderID string) ([]tagd.TagGroup, error) {
	var out []tagd.TagGroup
	err := db.view(ctx, func(tx *bolt.Tx) error {
		inAccount, err := folderSet(tx, aid)
		if err != nil {
			return err
		}
		out, err = list(tx, bucketGroups, decodeGroup, func(g *tagd.TagGroup) bool {
			return (folderID == "" || g.FolderID == folderID) && (inAccount == nil || inAccount[g.FolderID])
		})
		return err
	})
	return out, err
}

// PatchGroup atomically reads tag group id, applies fn to it, checks the
// result and stores it with Rev incremented; when k is not nil it also
// replaces the group's keys with *k (an empty *k removes them), in the
// same transaction. fn runs inside the write transaction: it must not
// call the DB. An error from fn is returned as is, and nothing is stored
// on any error. Unlike UpdateGroup, the ID, the folder (ixkio: a tag group
// cannot leave its Active Folder) and the type cannot change, and only an
// authentication group holds keys.
func (db *DB) PatchGroup(ctx context.Context, id string, fn func(*tagd.TagGroup) error, k *tagd.Keys) error {
	if k != nil {
		if err := validateKeys(*k); err != nil {
			return err
		}
	}
	check := func(_ *bolt.Tx, old, ng *tagd.TagGroup) error {
		switch {
		case ng.FolderID != old.FolderID:
			return invalid("folder_id", "a tag group cannot leave its folder")
		case ng.Type != old.Type:
			return invalid("type", "the type of a tag group cannot change")
		}
		if err := checkGroup(ng); err != nil {
			return err
		}
		ng.Extended = maps.Clone(ng.Extended)
		return nil
	}
	var then func(*bolt.Tx, *tagd.TagGroup) error
	if k != nil {
		then = func(tx *bolt.Tx, ng *tagd.TagGroup) error {
			if ng.Type != tagd.GroupAuthentication && !emptyKeys(*k) {
				return invalid("keys", "only authentication groups hold keys")
			}
			return db.putKeys(tx, groupKeyID(ng.ID), *k)
		}
	}
	return db.changeGroup(ctx, id, fn, check, then)
}

// DeleteGroup deletes tag group id and its keys. It is CodeNotFound when
// there is no such group, and CodeConflict while batches are in it.
func (db *DB) DeleteGroup(ctx context.Context, id string) error {
	defer db.groupsChanged() // after the commit
	return db.update(ctx, func(tx *bolt.Tx) error {
		if _, err := getGroup(tx, id); err != nil {
			return err
		}
		n, err := countChildren(tx, bucketBatches, "group_id", id, decodeBatch, func(b *tagd.Batch) string { return b.GroupID })
		if err != nil {
			return err
		}
		if err := refuseChildren("tag group", id, n, "batch", "batches"); err != nil {
			return err
		}
		if err := db.putKeys(tx, groupKeyID(id), tagd.Keys{}); err != nil { // deletes the key record
			return err
		}
		return bkt(tx, bucketGroups).Delete([]byte(id))
	})
}

// folderSet returns the IDs of the folders of account aid, or nil when
// aid is "" (every folder).
func folderSet(tx *bolt.Tx, aid string) (map[string]bool, error) {
	if aid == "" {
		return nil, nil
	}
	fs, err := list(tx, bucketFolders, decodeFolder, func(f *tagd.Folder) bool { return f.AID == aid })
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(fs))
	for _, f := range fs {
		set[f.ID] = true
	}
	return set, nil
}

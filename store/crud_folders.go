package store

import (
	"context"
	"slices"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
)

// Folders returns the folders of account aid ("": of every account), by
// ID.
func (db *DB) Folders(ctx context.Context, aid string) ([]tagd.Folder, error) {
	var out []tagd.Folder
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		out, err = list(tx, bucketFolders, decodeFolder, func(f *tagd.Folder) bool { return aid == "" || f.AID == aid })
		return err
	})
	return out, err
}

// UpdateFolder atomically reads folder id, applies fn to it, checks the
// result and stores it. fn runs inside the write transaction: it must not
// call the DB. An error from fn is returned as is, and nothing is stored
// on any error. The ID and the account cannot change.
func (db *DB) UpdateFolder(ctx context.Context, id string, fn func(*tagd.Folder) error) error {
	var fnErr error
	err := db.update(ctx, func(tx *bolt.Tx) error {
		old, err := getFolder(tx, id)
		if err != nil {
			return err
		}
		nf := *old
		nf.TokenHash = slices.Clone(old.TokenHash)
		nf.Fields = slices.Clone(old.Fields)
		if err := fn(&nf); err != nil {
			fnErr = err
			return err
		}
		if nf.ID != old.ID {
			return invalid("id", "the id of a folder cannot change")
		}
		if nf.AID != old.AID {
			return invalid("aid", "a folder cannot move to another account")
		}
		if err := checkFolder(&nf); err != nil {
			return err
		}
		return put(tx, bucketFolders, nf.ID, &nf)
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

// DeleteFolder deletes folder id. It is CodeNotFound when there is no
// such folder, and CodeConflict while tag groups are in it.
func (db *DB) DeleteFolder(ctx context.Context, id string) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		if _, err := getFolder(tx, id); err != nil {
			return err
		}
		n, err := countChildren(tx, bucketGroups, "folder_id", id, decodeGroup, func(g *tagd.TagGroup) string { return g.FolderID })
		if err != nil {
			return err
		}
		if err := refuseChildren("folder", id, n, "tag group", "tag groups"); err != nil {
			return err
		}
		return bkt(tx, bucketFolders).Delete([]byte(id))
	})
}

package store

import (
	"context"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
)

// Batches returns the batches of tag group groupID ("": of every group)
// within account aid ("": of every account), by ID.
func (db *DB) Batches(ctx context.Context, aid, groupID string) ([]tagd.Batch, error) {
	var out []tagd.Batch
	err := db.view(ctx, func(tx *bolt.Tx) error {
		inAccount, err := groupSet(tx, aid)
		if err != nil {
			return err
		}
		out, err = list(tx, bucketBatches, decodeBatch, func(b *tagd.Batch) bool {
			return (groupID == "" || b.GroupID == groupID) && (inAccount == nil || inAccount[b.GroupID])
		})
		return err
	})
	return out, err
}

// UpdateBatch atomically reads batch id, applies fn to it, checks the
// result and stores it. fn runs inside the write transaction: it must not
// call the DB. An error from fn is returned as is, and nothing is stored
// on any error. The ID cannot change; the batch may move to another tag
// group of the same folder and type (ixkio: batches move between the Tag
// Groups of one Active Folder), and its tags then follow the new group's
// rules.
func (db *DB) UpdateBatch(ctx context.Context, id string, fn func(*tagd.Batch) error) error {
	var fnErr error
	err := db.update(ctx, func(tx *bolt.Tx) error {
		old, err := getBatch(tx, id)
		if err != nil {
			return err
		}
		nb := *old
		if err := fn(&nb); err != nil {
			fnErr = err
			return err
		}
		if nb.ID != old.ID {
			return invalid("id", "the id of a batch cannot change")
		}
		if err := checkBatch(&nb); err != nil {
			return err
		}
		if nb.GroupID != old.GroupID {
			from, err := getGroup(tx, old.GroupID)
			if err != nil {
				return err
			}
			to, err := getGroup(tx, nb.GroupID)
			if err != nil {
				return err
			}
			if from.FolderID != to.FolderID {
				return invalid("group_id", "a batch moves only between the tag groups of its folder")
			}
			if from.Type != to.Type {
				return invalid("group_id", "a batch cannot move between a %s and an %s group", from.Type, to.Type)
			}
		}
		return put(tx, bucketBatches, nb.ID, &nb)
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

// DeleteBatch deletes batch id. It is CodeNotFound when there is no such
// batch, and CodeConflict while tags are in it.
func (db *DB) DeleteBatch(ctx context.Context, id string) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		if _, err := getBatch(tx, id); err != nil {
			return err
		}
		n, err := countChildren(tx, bucketTags, "batch_id", id, decodeTag, func(t *tagd.Tag) string { return t.BatchID })
		if err != nil {
			return err
		}
		if err := refuseChildren("batch", id, n, "tag", "tags"); err != nil {
			return err
		}
		return bkt(tx, bucketBatches).Delete([]byte(id))
	})
}

// checkBatch checks a batch (not its group) and defaults its status, as
// CreateBatch does.
func checkBatch(b *tagd.Batch) error {
	if err := checkID("id", b.ID); err != nil {
		return err
	}
	if err := checkID("group_id", b.GroupID); err != nil {
		return err
	}
	if err := checkText("name", b.Name, maxNameLen); err != nil {
		return err
	}
	return checkStatus(&b.Status, tagd.StatusActive, tagd.StatusActive, tagd.StatusInactive)
}

// groupSet returns the IDs of the tag groups of account aid, or nil when
// aid is "" (every group).
func groupSet(tx *bolt.Tx, aid string) (map[string]bool, error) {
	folders, err := folderSet(tx, aid)
	if folders == nil || err != nil {
		return nil, err
	}
	gs, err := list(tx, bucketGroups, decodeGroup, func(g *tagd.TagGroup) bool { return folders[g.FolderID] })
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(gs))
	for _, g := range gs {
		set[g.ID] = true
	}
	return set, nil
}

package store

import (
	"context"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
)

// CreateGroup stores a new tag group in an existing folder, with its keys
// (none when k is empty). It assigns g.ID when empty, defaults Status to
// active, sets Rev to 1, and sets *g to what was stored. It is
// CodeConflict when the ID exists.
func (db *DB) CreateGroup(ctx context.Context, g *tagd.TagGroup, k tagd.Keys) error {
	defer db.groupsChanged() // after the commit
	ng := *g
	generated := ng.ID == ""
	if generated {
		ng.ID = newID(12)
	}
	if err := checkGroup(&ng); err != nil {
		return err
	}
	if err := validateKeys(k); err != nil {
		return err
	}
	ng.Rev = 1
	err := db.update(ctx, func(tx *bolt.Tx) error {
		if _, err := getFolder(tx, ng.FolderID); err != nil {
			return err
		}
		b := bkt(tx, bucketGroups)
		for generated && b.Get([]byte(ng.ID)) != nil {
			ng.ID = newID(12)
		}
		if b.Get([]byte(ng.ID)) != nil {
			return conflict("id", "group %q exists", ng.ID)
		}
		if err := put(tx, bucketGroups, ng.ID, &ng); err != nil {
			return err
		}
		return db.putKeys(tx, groupKeyID(ng.ID), k)
	})
	if err == nil {
		*g = ng
	}
	return err
}

// UpdateGroup atomically reads group id, applies fn to it and stores the
// result with Rev incremented. fn runs inside the write transaction: it
// must not call the DB. An error from fn is returned as is. The ID cannot
// change; the folder may change only within the same account.
func (db *DB) UpdateGroup(ctx context.Context, id string, fn func(*tagd.TagGroup) error) error {
	return db.changeGroup(ctx, id, fn, func(tx *bolt.Tx, old, ng *tagd.TagGroup) error {
		if err := checkGroup(ng); err != nil {
			return err
		}
		if ng.FolderID == old.FolderID {
			return nil
		}
		from, err := getFolder(tx, old.FolderID)
		if err != nil {
			return err
		}
		to, err := getFolder(tx, ng.FolderID)
		if err != nil {
			return err
		}
		if from.AID != to.AID {
			return invalid("folder_id", "a group cannot move to a folder of another account")
		}
		return nil
	}, nil)
}

// changeGroup is the read-modify-write that UpdateGroup and PatchGroup
// share. In one write transaction it reads group id, applies fn to an
// independent copy, refuses a changed ID, runs check (the caller's rules,
// checkGroup among them), stores the result with Rev incremented and
// then runs then, when not nil. An error from fn is returned as is;
// nothing is stored on any error. The SUNProfiles cache is invalidated
// after the commit.
func (db *DB) changeGroup(ctx context.Context, id string, fn func(*tagd.TagGroup) error,
	check func(tx *bolt.Tx, old, ng *tagd.TagGroup) error, then func(tx *bolt.Tx, ng *tagd.TagGroup) error) error {
	defer db.groupsChanged() // after the commit
	var fnErr error
	err := db.update(ctx, func(tx *bolt.Tx) error {
		old, err := getGroup(tx, id)
		if err != nil {
			return err
		}
		ng, err := getGroup(tx, id) // a second, independent copy for fn
		if err != nil {
			return err
		}
		if err := fn(ng); err != nil {
			fnErr = err
			return err
		}
		if ng.ID != old.ID {
			return invalid("id", "the id of a group cannot change")
		}
		if err := check(tx, old, ng); err != nil {
			return err
		}
		ng.Rev = old.Rev + 1
		if err := put(tx, bucketGroups, ng.ID, ng); err != nil || then == nil {
			return err
		}
		return then(tx, ng)
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

// SetGroupKeys replaces the keys of group id (an empty k removes them) and
// increments the group's Rev.
func (db *DB) SetGroupKeys(ctx context.Context, id string, k tagd.Keys) error {
	defer db.groupsChanged() // after the commit
	if err := validateKeys(k); err != nil {
		return err
	}
	return db.update(ctx, func(tx *bolt.Tx) error {
		g, err := getGroup(tx, id)
		if err != nil {
			return err
		}
		g.Rev++
		if err := put(tx, bucketGroups, g.ID, g); err != nil {
			return err
		}
		return db.putKeys(tx, groupKeyID(g.ID), k)
	})
}

// Group returns the tag group id.
func (db *DB) Group(ctx context.Context, id string) (*tagd.TagGroup, error) {
	var g *tagd.TagGroup
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		g, err = getGroup(tx, id)
		return err
	})
	return g, err
}

// GroupKeys returns the decrypted keys of group id; they are empty when
// the group has none. It is CodeNotFound with Field "group_id" when the
// group does not exist.
func (db *DB) GroupKeys(ctx context.Context, id string) (tagd.Keys, error) {
	var k tagd.Keys
	err := db.viewLive(ctx, func(tx *bolt.Tx) error {
		g, err := getCached(&db.records, tx, bucketGroups, id, decodeGroup)
		if err != nil {
			return err
		}
		if g == nil {
			return tagd.NotFound("group_id", "group %q not found", id)
		}
		k, _, err = db.getKeys(tx, groupKeyID(id))
		return err
	})
	return k, err
}

// SUNProfiles returns every authentication group that has a SUN profile,
// active or not (the caller decides what an inactive group means), with
// its decrypted keys, in group-id order.
//
// The result is cached until a group or its keys change, because the check
// flow asks for it on every tap that identifies itself by its PICCData;
// callers must not modify it.
func (db *DB) SUNProfiles(ctx context.Context) ([]tagd.ProfileRef, error) {
	gen := db.groupGen.Load()
	if c := db.profiles.Load(); c != nil && c.gen == gen {
		return c.refs, nil
	}
	refs, err := db.loadSUNProfiles(ctx)
	if err == nil {
		db.profiles.Store(&profileCache{gen: gen, refs: refs})
	}
	return refs, err
}

// profileCache is the SUNProfiles result of one group generation.
type profileCache struct {
	gen  uint64
	refs []tagd.ProfileRef
}

// groupsChanged invalidates the SUNProfiles cache; every write of a group
// or its keys calls it after its commit.
func (db *DB) groupsChanged() { db.groupGen.Add(1) }

// loadSUNProfiles reads the authentication groups and their keys.
func (db *DB) loadSUNProfiles(ctx context.Context) ([]tagd.ProfileRef, error) {
	var refs []tagd.ProfileRef
	err := db.viewLive(ctx, func(tx *bolt.Tx) error {
		refs = refs[:0]
		return bkt(tx, bucketGroups).ForEach(func(k, v []byte) error {
			g, err := decodeGroup(v)
			if err != nil {
				return err
			}
			if g.Type != tagd.GroupAuthentication || g.Profile == nil {
				return nil
			}
			keys, _, err := db.getKeys(tx, groupKeyID(g.ID))
			if err != nil {
				return err
			}
			refs = append(refs, tagd.ProfileRef{Group: *g, Keys: keys})
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return refs, nil
}

// getGroup reads group id; CodeNotFound with Field "group_id" when it does
// not exist.
func getGroup(tx *bolt.Tx, id string) (*tagd.TagGroup, error) {
	g, err := get(tx, bucketGroups, id, decodeGroup)
	if err == nil && g == nil {
		err = tagd.NotFound("group_id", "group %q not found", id)
	}
	return g, err
}

package store

import (
	"context"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
)

// CreateFolder stores a new folder in an existing account. It assigns
// f.ID when empty, defaults Status to active, and sets *f to what was
// stored. It is CodeConflict when the ID exists.
func (db *DB) CreateFolder(ctx context.Context, f *tagd.Folder) error {
	nf := *f
	generated := nf.ID == ""
	if generated {
		nf.ID = newID(12)
	}
	if err := checkFolder(&nf); err != nil {
		return err
	}
	err := db.update(ctx, func(tx *bolt.Tx) error {
		if _, err := getAccount(tx, nf.AID); err != nil {
			return err
		}
		b := bkt(tx, bucketFolders)
		for generated && b.Get([]byte(nf.ID)) != nil {
			nf.ID = newID(12)
		}
		if b.Get([]byte(nf.ID)) != nil {
			return conflict("id", "folder %q exists", nf.ID)
		}
		return put(tx, bucketFolders, nf.ID, &nf)
	})
	if err == nil {
		*f = nf
	}
	return err
}

// Folder returns the folder id.
func (db *DB) Folder(ctx context.Context, id string) (*tagd.Folder, error) {
	var f *tagd.Folder
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		f, err = getFolder(tx, id)
		return err
	})
	return f, err
}

// getFolder reads folder id; CodeNotFound with Field "folder_id" when it
// does not exist.
func getFolder(tx *bolt.Tx, id string) (*tagd.Folder, error) {
	f, err := get(tx, bucketFolders, id, decodeFolder)
	if err == nil && f == nil {
		err = tagd.NotFound("folder_id", "folder %q not found", id)
	}
	return f, err
}

// checkFolder checks a folder (not its account) and defaults its status.
func checkFolder(f *tagd.Folder) error {
	if err := checkID("id", f.ID); err != nil {
		return err
	}
	if err := checkID("aid", f.AID); err != nil {
		return err
	}
	if err := checkText("name", f.Name, maxNameLen); err != nil {
		return err
	}
	if err := checkHash("token_hash", f.TokenHash); err != nil {
		return err
	}
	if err := checkCORS(f.CORS); err != nil {
		return err
	}
	if err := checkStatus(&f.Status, tagd.StatusActive, tagd.StatusActive, tagd.StatusInactive); err != nil {
		return err
	}
	return checkFields(f.Fields)
}

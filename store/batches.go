package store

import (
	"context"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
)

// CreateBatch stores a new batch in an existing group. It assigns b.ID
// when empty, defaults Status to active, and sets *b to what was stored.
// It is CodeConflict when the ID exists.
func (db *DB) CreateBatch(ctx context.Context, b *tagd.Batch) error {
	nb := *b
	generated := nb.ID == ""
	if generated {
		nb.ID = newID(12)
	}
	if err := checkID("id", nb.ID); err != nil {
		return err
	}
	if err := checkID("group_id", nb.GroupID); err != nil {
		return err
	}
	if err := checkText("name", nb.Name, maxNameLen); err != nil {
		return err
	}
	if err := checkStatus(&nb.Status, tagd.StatusActive, tagd.StatusActive, tagd.StatusInactive); err != nil {
		return err
	}
	err := db.update(ctx, func(tx *bolt.Tx) error {
		if _, err := getGroup(tx, nb.GroupID); err != nil {
			return err
		}
		bb := bkt(tx, bucketBatches)
		for generated && bb.Get([]byte(nb.ID)) != nil {
			nb.ID = newID(12)
		}
		if bb.Get([]byte(nb.ID)) != nil {
			return conflict("id", "batch %q exists", nb.ID)
		}
		return put(tx, bucketBatches, nb.ID, &nb)
	})
	if err == nil {
		*b = nb
	}
	return err
}

// Batch returns the batch id.
func (db *DB) Batch(ctx context.Context, id string) (*tagd.Batch, error) {
	var b *tagd.Batch
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		b, err = getBatch(tx, id)
		return err
	})
	return b, err
}

// getBatch reads batch id; CodeNotFound with Field "batch_id" when it does
// not exist.
func getBatch(tx *bolt.Tx, id string) (*tagd.Batch, error) {
	b, err := get(tx, bucketBatches, id, decodeBatch)
	if err == nil && b == nil {
		err = tagd.NotFound("batch_id", "batch %q not found", id)
	}
	return b, err
}

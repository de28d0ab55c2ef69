package store

import (
	"bytes"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// This file holds what the list, update and delete operations of the
// appliance API (crud_*.go) share: reading a bucket in key order and
// finding the children of a record.

// list decodes the records of bucket that keep accepts, in key order.
// keep may be nil (every record).
func list[T any](tx *bolt.Tx, bucket string, dec func([]byte) (*T, error), keep func(*T) bool) ([]T, error) {
	out := []T{}
	err := bkt(tx, bucket).ForEach(func(k, v []byte) error {
		r, err := dec(v)
		if err != nil {
			return fmt.Errorf("%s %q: %w", bucket, k, err)
		}
		if keep == nil || keep(r) {
			out = append(out, *r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// countChildren returns how many records of bucket have field (a JSON
// key of the record) equal to id. Records that cannot hold it are skipped
// before decoding: the encoded record must contain "field":"id" (ids are
// letters, digits, '-' and '_', which JSON does not escape).
func countChildren[T any](tx *bolt.Tx, bucket, field, id string, dec func([]byte) (*T, error), parent func(*T) string) (int, error) {
	needle, err := jsonPair(field, id)
	if err != nil {
		return 0, err
	}
	n := 0
	err = bkt(tx, bucket).ForEach(func(k, v []byte) error {
		if !bytes.Contains(v, needle) {
			return nil
		}
		r, err := dec(v)
		if err != nil {
			return fmt.Errorf("%s %q: %w", bucket, k, err)
		}
		if parent(r) == id {
			n++
		}
		return nil
	})
	return n, err
}

// jsonPair returns the encoding of "field":"value" as encoding/json writes
// it in a record.
func jsonPair(field, value string) ([]byte, error) {
	f, err := json.Marshal(field)
	if err != nil {
		return nil, err
	}
	v, err := json.Marshal(value)
	if err != nil {
		return nil, err
	}
	return append(append(f, ':'), v...), nil
}

// refuseChildren returns a CodeConflict error when n children (named
// one, or many when n > 1) of kind id exist.
func refuseChildren(kind, id string, n int, one, many string) error {
	switch n {
	case 0:
		return nil
	case 1:
		return conflict("id", "%s %q still holds 1 %s: delete or move it first", kind, id, one)
	}
	return conflict("id", "%s %q still holds %d %s: delete or move them first", kind, id, n, many)
}

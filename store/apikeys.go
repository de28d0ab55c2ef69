package store

import (
	"context"
	"net/netip"
	"strings"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
)

// CreateAPIKey stores a new API key record. The record holds the SHA-256
// of the secret, never the secret. Created defaults to now. It is
// CodeInvalid for a bad record, CodeConflict when the ID exists, and
// CodeNotFound (Field "aid") when k.AID names no account.
func (db *DB) CreateAPIKey(ctx context.Context, k tagd.APIKey) error {
	if err := checkAPIKey(&k); err != nil {
		return err
	}
	if k.Created.IsZero() {
		k.Created = db.now()
	}
	return db.update(ctx, func(tx *bolt.Tx) error {
		if k.AID != "" {
			if _, err := getAccount(tx, k.AID); err != nil {
				return err
			}
		}
		if bkt(tx, bucketAPIKeys).Get([]byte(k.ID)) != nil {
			return conflict("id", "API key %s exists", k.ID)
		}
		return put(tx, bucketAPIKeys, k.ID, &k)
	})
}

// APIKey returns the API key with the given id; CodeNotFound with Field
// "apikey" when there is none.
func (db *DB) APIKey(ctx context.Context, id string) (*tagd.APIKey, error) {
	var k *tagd.APIKey
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		k, err = getAPIKey(tx, id)
		return err
	})
	return k, err
}

// APIKeys lists the API keys, by id.
func (db *DB) APIKeys(ctx context.Context) ([]tagd.APIKey, error) {
	var out []tagd.APIKey
	err := db.view(ctx, func(tx *bolt.Tx) error {
		out = out[:0]
		return bkt(tx, bucketAPIKeys).ForEach(func(_, v []byte) error {
			k, err := decodeAPIKey(v)
			if err != nil {
				return err
			}
			out = append(out, *k)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateAPIKey atomically reads API key id, applies fn to it and stores
// the result (to disable, enable, expire or touch it). fn runs inside the
// write transaction: it must not call the DB. An error from fn is
// returned as is. The ID cannot change.
func (db *DB) UpdateAPIKey(ctx context.Context, id string, fn func(*tagd.APIKey) error) error {
	var fnErr error
	err := db.update(ctx, func(tx *bolt.Tx) error {
		k, err := getAPIKey(tx, id)
		if err != nil {
			return err
		}
		if err := fn(k); err != nil {
			fnErr = err
			return err
		}
		if k.ID != id {
			return invalid("id", "the id of an API key cannot change")
		}
		if err := checkAPIKey(k); err != nil {
			return err
		}
		if k.AID != "" {
			if _, err := getAccount(tx, k.AID); err != nil {
				return err
			}
		}
		return put(tx, bucketAPIKeys, k.ID, k)
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

// DeleteAPIKey deletes API key id; CodeNotFound with Field "apikey" when
// there is none.
func (db *DB) DeleteAPIKey(ctx context.Context, id string) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		if _, err := getAPIKey(tx, id); err != nil {
			return err
		}
		return bkt(tx, bucketAPIKeys).Delete([]byte(id))
	})
}

// getAPIKey reads API key id; CodeNotFound with Field "apikey" when there
// is none.
func getAPIKey(tx *bolt.Tx, id string) (*tagd.APIKey, error) {
	k, err := get(tx, bucketAPIKeys, id, decodeAPIKey)
	if err == nil && k == nil {
		err = tagd.NotFound("apikey", "API key %s not found", id)
	}
	return k, err
}

// decodeAPIKey decodes an apikeys record.
func decodeAPIKey(data []byte) (*tagd.APIKey, error) {
	return decode("apikey", data, func(k *tagd.APIKey) string { return k.ID })
}

// checkAPIKey checks an API key record: id, a name, known scopes, a
// SHA-256, and allow-list entries that are IP addresses or CIDR prefixes.
func checkAPIKey(k *tagd.APIKey) error {
	if err := checkID("id", k.ID); err != nil {
		return err
	}
	if k.AID != "" {
		if err := checkID("aid", k.AID); err != nil {
			return err
		}
	}
	if k.Name == "" {
		return invalid("name", "an API key needs a name")
	}
	if err := checkText("name", k.Name, maxNameLen); err != nil {
		return err
	}
	if err := checkText("description", k.Description, 4*maxNameLen); err != nil {
		return err
	}
	if len(k.Scopes) == 0 {
		return invalid("scopes", "an API key needs at least one scope")
	}
	for _, s := range k.Scopes {
		switch s {
		case tagd.ScopePublic, tagd.ScopePrivate, tagd.ScopeAdmin, tagd.ScopeSync:
		default:
			return invalid("scopes", "scope %q is not public, private, admin or sync", s)
		}
	}
	if len(k.SecretHash) != hashLen {
		return invalid("secret_hash", "the secret hash must be a SHA-256 (32 bytes), not %d bytes", len(k.SecretHash))
	}
	for _, ip := range k.AllowIPs {
		var err error
		if strings.Contains(ip, "/") {
			_, err = netip.ParsePrefix(ip)
		} else {
			_, err = netip.ParseAddr(ip)
		}
		if err != nil {
			return invalid("allow_ips", "%q is not an IP address or CIDR prefix", ip)
		}
	}
	return nil
}

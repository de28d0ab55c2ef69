package store

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
)

// APIKeyPurgeAfter is how long after its expiry PurgeExpiredAPIKeys
// deletes an API key (SPEC §7: expired keys are purged after a week).
const APIKeyPurgeAfter = 7 * 24 * time.Hour

// CreateAPIKey stores a new API key record. The record holds the SHA-256
// of the secret, never the secret. Created defaults to now. It is
// CodeInvalid for a bad record, CodeConflict when the ID exists, and
// CodeNotFound (Field "aid") when k.AID names no account.
func (db *DB) CreateAPIKey(ctx context.Context, k tagd.APIKey) error {
	return db.CreateAPIKeyMax(ctx, k, 0)
}

// CreateAPIKeyMax is CreateAPIKey with a per-account limit: it is
// CodeConflict with Field "apikeys" when the key's account (k.AID; "" is
// the appliance's own keys) already holds max keys. The count and the
// insert are one transaction, so concurrent creations cannot overshoot.
// max <= 0 means no limit.
func (db *DB) CreateAPIKeyMax(ctx context.Context, k tagd.APIKey, max int) error {
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
		if max > 0 {
			n, err := countAPIKeys(tx, k.AID)
			if err != nil {
				return err
			}
			if n >= max {
				return conflict("apikeys", "%s already has %d API keys, the limit: delete one first", accountName(k.AID), n)
			}
		}
		return put(tx, bucketAPIKeys, k.ID, &k)
	})
}

// CountAPIKeys returns the number of API keys of account aid ("" counts
// the keys that belong to no account: the appliance's own).
func (db *DB) CountAPIKeys(ctx context.Context, aid string) (int, error) {
	var n int
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		n, err = countAPIKeys(tx, aid)
		return err
	})
	return n, err
}

// TouchAPIKey records that API key id was used at when: LastUsed moves
// forward to when, never back. It is one small write; httpapi calls it at
// most once a minute per key, off the request path, so that authentication
// never waits for an fsync. CodeNotFound (Field "apikey") when the key is
// gone.
func (db *DB) TouchAPIKey(ctx context.Context, id string, when time.Time) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		k, err := getAPIKey(tx, id)
		if err != nil {
			return err
		}
		if !when.After(k.LastUsed) {
			return nil
		}
		k.LastUsed = when
		return put(tx, bucketAPIKeys, k.ID, k)
	})
}

// PurgeExpiredAPIKeys deletes the API keys whose expiry lies
// APIKeyPurgeAfter or more before now, and returns their ids. A key is
// valid up to, not on, its expiry; for a week after it, it still answers
// API_KEY_EXPIRED (rather than INVALID_API_KEY) and can be listed.
func (db *DB) PurgeExpiredAPIKeys(ctx context.Context, now time.Time) ([]string, error) {
	var ids []string
	err := db.update(ctx, func(tx *bolt.Tx) error {
		ids = ids[:0]
		b := bkt(tx, bucketAPIKeys)
		err := b.ForEach(func(id, v []byte) error {
			k, err := decodeAPIKey(v)
			if err != nil {
				return fmt.Errorf("%s %q: %w", bucketAPIKeys, id, err)
			}
			if !k.Expires.IsZero() && !now.Before(k.Expires.Add(APIKeyPurgeAfter)) {
				ids = append(ids, string(id))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := b.Delete([]byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// countAPIKeys counts the keys of account aid.
func countAPIKeys(tx *bolt.Tx, aid string) (int, error) {
	n := 0
	err := bkt(tx, bucketAPIKeys).ForEach(func(id, v []byte) error {
		k, err := decodeAPIKey(v)
		if err != nil {
			return fmt.Errorf("%s %q: %w", bucketAPIKeys, id, err)
		}
		if k.AID == aid {
			n++
		}
		return nil
	})
	return n, err
}

// accountName names account aid in messages.
func accountName(aid string) string {
	if aid == "" {
		return "the appliance (keys of no account)"
	}
	return fmt.Sprintf("account %q", aid)
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

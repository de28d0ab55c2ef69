package store

import (
	"context"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
)

// Accounts returns every account, by AID.
func (db *DB) Accounts(ctx context.Context) ([]tagd.Account, error) {
	var out []tagd.Account
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		out, err = list(tx, bucketAccounts, decodeAccount, nil)
		return err
	})
	return out, err
}

// UpdateAccount atomically reads account aid, applies fn to it, checks
// the result and stores it. fn runs inside the write transaction: it must
// not call the DB. An error from fn is returned as is, and nothing is
// stored on any error. The AID and the creation time cannot change.
func (db *DB) UpdateAccount(ctx context.Context, aid string, fn func(*tagd.Account) error) error {
	var fnErr error
	err := db.update(ctx, func(tx *bolt.Tx) error {
		old, err := getAccount(tx, aid)
		if err != nil {
			return err
		}
		na := *old
		na.MgmtTokenHash = append([]byte(nil), old.MgmtTokenHash...)
		if err := fn(&na); err != nil {
			fnErr = err
			return err
		}
		if na.AID != old.AID {
			return invalid("aid", "the AID of an account cannot change")
		}
		if !na.Created.Equal(old.Created) {
			return invalid("created", "the creation time of an account cannot change")
		}
		if err := checkText("name", na.Name, maxNameLen); err != nil {
			return err
		}
		if err := checkHash("mgmt_token_hash", na.MgmtTokenHash); err != nil {
			return err
		}
		return put(tx, bucketAccounts, na.AID, &na)
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

// DeleteAccount deletes account aid. It is CodeNotFound when there is no
// such account, and CodeConflict while folders or API keys belong to it.
func (db *DB) DeleteAccount(ctx context.Context, aid string) error {
	return db.update(ctx, func(tx *bolt.Tx) error {
		if _, err := getAccount(tx, aid); err != nil {
			return err
		}
		n, err := countChildren(tx, bucketFolders, "aid", aid, decodeFolder, func(f *tagd.Folder) string { return f.AID })
		if err != nil {
			return err
		}
		if err := refuseChildren("account", aid, n, "folder", "folders"); err != nil {
			return err
		}
		n, err = countChildren(tx, bucketAPIKeys, "aid", aid, decodeAPIKey, func(k *tagd.APIKey) string { return k.AID })
		if err != nil {
			return err
		}
		if err := refuseChildren("account", aid, n, "API key", "API keys"); err != nil {
			return err
		}
		return bkt(tx, bucketAccounts).Delete([]byte(aid))
	})
}

package store

import (
	"context"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
)

// CreateAccount stores a new account. Created defaults to now. It is
// CodeConflict when the AID exists.
func (db *DB) CreateAccount(ctx context.Context, a tagd.Account) error {
	if err := checkID("aid", a.AID); err != nil {
		return err
	}
	if err := checkText("name", a.Name, maxNameLen); err != nil {
		return err
	}
	if err := checkHash("mgmt_token_hash", a.MgmtTokenHash); err != nil {
		return err
	}
	if a.Created.IsZero() {
		a.Created = db.now()
	}
	return db.update(ctx, func(tx *bolt.Tx) error {
		if bkt(tx, bucketAccounts).Get([]byte(a.AID)) != nil {
			return conflict("aid", "account %q exists", a.AID)
		}
		return put(tx, bucketAccounts, a.AID, &a)
	})
}

// Account returns the account aid.
func (db *DB) Account(ctx context.Context, aid string) (*tagd.Account, error) {
	var a *tagd.Account
	err := db.view(ctx, func(tx *bolt.Tx) error {
		var err error
		a, err = getAccount(tx, aid)
		return err
	})
	return a, err
}

// CountAccounts returns the number of accounts.
func (db *DB) CountAccounts(ctx context.Context) (int, error) {
	var n int
	err := db.view(ctx, func(tx *bolt.Tx) error {
		n = bkt(tx, bucketAccounts).Stats().KeyN
		return nil
	})
	return n, err
}

// getAccount reads account aid; CodeNotFound with Field "aid" when it does
// not exist.
func getAccount(tx *bolt.Tx, aid string) (*tagd.Account, error) {
	a, err := get(tx, bucketAccounts, aid, decodeAccount)
	if err == nil && a == nil {
		err = tagd.NotFound("aid", "account %q not found", aid)
	}
	return a, err
}

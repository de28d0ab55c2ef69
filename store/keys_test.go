package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/store"
	bolt "go.etcd.io/bbolt"
)

// TestKeysRoundTrip reads back group and tag keys, directly and through
// SUNProfiles.
func TestKeysRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	fixture(t, db)
	db.reopen(t) // the keys come back from the file, not from memory

	gk, err := db.GroupKeys(ctx, authGroup)
	if err != nil {
		t.Fatal(err)
	}
	want := fixtureKeys()
	if !bytes.Equal(gk.Meta, want.Meta) || !bytes.Equal(gk.File, want.File) || !bytes.Equal(gk.Master, want.Master) {
		t.Error("group keys differ")
	}
	if k, err := db.GroupKeys(ctx, stdGroup); err != nil || k.Meta != nil || k.File != nil || k.Master != nil {
		t.Errorf("standard group keys: %v", err)
	}
	tk, ok, err := db.TagKeys(ctx, authXUID)
	if err != nil || !ok || !bytes.Equal(tk.File, tagKeys().File) || tk.Meta != nil || tk.Master != nil {
		t.Errorf("tag keys ok=%v err=%v", ok, err)
	}
	if _, ok, err := db.TagKeys(ctx, stdXUID); ok || err != nil {
		t.Errorf("TagKeys of a tag without keys: ok=%v err=%v", ok, err)
	}

	refs, err := db.SUNProfiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs[0].Group.ID != authGroup || refs[0].Group.Profile == nil || !bytes.Equal(refs[0].Keys.File, want.File) {
		t.Fatalf("SUNProfiles = %d refs", len(refs))
	}

	// SetTagKeys replaces and removes.
	nk := tagd.Keys{Meta: bytes.Repeat([]byte{7}, 16), File: bytes.Repeat([]byte{8}, 16)}
	if err := db.SetTagKeys(ctx, stdXUID, &nk); err != nil {
		t.Fatal(err)
	}
	if k, ok, err := db.TagKeys(ctx, stdXUID); err != nil || !ok || !bytes.Equal(k.Meta, nk.Meta) || !bytes.Equal(k.File, nk.File) {
		t.Errorf("after SetTagKeys: ok=%v err=%v", ok, err)
	}
	if err := db.SetTagKeys(ctx, stdXUID, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := db.TagKeys(ctx, stdXUID); ok || err != nil {
		t.Errorf("after removal: ok=%v err=%v", ok, err)
	}
	wantCode(t, db.SetTagKeys(ctx, stdXUID, &tagd.Keys{}), tagd.CodeInvalid, "keys")
}

// TestKeysNotInFile checks that no plaintext key appears in the database
// file, nor in the records the store hands out.
func TestKeysNotInFile(t *testing.T) {
	db := openDB(t, withSync)
	fixture(t, db)
	v, err := db.FindTag(context.Background(), tagd.Lookup{XUID: authXUID})
	if err != nil {
		t.Fatal(err)
	}
	printed := fmt.Sprintf("%+v %#v", v, v)
	db.checkAndClose(t)
	raw, err := os.ReadFile(db.path)
	if err != nil {
		t.Fatal(err)
	}
	k := fixtureKeys()
	for name, key := range map[string][]byte{"meta": k.Meta, "file": k.File, "master": k.Master, "tag file": tagKeys().File} {
		if bytes.Contains(raw, key) {
			t.Errorf("the %s key is in the database file in plaintext", name)
		}
		if bytes.Contains(raw, key[:8]) {
			t.Errorf("half of the %s key is in the database file in plaintext", name)
		}
		if bytes.Contains([]byte(printed), key) || bytes.Contains([]byte(printed), []byte(fmt.Sprintf("%x", key))) {
			t.Errorf("the %s key is in a printed TagView", name)
		}
	}
	if !bytes.Contains(raw, []byte(authXUID)) {
		t.Fatal("the file does not even hold the XUID: is this the database?")
	}
}

// TestKeysMovedCiphertext copies the sealed keys of one tag to another
// record id: they must not open there.
func TestKeysMovedCiphertext(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	fixture(t, db)
	db.raw(t, func(tx *bolt.Tx) error {
		keys := tx.Bucket([]byte("keys"))
		sealed := keys.Get([]byte("tag:" + authXUID))
		if sealed == nil {
			return errors.New("no sealed record for the auth tag")
		}
		if err := keys.Put([]byte("tag:"+stdXUID), bytes.Clone(sealed)); err != nil {
			return err
		}
		return keys.Put([]byte("group:"+stdGroup), bytes.Clone(sealed))
	})
	d, err := store.Open(db.path, db.opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	_, _, err = d.TagKeys(ctx, stdXUID)
	wantInternal(t, err, "key-encryption key does not match")
	_, err = d.GroupKeys(ctx, stdGroup)
	wantInternal(t, err, "key-encryption key does not match")
	// The original still opens.
	if _, ok, err := d.TagKeys(ctx, authXUID); !ok || err != nil {
		t.Fatalf("the original record: ok=%v err=%v", ok, err)
	}
	var ce *store.CheckError
	if err := d.Check(ctx); !errors.As(err, &ce) || len(ce.Problems) != 2 {
		t.Fatalf("Check = %v, want the 2 moved records", err)
	}
}

// TestWrongKEK opens a database with another KEK: Open refuses it with a
// clear internal error, and no key bytes are in the message.
func TestWrongKEK(t *testing.T) {
	db := openDB(t)
	fixture(t, db)
	db.checkAndClose(t)
	other := bytes.Repeat([]byte{0x99}, 32)
	_, err := store.Open(db.path, store.Options{KEK: other, NoSync: true})
	wantInternal(t, err, "key-encryption key does not match")
	for _, k := range [][]byte{other, testKEK(), fixtureKeys().Meta} {
		if bytes.Contains([]byte(err.Error()), k) || bytes.Contains([]byte(err.Error()), []byte(fmt.Sprintf("%x", k))) {
			t.Fatal("the error shows key bytes")
		}
	}
	// The right KEK still opens it.
	db.reopen(t)
}

// TestKeysWrongKEKRecord plants a key record sealed under another KEK (as
// after a restore mixed up two appliances): reading it fails clearly.
func TestKeysWrongKEKRecord(t *testing.T) {
	ctx := context.Background()
	// A second database under another KEK provides the foreign record.
	foreign := openDB(t, func(o *store.Options) { o.KEK = bytes.Repeat([]byte{0x77}, 32) })
	fixture(t, foreign)
	var sealed []byte
	foreign.raw(t, func(tx *bolt.Tx) error {
		sealed = bytes.Clone(tx.Bucket([]byte("keys")).Get([]byte("group:" + authGroup)))
		return nil
	})
	db := openDB(t)
	fixture(t, db)
	db.raw(t, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("keys")).Put([]byte("group:"+authGroup), sealed)
	})
	db.DB, _ = store.Open(db.path, db.opts)
	_, err := db.GroupKeys(ctx, authGroup)
	wantInternal(t, err, "key-encryption key does not match")
	_, err = db.SUNProfiles(ctx)
	wantInternal(t, err, "key-encryption key does not match")
	// Put the right keys back so that the cleanup's Check passes.
	if err := db.SetGroupKeys(ctx, authGroup, fixtureKeys()); err != nil {
		t.Fatal(err)
	}
}

// TestOpenKEKLength refuses keys that are not 32 bytes.
func TestOpenKEKLength(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33} {
		_, err := store.Open(t.TempDir()+"/x.db", store.Options{KEK: make([]byte, n)})
		wantCode(t, err, tagd.CodeInvalid, "kek")
	}
}

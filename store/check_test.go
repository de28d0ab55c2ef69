package store_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/store"
	bolt "go.etcd.io/bbolt"
)

// TestCheckFindsProblems plants one inconsistency of each kind with bare
// bbolt and expects Check to name every one.
func TestCheckFindsProblems(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	fixture(t, db)
	if _, err := db.AppendScan(ctx, tagd.Scan{Source: "api"}); err != nil {
		t.Fatal(err)
	}
	db.raw(t, func(tx *bolt.Tx) error {
		b := func(name string) *bolt.Bucket { return tx.Bucket([]byte(name)) }
		puts := []struct {
			bucket, key string
			value       []byte
		}{
			{"idx_uid", "acme\x0004FFFFFFFFFFFF", []byte("nosuchtg")}, // dangling index entry
			{"idx_cuid", "acme\x00yourcuid", []byte(authXUID)},        // points to a tag without that CUID
			{"idx_uid_any", "04FFFFFFFFFFFF", []byte(stdXUID)},        // malformed index key
			{"tags", "orphan01", []byte(`{"xuid":"orphan01","aid":"acme","batch_id":"gone","status":"Active"}`)},
			{"tags", "garbage1", []byte(`{"xuid":`)}, // does not decode
			{"groups", "g9", []byte(`{"id":"g9","folder_id":"nofolder","type":"standard"}`)},
			{"keys", "tag:nosuchtg", []byte("\x01short")},                                   // belongs to nothing, too short
			{"scans", string(binary.BigEndian.AppendUint64(nil, 99)), []byte(`{"seq":98}`)}, // seq mismatch, beyond the sequence
		}
		for _, p := range puts {
			if err := b(p.bucket).Put([]byte(p.key), p.value); err != nil {
				return err
			}
		}
		return b("idx_uid").Delete([]byte("acme\x00" + authUID)) // an unindexed UID
	})
	d, err := store.Open(db.path, db.opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	err = d.Check(ctx)
	var ce *store.CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("Check = %v, want a *CheckError", err)
	}
	if tagd.ErrorCode(err) != tagd.CodeInternal {
		t.Errorf("code %q", tagd.ErrorCode(err))
	}
	msg := err.Error()
	for _, want := range []string{
		`idx_uid["acme" "04FFFFFFFFFFFF"] points to missing tag "nosuchtg"`,
		`idx_cuid["acme" "yourcuid"] points to tag "an12196a"`,
		`tag "q8w3sbcz": idx_cuid[acme "yourcuid"] is "an12196a"`,
		`idx_uid_any "04FFFFFFFFFFFF": malformed index key`,
		`tag "orphan01": batch "gone" is missing`,
		`tags "garbage1": decode tag record`,
		`group "g9": folder "nofolder" is missing`,
		`key record "tag:nosuchtg" belongs to no group or tag`,
		`key record tag:nosuchtg: sealed record of 6 bytes is too short`,
		`scan 99: record has seq 98`,
		`scan 99: beyond the bucket's sequence 1`,
		`tag "an12196a": idx_uid[acme 04DE5F1EACC040] is ""`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("Check does not report %s", want)
		}
	}
	if len(ce.Problems) != 12 {
		t.Errorf("%d problems, want 12:\n%s", len(ce.Problems), msg)
	}
}

// TestCheckClean checks a database after a mix of every operation.
func TestCheckClean(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	fixture(t, db)
	for i := range 20 {
		if _, _, err := db.RecordTap(ctx, tagd.Tap{XUID: authXUID, Counter: uint32(i), HasCounter: true, Authenticated: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.UpdateTag(ctx, stdXUID, func(tg *tagd.Tag) error { tg.CUID = "x"; tg.UID = ""; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := db.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestBackup streams a hot backup and opens it as a database.
func TestBackup(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	fixture(t, db)
	var buf bytes.Buffer
	n, err := db.Backup(ctx, &buf)
	if err != nil || n != int64(buf.Len()) || n == 0 {
		t.Fatalf("Backup = %d, %v (%d bytes written)", n, err, buf.Len())
	}
	// Writes after the backup are not in it.
	if err := db.CreateAccount(ctx, tagd.Account{AID: "later"}); err != nil {
		t.Fatal(err)
	}
	restored := openDB(t)
	restored.checkAndClose(t)
	if err := os.WriteFile(restored.path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	restored.reopen(t)
	v, err := restored.FindTag(ctx, tagd.Lookup{AID: aid, UID: authUID})
	if err != nil || v.Tag.XUID != authXUID {
		t.Fatalf("FindTag in the backup = %+v, %v", v, err)
	}
	if k, ok, err := restored.TagKeys(ctx, authXUID); err != nil || !ok || !bytes.Equal(k.File, tagKeys().File) {
		t.Fatalf("TagKeys in the backup: ok=%v err=%v", ok, err)
	}
	if _, err := restored.Account(ctx, "later"); tagd.ErrorCode(err) != tagd.CodeNotFound {
		t.Fatalf("the backup holds a later write: %v", err)
	}
}

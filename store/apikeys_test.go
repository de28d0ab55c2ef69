package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/store"
)

// apiKey returns a valid API key record.
func apiKey(id string) tagd.APIKey {
	return tagd.APIKey{ID: id, Name: "till 1", Scopes: []string{tagd.ScopePublic}, SecretHash: bytes.Repeat([]byte{3}, 32), AllowIPs: []string{"192.168.1.0/24", "fd00::1"}}
}

// TestAPIKeys creates, lists, updates and deletes API key records.
func TestAPIKeys(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	fixture(t, db)
	if err := db.CreateAPIKey(ctx, apiKey("tagd_b")); err != nil {
		t.Fatal(err)
	}
	k := apiKey("tagd_a")
	k.AID = aid
	if err := db.CreateAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	got, err := db.APIKey(ctx, "tagd_a")
	if err != nil || got.AID != aid || got.Created.IsZero() || !bytes.Equal(got.SecretHash, k.SecretHash) || len(got.AllowIPs) != 2 {
		t.Fatalf("APIKey = %+v, %v", got, err)
	}
	all, err := db.APIKeys(ctx)
	if err != nil || len(all) != 2 || all[0].ID != "tagd_a" || all[1].ID != "tagd_b" {
		t.Fatalf("APIKeys = %+v, %v", all, err)
	}
	used := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if err := db.UpdateAPIKey(ctx, "tagd_a", func(k *tagd.APIKey) error { k.Disabled, k.LastUsed = true, used; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.APIKey(ctx, "tagd_a"); !got.Disabled || !got.LastUsed.Equal(used) {
		t.Fatalf("after update %+v", got)
	}
	mine := errors.New("no")
	if err := db.UpdateAPIKey(ctx, "tagd_a", func(*tagd.APIKey) error { return mine }); err != mine {
		t.Fatalf("UpdateAPIKey returned %v, want fn's error", err)
	}
	wantCode(t, db.UpdateAPIKey(ctx, "tagd_a", func(k *tagd.APIKey) error { k.ID = "x"; return nil }), tagd.CodeInvalid, "id")
	wantCode(t, db.UpdateAPIKey(ctx, "tagd_a", func(k *tagd.APIKey) error { k.Scopes = nil; return nil }), tagd.CodeInvalid, "scopes")
	if err := db.DeleteAPIKey(ctx, "tagd_b"); err != nil {
		t.Fatal(err)
	}
	_, err = db.APIKey(ctx, "tagd_b")
	wantCode(t, err, tagd.CodeNotFound, "apikey")
	wantCode(t, db.DeleteAPIKey(ctx, "tagd_b"), tagd.CodeNotFound, "apikey")
	wantCode(t, db.UpdateAPIKey(ctx, "tagd_b", func(*tagd.APIKey) error { return nil }), tagd.CodeNotFound, "apikey")
	wantCode(t, db.CreateAPIKey(ctx, apiKey("tagd_a")), tagd.CodeConflict, "id")
}

// TestAPIKeyInvalid feeds bad records to CreateAPIKey.
func TestAPIKeyInvalid(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	fixture(t, db)
	for field, mod := range map[string]func(*tagd.APIKey){
		"id":          func(k *tagd.APIKey) { k.ID = "a.b" },
		"name":        func(k *tagd.APIKey) { k.Name = "" },
		"scopes":      func(k *tagd.APIKey) { k.Scopes = []string{"root"} },
		"secret_hash": func(k *tagd.APIKey) { k.SecretHash = []byte("secret") },
		"allow_ips":   func(k *tagd.APIKey) { k.AllowIPs = []string{"10.0.0.0/33"} },
		"aid":         func(k *tagd.APIKey) { k.AID = "a b" },
	} {
		k := apiKey("tagd_x")
		mod(&k)
		wantCode(t, db.CreateAPIKey(ctx, k), tagd.CodeInvalid, field)
	}
	k := apiKey("tagd_x")
	k.AID = "nobody"
	wantCode(t, db.CreateAPIKey(ctx, k), tagd.CodeNotFound, "aid")
	if all, _ := db.APIKeys(ctx); len(all) != 0 {
		t.Fatalf("%d keys stored", len(all))
	}
}

// TestAPIKeyLimit checks the per-account limit of CreateAPIKeyMax and
// CountAPIKeys: each account ("" included) has its own count.
func TestAPIKeyLimit(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	fixture(t, db)
	for i, id := range []string{"tagd_a1", "tagd_a2", "tagd_a3"} {
		k := apiKey(id)
		k.AID = aid
		err := db.CreateAPIKeyMax(ctx, k, 2)
		if i < 2 && err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			wantCode(t, err, tagd.CodeConflict, "apikeys")
		}
	}
	// another account and the appliance's own keys are counted apart
	k := apiKey("tagd_b1")
	k.AID = aid2
	if err := db.CreateAPIKeyMax(ctx, k, 2); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"tagd_n1", "tagd_n2"} {
		if err := db.CreateAPIKeyMax(ctx, apiKey(id), 2); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, db.CreateAPIKeyMax(ctx, apiKey("tagd_n3"), 2), tagd.CodeConflict, "apikeys")
	// no limit
	if err := db.CreateAPIKeyMax(ctx, apiKey("tagd_n3"), 0); err != nil {
		t.Fatal(err)
	}
	for a, want := range map[string]int{aid: 2, aid2: 1, "": 3, "nobody": 0} {
		if n, err := db.CountAPIKeys(ctx, a); err != nil || n != want {
			t.Errorf("CountAPIKeys(%q) = %d, %v; want %d", a, n, err, want)
		}
	}
	// a deleted key frees its place
	if err := db.DeleteAPIKey(ctx, "tagd_a1"); err != nil {
		t.Fatal(err)
	}
	k = apiKey("tagd_a3")
	k.AID = aid
	if err := db.CreateAPIKeyMax(ctx, k, 2); err != nil {
		t.Fatal(err)
	}
}

// TestTouchAPIKey checks that last-used only moves forward.
func TestTouchAPIKey(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	if err := db.CreateAPIKey(ctx, apiKey("tagd_t")); err != nil {
		t.Fatal(err)
	}
	t1 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, when := range []time.Time{t1, t1.Add(-time.Hour)} {
		if err := db.TouchAPIKey(ctx, "tagd_t", when); err != nil {
			t.Fatal(err)
		}
	}
	if k, _ := db.APIKey(ctx, "tagd_t"); !k.LastUsed.Equal(t1) {
		t.Fatalf("LastUsed %v, want %v", k.LastUsed, t1)
	}
	wantCode(t, db.TouchAPIKey(ctx, "tagd_gone", t1), tagd.CodeNotFound, "apikey")
}

// TestPurgeExpiredAPIKeys checks that a key is purged exactly a week after
// its expiry, and that keys without expiry stay.
func TestPurgeExpiredAPIKeys(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	exp := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for id, e := range map[string]time.Time{"tagd_old": exp, "tagd_later": exp.Add(time.Hour), "tagd_never": {}} {
		k := apiKey(id)
		k.Expires = e
		if err := db.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	week := store.APIKeyPurgeAfter
	if week != 7*24*time.Hour {
		t.Fatalf("APIKeyPurgeAfter = %v", week)
	}
	ids, err := db.PurgeExpiredAPIKeys(ctx, exp.Add(week-time.Nanosecond))
	if err != nil || len(ids) != 0 {
		t.Fatalf("a week minus 1ns after expiry: purged %v, %v", ids, err)
	}
	ids, err = db.PurgeExpiredAPIKeys(ctx, exp.Add(week))
	if err != nil || len(ids) != 1 || ids[0] != "tagd_old" {
		t.Fatalf("a week after expiry: purged %v, %v", ids, err)
	}
	ids, err = db.PurgeExpiredAPIKeys(ctx, exp.Add(100*week))
	if err != nil || len(ids) != 1 || ids[0] != "tagd_later" {
		t.Fatalf("much later: purged %v, %v", ids, err)
	}
	all, _ := db.APIKeys(ctx)
	if len(all) != 1 || all[0].ID != "tagd_never" {
		t.Fatalf("left %+v", all)
	}
}

package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
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

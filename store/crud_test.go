package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"slices"
	"testing"

	"github.com/tagd-nfc/tagd"
)

// snapshot is a backup of the whole database: equal snapshots mean that
// nothing was committed in between.
func snapshot(t testing.TB, db *testDB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := db.Backup(context.Background(), &buf); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	return buf.Bytes()
}

// unchanged runs fn, which must fail with code and field, and checks that
// the database is byte for byte what it was.
func unchanged(t testing.TB, db *testDB, code tagd.Code, field string, fn func() error) {
	t.Helper()
	before := snapshot(t, db)
	wantCode(t, fn(), code, field)
	if !bytes.Equal(before, snapshot(t, db)) {
		t.Fatalf("a failed change (%s %s) changed the database", code, field)
	}
}

func TestCRUD_Accounts(t *testing.T) {
	db := openDB(t)
	fixture(t, db)
	ctx := context.Background()
	as, err := db.Accounts(ctx)
	if err != nil || len(as) != 2 || as[0].AID != aid || as[1].AID != aid2 {
		t.Fatalf("Accounts = %+v, %v; want acme, other in AID order", as, err)
	}
	h := sha256.Sum256([]byte("tok"))
	if err := db.UpdateAccount(ctx, aid, func(a *tagd.Account) error { a.Name = "Acme Ltd"; a.MgmtTokenHash = h[:]; return nil }); err != nil {
		t.Fatal(err)
	}
	if a, _ := db.Account(ctx, aid); a.Name != "Acme Ltd" || !bytes.Equal(a.MgmtTokenHash, h[:]) {
		t.Fatalf("account after update %+v", a)
	}
	t.Run("ErrInvalid", func(t *testing.T) {
		unchanged(t, db, tagd.CodeInvalid, "aid", func() error {
			return db.UpdateAccount(ctx, aid, func(a *tagd.Account) error { a.Name = "x"; a.AID = "renamed"; return nil })
		})
		unchanged(t, db, tagd.CodeInvalid, "name", func() error {
			return db.UpdateAccount(ctx, aid, func(a *tagd.Account) error { a.Name = "bad\nname"; return nil })
		})
		unchanged(t, db, tagd.CodeInvalid, "mgmt_token_hash", func() error {
			return db.UpdateAccount(ctx, aid, func(a *tagd.Account) error { a.MgmtTokenHash = []byte("short"); return nil })
		})
		unchanged(t, db, tagd.CodeNotFound, "aid", func() error { return db.UpdateAccount(ctx, "nobody", func(*tagd.Account) error { return nil }) })
	})
	t.Run("ErrConflict", func(t *testing.T) {
		unchanged(t, db, tagd.CodeConflict, "id", func() error { return db.DeleteAccount(ctx, aid) }) // has folders
		if err := db.CreateAccount(ctx, tagd.Account{AID: "lonely"}); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateAPIKey(ctx, tagd.APIKey{ID: "k1", AID: "lonely", Name: "k", Scopes: []string{"public"}, SecretHash: h[:]}); err != nil {
			t.Fatal(err)
		}
		unchanged(t, db, tagd.CodeConflict, "id", func() error { return db.DeleteAccount(ctx, "lonely") }) // has an API key
		if err := db.DeleteAPIKey(ctx, "k1"); err != nil {
			t.Fatal(err)
		}
	})
	if err := db.DeleteAccount(ctx, "lonely"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Account(ctx, "lonely"); tagd.ErrorCode(err) != tagd.CodeNotFound {
		t.Fatalf("deleted account: %v", err)
	}
	wantCode(t, db.DeleteAccount(ctx, "lonely"), tagd.CodeNotFound, "aid")
}

func TestCRUD_Folders(t *testing.T) {
	db := openDB(t)
	fixture(t, db)
	ctx := context.Background()
	fs, err := db.Folders(ctx, aid)
	if err != nil || len(fs) != 1 || fs[0].ID != folderID {
		t.Fatalf("Folders(acme) = %+v, %v", fs, err)
	}
	if all, _ := db.Folders(ctx, ""); len(all) != 2 {
		t.Fatalf("Folders() = %+v", all)
	}
	// the check flow sees a folder's new status at once
	if err := db.UpdateFolder(ctx, folderID, func(f *tagd.Folder) error { f.Status = tagd.StatusInactive; f.CORS = "*"; return nil }); err != nil {
		t.Fatal(err)
	}
	v, err := db.FindTag(ctx, tagd.Lookup{XUID: stdXUID})
	if err != nil || v.Folder.Status != tagd.StatusInactive || v.Folder.CORS != "*" {
		t.Fatalf("FindTag after UpdateFolder: %+v %v", v, err)
	}
	unchanged(t, db, tagd.CodeInvalid, "cors", func() error {
		return db.UpdateFolder(ctx, folderID, func(f *tagd.Folder) error { f.Name = "x"; f.CORS = "https://shop.example/path"; return nil })
	})
	unchanged(t, db, tagd.CodeInvalid, "aid", func() error {
		return db.UpdateFolder(ctx, folderID, func(f *tagd.Folder) error { f.AID = aid2; return nil })
	})
	unchanged(t, db, tagd.CodeInvalid, "status", func() error {
		return db.UpdateFolder(ctx, folderID, func(f *tagd.Folder) error { f.Status = "paused"; return nil })
	})
	unchanged(t, db, tagd.CodeConflict, "id", func() error { return db.DeleteFolder(ctx, folderID) }) // has groups
	if err := db.CreateFolder(ctx, &tagd.Folder{ID: "empty", AID: aid}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteFolder(ctx, "empty"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.DeleteFolder(ctx, "empty"), tagd.CodeNotFound, "folder_id")
}

func TestCRUD_Groups(t *testing.T) {
	db := openDB(t)
	fixture(t, db)
	ctx := context.Background()
	gs, err := db.Groups(ctx, aid, "")
	if err != nil || len(gs) != 2 || gs[0].ID != authGroup || gs[1].ID != stdGroup {
		t.Fatalf("Groups(acme) = %+v, %v", gs, err)
	}
	if gs, _ := db.Groups(ctx, "", "f2"); len(gs) != 1 || gs[0].ID != "g2" {
		t.Fatalf("Groups(folder f2) = %+v", gs)
	}
	if gs, _ := db.Groups(ctx, aid2, folderID); len(gs) != 0 {
		t.Fatalf("Groups(other, f1) = %+v, want none", gs)
	}
	// SUNProfiles is cached; a patch of the profile and keys shows at once
	if refs, err := db.SUNProfiles(ctx); err != nil || len(refs) != 1 || refs[0].Group.Profile.Mode != "aes" {
		t.Fatalf("SUNProfiles = %+v, %v", refs, err)
	}
	newKeys := tagd.Keys{Meta: tagd.Secret(bytes.Repeat([]byte{7}, 16)), File: tagd.Secret(bytes.Repeat([]byte{8}, 16))}
	err = db.PatchGroup(ctx, authGroup, func(g *tagd.TagGroup) error { g.Profile.Mode = "lrp"; g.Name = "Auth 2"; return nil }, &newKeys)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := db.SUNProfiles(ctx)
	if err != nil || len(refs) != 1 || refs[0].Group.Profile.Mode != "lrp" || refs[0].Group.Rev != 2 || !bytes.Equal(refs[0].Keys.Meta, newKeys.Meta) || len(refs[0].Keys.Master) != 0 {
		t.Fatalf("SUNProfiles after PatchGroup = %+v, %v", refs, err)
	}
	if k, _ := db.GroupKeys(ctx, authGroup); !bytes.Equal(k.File, newKeys.File) {
		t.Fatal("GroupKeys after PatchGroup: not the new file key")
	}
	// a patch without keys keeps them and still bumps Rev
	if err := db.PatchGroup(ctx, authGroup, func(g *tagd.TagGroup) error { g.Status = tagd.StatusInactive; return nil }, nil); err != nil {
		t.Fatal(err)
	}
	if g, _ := db.Group(ctx, authGroup); g.Rev != 3 || g.Status != tagd.StatusInactive {
		t.Fatalf("group %+v, want Rev 3, inactive", g)
	}
	if k, _ := db.GroupKeys(ctx, authGroup); !bytes.Equal(k.Meta, newKeys.Meta) {
		t.Fatal("a patch without keys changed them")
	}
	t.Run("ErrInvalid", func(t *testing.T) {
		unchanged(t, db, tagd.CodeInvalid, "type", func() error {
			return db.PatchGroup(ctx, stdGroup, func(g *tagd.TagGroup) error { g.Type = tagd.GroupAuthentication; return nil }, nil)
		})
		unchanged(t, db, tagd.CodeInvalid, "folder_id", func() error {
			return db.PatchGroup(ctx, stdGroup, func(g *tagd.TagGroup) error { g.FolderID = "f2"; return nil }, nil)
		})
		unchanged(t, db, tagd.CodeInvalid, "keys", func() error {
			return db.PatchGroup(ctx, stdGroup, func(g *tagd.TagGroup) error { g.Name = "x"; return nil }, &newKeys)
		})
		short := tagd.Keys{Meta: tagd.Secret{1, 2, 3}}
		unchanged(t, db, tagd.CodeInvalid, "keys.meta", func() error {
			return db.PatchGroup(ctx, authGroup, func(g *tagd.TagGroup) error { g.Name = "x"; return nil }, &short)
		})
		unchanged(t, db, tagd.CodeInvalid, "ruleset", func() error {
			return db.PatchGroup(ctx, authGroup, func(g *tagd.TagGroup) error {
				g.Ruleset.Groups = slices.Repeat(g.Ruleset.Groups, 4)
				return nil
			}, nil)
		})
		unchanged(t, db, tagd.CodeNotFound, "group_id", func() error {
			return db.PatchGroup(ctx, "nosuch", func(*tagd.TagGroup) error { return nil }, nil)
		})
	})
	unchanged(t, db, tagd.CodeConflict, "id", func() error { return db.DeleteGroup(ctx, authGroup) }) // has a batch
	// an empty authentication group goes with its keys, and out of SUNProfiles
	g := &tagd.TagGroup{FolderID: folderID, Name: "Spare", Type: tagd.GroupAuthentication, Profile: profile()}
	if err := db.CreateGroup(ctx, g, fixtureKeys()); err != nil {
		t.Fatal(err)
	}
	if refs, _ := db.SUNProfiles(ctx); len(refs) != 2 {
		t.Fatalf("SUNProfiles = %d groups, want 2", len(refs))
	}
	if err := db.DeleteGroup(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if refs, _ := db.SUNProfiles(ctx); len(refs) != 1 || refs[0].Group.ID != authGroup {
		t.Fatalf("SUNProfiles after DeleteGroup = %+v", refs)
	}
	wantCode(t, db.DeleteGroup(ctx, g.ID), tagd.CodeNotFound, "group_id")
	// (the cleanup's Check fails on a key record without its group)
}

func TestCRUD_Batches(t *testing.T) {
	db := openDB(t)
	fixture(t, db)
	ctx := context.Background()
	bs, err := db.Batches(ctx, aid, "")
	if err != nil || len(bs) != 2 || bs[0].ID != authBatch || bs[1].ID != stdBatch {
		t.Fatalf("Batches(acme) = %+v, %v", bs, err)
	}
	if bs, _ := db.Batches(ctx, "", "g2"); len(bs) != 1 || bs[0].ID != "b2" {
		t.Fatalf("Batches(group g2) = %+v", bs)
	}
	// a batch moves to another standard group of its folder; its tags follow
	g := &tagd.TagGroup{FolderID: folderID, Name: "Standard 2", Type: tagd.GroupStandard, Ruleset: tagd.Ruleset{Default: "Moved"}}
	if err := db.CreateGroup(ctx, g, tagd.Keys{}); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateBatch(ctx, stdBatch, func(b *tagd.Batch) error { b.GroupID = g.ID; b.Name = "B1 moved"; return nil }); err != nil {
		t.Fatal(err)
	}
	v, err := db.FindTag(ctx, tagd.Lookup{XUID: stdXUID})
	if err != nil || v.Group.ID != g.ID || v.Group.Ruleset.Default != "Moved" || v.Batch.Name != "B1 moved" {
		t.Fatalf("FindTag after the move: %+v %v", v, err)
	}
	unchanged(t, db, tagd.CodeInvalid, "group_id", func() error { // another folder
		return db.UpdateBatch(ctx, stdBatch, func(b *tagd.Batch) error { b.GroupID = "g2"; return nil })
	})
	unchanged(t, db, tagd.CodeInvalid, "group_id", func() error { // another type
		return db.UpdateBatch(ctx, stdBatch, func(b *tagd.Batch) error { b.GroupID = authGroup; return nil })
	})
	unchanged(t, db, tagd.CodeNotFound, "group_id", func() error {
		return db.UpdateBatch(ctx, stdBatch, func(b *tagd.Batch) error { b.GroupID = "nosuch"; return nil })
	})
	unchanged(t, db, tagd.CodeInvalid, "status", func() error {
		return db.UpdateBatch(ctx, stdBatch, func(b *tagd.Batch) error { b.Status = "Active"; return nil })
	})
	unchanged(t, db, tagd.CodeConflict, "id", func() error { return db.DeleteBatch(ctx, stdBatch) }) // has a tag
	if err := db.DeleteBatch(ctx, "b2"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.DeleteBatch(ctx, "b2"), tagd.CodeNotFound, "batch_id")
}

func TestCRUD_Tags(t *testing.T) {
	db := openDB(t)
	fixture(t, db)
	ctx := context.Background()
	for _, x := range []string{"tag00003", "tag00001", "tag00002"} {
		if err := db.CreateTag(ctx, &tagd.Tag{XUID: x, BatchID: stdBatch}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateTag(ctx, &tagd.Tag{XUID: "othertag", BatchID: "b2"}, nil); err != nil {
		t.Fatal(err)
	}
	xuids := func(ts []tagd.Tag) []string {
		var out []string
		for _, tg := range ts {
			out = append(out, tg.XUID)
		}
		return out
	}
	t.Run("Pages", func(t *testing.T) {
		var got []string
		after := ""
		for range 10 {
			ts, next, err := db.Tags(ctx, "", stdBatch, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, xuids(ts)...)
			if next == "" {
				break
			}
			if next != ts[len(ts)-1].XUID {
				t.Fatalf("next %q, want the last XUID of the page %q", next, ts[len(ts)-1].XUID)
			}
			after = next
		}
		if want := []string{stdXUID, "tag00001", "tag00002", "tag00003"}; !slices.Equal(got, want) {
			t.Fatalf("pages of batch bstd: %q, want %q", got, want)
		}
		if ts, next, _ := db.Tags(ctx, aid2, "", "", 10); !slices.Equal(xuids(ts), []string{"othertag"}) || next != "" {
			t.Fatalf("Tags(other) = %q %q", xuids(ts), next)
		}
		if ts, _, _ := db.Tags(ctx, aid, "", "", 1000); len(ts) != 5 {
			t.Fatalf("Tags(acme) = %q", xuids(ts))
		}
		_, _, err := db.Tags(ctx, "", "", "", 0)
		wantCode(t, err, tagd.CodeInvalid, "limit")
	})
	t.Run("Patch", func(t *testing.T) {
		err := db.PatchTag(ctx, stdXUID, func(tg *tagd.Tag) error { tg.UID = "04aabbcc1122ff"; tg.CUID = "new-cuid"; return nil })
		if err != nil {
			t.Fatal(err)
		}
		if v, err := db.FindTag(ctx, tagd.Lookup{AID: aid, UID: "04AABBCC1122FF"}); err != nil || v.Tag.XUID != stdXUID {
			t.Fatalf("FindTag by the new UID: %v", err)
		}
		_, err = db.FindTag(ctx, tagd.Lookup{AID: aid, UID: stdUID})
		wantCode(t, err, tagd.CodeNotFound, "uid")
		_, err = db.FindTag(ctx, tagd.Lookup{AID: aid, CUID: stdCUID})
		wantCode(t, err, tagd.CodeNotFound, "cuid")
		unchanged(t, db, tagd.CodeConflict, "uid", func() error {
			return db.PatchTag(ctx, "tag00001", func(tg *tagd.Tag) error { tg.Name = "x"; tg.UID = "04AABBCC1122FF"; return nil })
		})
		unchanged(t, db, tagd.CodeInvalid, "batch_id", func() error { // a batch of another folder (and account)
			return db.PatchTag(ctx, "tag00001", func(tg *tagd.Tag) error { tg.BatchID = "b2"; return nil })
		})
		unchanged(t, db, tagd.CodeInvalid, "xuid", func() error {
			return db.PatchTag(ctx, "tag00001", func(tg *tagd.Tag) error { tg.XUID = "tag00009"; return nil })
		})
		unchanged(t, db, tagd.CodeInvalid, "status", func() error {
			return db.PatchTag(ctx, "tag00001", func(tg *tagd.Tag) error { tg.Status = "active"; return nil })
		})
		if err := db.PatchTag(ctx, "tag00001", func(tg *tagd.Tag) error { tg.BatchID = authBatch; return nil }); err != nil {
			t.Fatalf("a move within the folder: %v", err)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if err := db.DeleteTag(ctx, authXUID); err != nil {
			t.Fatal(err)
		}
		_, err := db.FindTag(ctx, tagd.Lookup{AID: aid, UID: authUID})
		wantCode(t, err, tagd.CodeNotFound, "uid")
		_, err = db.FindTagByUID(ctx, authUID)
		wantCode(t, err, tagd.CodeNotFound, "uid")
		wantCode(t, db.DeleteTag(ctx, authXUID), tagd.CodeNotFound, "xuid")
		// the XUID and UID are free again, without the old tag's keys
		if err := db.CreateTag(ctx, &tagd.Tag{XUID: authXUID, BatchID: authBatch, UID: authUID}, nil); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := db.TagKeys(ctx, authXUID); err != nil || ok {
			t.Fatalf("TagKeys of the new tag: ok %v, %v; want none", ok, err)
		}
	})
}

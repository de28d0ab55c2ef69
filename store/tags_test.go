package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tagd-nfc/tagd"
)

// TestCreateAndRead creates the fixture and reads every record back with
// the defaults the store fills in.
func TestCreateAndRead(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	fixture(t, db)

	a, err := db.Account(ctx, aid)
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "Acme" || a.Created.IsZero() {
		t.Errorf("account %+v", a)
	}
	if n, err := db.CountAccounts(ctx); err != nil || n != 2 {
		t.Errorf("CountAccounts = %d, %v; want 2", n, err)
	}
	f, err := db.Folder(ctx, folderID)
	if err != nil || f.Status != tagd.StatusActive || f.AID != aid {
		t.Errorf("Folder = %+v, %v", f, err)
	}
	g, err := db.Group(ctx, authGroup)
	if err != nil {
		t.Fatal(err)
	}
	if g.Rev != 1 || g.Status != tagd.StatusActive || g.Profile == nil || g.Profile.Mode != "aes" || len(g.Ruleset.Groups) != 1 {
		t.Errorf("group %+v", g)
	}
	b, err := db.Batch(ctx, stdBatch)
	if err != nil || b.GroupID != stdGroup || b.Status != tagd.StatusActive {
		t.Errorf("Batch = %+v, %v", b, err)
	}
	tag, err := db.Tag(ctx, stdXUID)
	if err != nil {
		t.Fatal(err)
	}
	if tag.AID != aid || tag.Status != tagd.TagActive || tag.UID != stdUID || tag.CUID != stdCUID || tag.CreatedAt.IsZero() || tag.HasCounter {
		t.Errorf("tag %+v", tag)
	}
}

// TestCreateAssigns checks the ids, the uppercase UID and the AID that the
// create methods fill in, and that *arg is what was stored.
func TestCreateAssigns(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	fixture(t, db)
	f := &tagd.Folder{AID: aid, Name: "No id"}
	if err := db.CreateFolder(ctx, f); err != nil {
		t.Fatal(err)
	}
	g := &tagd.TagGroup{FolderID: f.ID, Type: tagd.GroupStandard, Rev: 41}
	if err := db.CreateGroup(ctx, g, tagd.Keys{}); err != nil {
		t.Fatal(err)
	}
	b := &tagd.Batch{GroupID: g.ID}
	if err := db.CreateBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	tag := &tagd.Tag{BatchID: b.ID, UID: "04abcdef010203"}
	if err := db.CreateTag(ctx, tag, nil); err != nil {
		t.Fatal(err)
	}
	if f.ID == "" || g.ID == "" || b.ID == "" || len(tag.XUID) != 8 {
		t.Fatalf("ids not assigned: %q %q %q %q", f.ID, g.ID, b.ID, tag.XUID)
	}
	if g.Rev != 1 {
		t.Errorf("new group Rev = %d, want 1", g.Rev)
	}
	if tag.UID != "04ABCDEF010203" || tag.AID != aid || tag.Status != tagd.TagActive {
		t.Errorf("tag %+v", tag)
	}
	got, err := db.Tag(ctx, tag.XUID)
	if err != nil || got.UID != tag.UID || !got.CreatedAt.Equal(tag.CreatedAt) {
		t.Errorf("Tag = %+v, %v; want %+v", got, err, tag)
	}
}

// TestCreateInvalid feeds bad input to every create method: CodeInvalid
// with the field named, and nothing stored.
func TestCreateInvalid(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	fixture(t, db)
	long := strings.Repeat("x", 65)
	short := tagd.Keys{Meta: make(tagd.Secret, 15)}
	for _, tc := range []struct {
		name  string
		field string
		err   func() error
	}{
		{"account aid empty", "aid", func() error { return db.CreateAccount(ctx, tagd.Account{}) }},
		{"account aid space", "aid", func() error { return db.CreateAccount(ctx, tagd.Account{AID: "a b"}) }},
		{"account aid long", "aid", func() error { return db.CreateAccount(ctx, tagd.Account{AID: long}) }},
		{"account name control", "name", func() error { return db.CreateAccount(ctx, tagd.Account{AID: "x", Name: "a\nb"}) }},
		{"account token hash", "mgmt_token_hash", func() error { return db.CreateAccount(ctx, tagd.Account{AID: "x", MgmtTokenHash: []byte("short")}) }},
		{"folder aid", "aid", func() error { return db.CreateFolder(ctx, &tagd.Folder{ID: "x"}) }},
		{"folder id", "id", func() error { return db.CreateFolder(ctx, &tagd.Folder{ID: "x/y", AID: aid}) }},
		{"folder cors path", "cors", func() error { return db.CreateFolder(ctx, &tagd.Folder{AID: aid, CORS: "https://a.example/x"}) }},
		{"folder cors two", "cors", func() error {
			return db.CreateFolder(ctx, &tagd.Folder{AID: aid, CORS: "https://a.example https://b.example"})
		}},
		{"folder status", "status", func() error { return db.CreateFolder(ctx, &tagd.Folder{AID: aid, Status: "Active"}) }},
		{"folder field type", "fields", func() error {
			return db.CreateFolder(ctx, &tagd.Folder{AID: aid, Fields: []tagd.ExtField{{Name: "a", Type: "int"}}})
		}},
		{"folder field twice", "fields", func() error {
			return db.CreateFolder(ctx, &tagd.Folder{AID: aid, Fields: []tagd.ExtField{{Name: "a", Type: "text"}, {Name: "a", Type: "date"}}})
		}},
		{"group type", "type", func() error {
			return db.CreateGroup(ctx, &tagd.TagGroup{FolderID: folderID, Type: "magic"}, tagd.Keys{})
		}},
		{"group folder", "folder_id", func() error { return db.CreateGroup(ctx, &tagd.TagGroup{Type: tagd.GroupStandard}, tagd.Keys{}) }},
		{"group profile on standard", "profile", func() error {
			return db.CreateGroup(ctx, &tagd.TagGroup{FolderID: folderID, Type: tagd.GroupStandard, Profile: profile()}, tagd.Keys{})
		}},
		{"group profile mode", "profile.mode", func() error {
			p := profile()
			p.Mode = "des"
			return db.CreateGroup(ctx, &tagd.TagGroup{FolderID: folderID, Type: tagd.GroupAuthentication, Profile: p}, tagd.Keys{})
		}},
		{"group profile mac input", "profile.mac_input", func() error {
			p := profile()
			p.MACInput = "at:"
			return db.CreateGroup(ctx, &tagd.TagGroup{FolderID: folderID, Type: tagd.GroupAuthentication, Profile: p}, tagd.Keys{})
		}},
		{"group profile key source", "profile.file_key_source", func() error {
			p := profile()
			p.FileKeySource = "guess"
			return db.CreateGroup(ctx, &tagd.TagGroup{FolderID: folderID, Type: tagd.GroupAuthentication, Profile: p}, tagd.Keys{})
		}},
		{"group ruleset groups", "ruleset", func() error {
			rg := tagd.RuleGroup{Response: "x", Rules: []tagd.Rule{{Type: tagd.RuleTagAuth, Op: "pass"}}}
			return db.CreateGroup(ctx, &tagd.TagGroup{FolderID: folderID, Type: tagd.GroupStandard, Ruleset: tagd.Ruleset{Groups: []tagd.RuleGroup{rg, rg, rg, rg}}}, tagd.Keys{})
		}},
		{"group ruleset rule", "ruleset", func() error {
			rg := tagd.RuleGroup{Response: "x", Rules: []tagd.Rule{{Type: tagd.RuleScanCount, Op: "lt", Value: "ten"}}}
			return db.CreateGroup(ctx, &tagd.TagGroup{FolderID: folderID, Type: tagd.GroupStandard, Ruleset: tagd.Ruleset{Groups: []tagd.RuleGroup{rg}}}, tagd.Keys{})
		}},
		{"group meta key", "keys.meta", func() error {
			return db.CreateGroup(ctx, &tagd.TagGroup{FolderID: folderID, Type: tagd.GroupAuthentication}, short)
		}},
		{"group master key", "keys.master", func() error {
			return db.CreateGroup(ctx, &tagd.TagGroup{FolderID: folderID, Type: tagd.GroupAuthentication}, tagd.Keys{Master: make(tagd.Secret, 24)})
		}},
		{"batch group", "group_id", func() error { return db.CreateBatch(ctx, &tagd.Batch{}) }},
		{"batch status", "status", func() error { return db.CreateBatch(ctx, &tagd.Batch{GroupID: stdGroup, Status: "gone"}) }},
		{"tag xuid upper", "xuid", func() error { return db.CreateTag(ctx, &tagd.Tag{XUID: "Q8W3SBCZ", BatchID: stdBatch}, nil) }},
		{"tag xuid length", "xuid", func() error { return db.CreateTag(ctx, &tagd.Tag{XUID: "abc", BatchID: stdBatch}, nil) }},
		{"tag uid length", "uid", func() error { return db.CreateTag(ctx, &tagd.Tag{BatchID: stdBatch, UID: "04AABB"}, nil) }},
		{"tag uid hex", "uid", func() error { return db.CreateTag(ctx, &tagd.Tag{BatchID: stdBatch, UID: "04AABBCC11223G"}, nil) }},
		{"tag cuid long", "cuid", func() error { return db.CreateTag(ctx, &tagd.Tag{BatchID: stdBatch, CUID: long}, nil) }},
		{"tag cuid control", "cuid", func() error { return db.CreateTag(ctx, &tagd.Tag{BatchID: stdBatch, CUID: "a\x00b"}, nil) }},
		{"tag status", "status", func() error { return db.CreateTag(ctx, &tagd.Tag{BatchID: stdBatch, Status: "active"}, nil) }},
		{"tag batch", "batch_id", func() error { return db.CreateTag(ctx, &tagd.Tag{}, nil) }},
		{"tag aid of another account", "aid", func() error { return db.CreateTag(ctx, &tagd.Tag{BatchID: stdBatch, AID: aid2}, nil) }},
		{"tag empty keys", "keys", func() error { return db.CreateTag(ctx, &tagd.Tag{BatchID: stdBatch}, &tagd.Keys{}) }},
		{"tag file key", "keys.file", func() error {
			return db.CreateTag(ctx, &tagd.Tag{BatchID: stdBatch}, &tagd.Keys{File: make(tagd.Secret, 32)})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.err(), tagd.CodeInvalid, tc.field) })
	}
	if n, _ := db.CountAccounts(ctx); n != 2 {
		t.Errorf("%d accounts after invalid creates, want 2", n)
	}
}

// TestCreateNotFound creates records under parents that do not exist.
func TestCreateNotFound(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	fixture(t, db)
	wantCode(t, db.CreateFolder(ctx, &tagd.Folder{AID: "nobody"}), tagd.CodeNotFound, "aid")
	wantCode(t, db.CreateGroup(ctx, &tagd.TagGroup{FolderID: "nofolder", Type: tagd.GroupStandard}, tagd.Keys{}), tagd.CodeNotFound, "folder_id")
	wantCode(t, db.CreateBatch(ctx, &tagd.Batch{GroupID: "nogroup"}), tagd.CodeNotFound, "group_id")
	wantCode(t, db.CreateTag(ctx, &tagd.Tag{BatchID: "nobatch"}, nil), tagd.CodeNotFound, "batch_id")
	_, err := db.Account(ctx, "nobody")
	wantCode(t, err, tagd.CodeNotFound, "aid")
	_, err = db.Folder(ctx, "nofolder")
	wantCode(t, err, tagd.CodeNotFound, "folder_id")
	_, err = db.Group(ctx, "nogroup")
	wantCode(t, err, tagd.CodeNotFound, "group_id")
	_, err = db.Batch(ctx, "nobatch")
	wantCode(t, err, tagd.CodeNotFound, "batch_id")
	_, err = db.Tag(ctx, "zzzzzzzz")
	wantCode(t, err, tagd.CodeNotFound, "xuid")
	_, err = db.GroupKeys(ctx, "nogroup")
	wantCode(t, err, tagd.CodeNotFound, "group_id")
	_, _, err = db.TagKeys(ctx, "zzzzzzzz")
	wantCode(t, err, tagd.CodeNotFound, "xuid")
	wantCode(t, db.UpdateTag(ctx, "zzzzzzzz", func(*tagd.Tag) error { return nil }), tagd.CodeNotFound, "xuid")
	wantCode(t, db.UpdateGroup(ctx, "nogroup", func(*tagd.TagGroup) error { return nil }), tagd.CodeNotFound, "group_id")
	wantCode(t, db.SetGroupKeys(ctx, "nogroup", tagd.Keys{}), tagd.CodeNotFound, "group_id")
	wantCode(t, db.SetTagKeys(ctx, "zzzzzzzz", nil), tagd.CodeNotFound, "xuid")
}

// TestCreateConflicts creates duplicates: ids, XUIDs, and UIDs and CUIDs
// within an account. The same UID or CUID in two accounts is fine.
func TestCreateConflicts(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	fixture(t, db)
	wantCode(t, db.CreateAccount(ctx, tagd.Account{AID: aid}), tagd.CodeConflict, "aid")
	wantCode(t, db.CreateFolder(ctx, &tagd.Folder{ID: folderID, AID: aid}), tagd.CodeConflict, "id")
	wantCode(t, db.CreateGroup(ctx, &tagd.TagGroup{ID: stdGroup, FolderID: folderID, Type: tagd.GroupStandard}, tagd.Keys{}), tagd.CodeConflict, "id")
	wantCode(t, db.CreateBatch(ctx, &tagd.Batch{ID: stdBatch, GroupID: stdGroup}), tagd.CodeConflict, "id")
	wantCode(t, db.CreateTag(ctx, &tagd.Tag{XUID: stdXUID, BatchID: stdBatch}, nil), tagd.CodeConflict, "xuid")
	// The XUID is global: another account cannot reuse it either.
	wantCode(t, db.CreateTag(ctx, &tagd.Tag{XUID: stdXUID, BatchID: "b2"}, nil), tagd.CodeConflict, "xuid")
	wantCode(t, db.CreateTag(ctx, &tagd.Tag{BatchID: authBatch, UID: strings.ToLower(stdUID)}, nil), tagd.CodeConflict, "uid")
	wantCode(t, db.CreateTag(ctx, &tagd.Tag{BatchID: authBatch, CUID: stdCUID}, nil), tagd.CodeConflict, "cuid")
	// A failed create leaves nothing behind: the new XUID is free.
	wantCode(t, db.CreateTag(ctx, &tagd.Tag{XUID: "newtag01", BatchID: authBatch, UID: "04000000000001", CUID: stdCUID}, nil), tagd.CodeConflict, "cuid")
	if _, err := db.Tag(ctx, "newtag01"); tagd.ErrorCode(err) != tagd.CodeNotFound {
		t.Fatalf("tag of a failed create: %v", err)
	}
	if _, err := db.FindTag(ctx, tagd.Lookup{AID: aid, UID: "04000000000001"}); tagd.ErrorCode(err) != tagd.CodeNotFound {
		t.Fatalf("UID index of a failed create: %v", err)
	}
	// CUIDs are case-sensitive.
	if err := db.CreateTag(ctx, &tagd.Tag{BatchID: authBatch, CUID: strings.ToUpper(stdCUID)}, nil); err != nil {
		t.Fatal(err)
	}
	// Another account may hold the same UID and CUID.
	if err := db.CreateTag(ctx, &tagd.Tag{XUID: "other001", BatchID: "b2", UID: stdUID, CUID: stdCUID}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := db.FindTagByUID(ctx, stdUID)
	wantCode(t, err, tagd.CodeConflict, "uid")
	for _, a := range []string{aid, aid2} {
		v, err := db.FindTag(ctx, tagd.Lookup{AID: a, UID: stdUID})
		if err != nil || v.Account.AID != a {
			t.Errorf("FindTag(%s, uid) = %+v, %v", a, v, err)
		}
	}
}

// TestFindTag looks the tags up in every form and checks every NotFound
// field.
func TestFindTag(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	fixture(t, db)
	for _, l := range []tagd.Lookup{
		{XUID: stdXUID},
		{XUID: stdXUID, AID: "ignored"},
		{AID: aid, CUID: stdCUID},
		{AID: aid, UID: stdUID},
		{AID: aid, UID: strings.ToLower(stdUID)},
	} {
		v, err := db.FindTag(ctx, l)
		if err != nil {
			t.Fatalf("FindTag(%+v): %v", l, err)
		}
		if v.Tag.XUID != stdXUID || v.Batch.ID != stdBatch || v.Group.ID != stdGroup || v.Folder.ID != folderID || v.Account.AID != aid {
			t.Errorf("FindTag(%+v) = %+v", l, v)
		}
	}
	v, err := db.FindTagByUID(ctx, strings.ToLower(authUID))
	if err != nil || v.Tag.XUID != authXUID || v.Group.Profile == nil {
		t.Errorf("FindTagByUID = %+v, %v", v, err)
	}
	for _, tc := range []struct {
		l     tagd.Lookup
		field string
	}{
		{tagd.Lookup{XUID: "zzzzzzzz"}, "xuid"},
		{tagd.Lookup{XUID: "NOT AN XUID"}, "xuid"},
		{tagd.Lookup{AID: "nobody", CUID: stdCUID}, "aid"},
		{tagd.Lookup{AID: "nobody", UID: stdUID}, "aid"},
		{tagd.Lookup{AID: aid, CUID: "nocuid"}, "cuid"},
		{tagd.Lookup{AID: aid, CUID: strings.ToUpper(stdCUID)}, "cuid"},
		{tagd.Lookup{AID: aid, UID: "04000000000000"}, "uid"},
		{tagd.Lookup{AID: aid, UID: "xyz"}, "uid"},
		{tagd.Lookup{AID: aid2, UID: stdUID}, "uid"},
	} {
		_, err := db.FindTag(ctx, tc.l)
		wantCode(t, err, tagd.CodeNotFound, tc.field)
	}
	for _, l := range []tagd.Lookup{{}, {AID: aid}, {CUID: stdCUID}, {UID: stdUID}} {
		_, err := db.FindTag(ctx, l)
		wantCode(t, err, tagd.CodeInvalid, "lookup")
	}
	for _, uid := range []string{"04000000000000", "", "nothex"} {
		_, err := db.FindTagByUID(ctx, uid)
		wantCode(t, err, tagd.CodeNotFound, "uid")
	}
}

// TestUpdateTag changes a tag's UID, CUID and batch through UpdateTag and
// follows the indexes.
func TestUpdateTag(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	fixture(t, db)
	if err := db.CreateBatch(ctx, &tagd.Batch{ID: "bstd2", GroupID: stdGroup}); err != nil {
		t.Fatal(err)
	}
	err := db.UpdateTag(ctx, stdXUID, func(tag *tagd.Tag) error {
		tag.UID = "04aabbcc112299"
		tag.CUID = "newcuid"
		tag.Name = "Cup"
		tag.BatchID = "bstd2"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []tagd.Lookup{{AID: aid, UID: stdUID}, {AID: aid, CUID: stdCUID}} {
		if _, err := db.FindTag(ctx, l); tagd.ErrorCode(err) != tagd.CodeNotFound {
			t.Errorf("old key %+v still found: %v", l, err)
		}
	}
	for _, l := range []tagd.Lookup{{AID: aid, UID: "04AABBCC112299"}, {AID: aid, CUID: "newcuid"}} {
		v, err := db.FindTag(ctx, l)
		if err != nil || v.Tag.Name != "Cup" || v.Tag.UID != "04AABBCC112299" || v.Batch.ID != "bstd2" {
			t.Errorf("FindTag(%+v) = %+v, %v", l, v, err)
		}
	}
	if _, err := db.FindTagByUID(ctx, stdUID); tagd.ErrorCode(err) != tagd.CodeNotFound {
		t.Errorf("old UID still in idx_uid_any: %v", err)
	}
	if v, err := db.FindTagByUID(ctx, "04AABBCC112299"); err != nil || v.Tag.XUID != stdXUID {
		t.Errorf("FindTagByUID(new) = %+v, %v", v, err)
	}

	// Clearing the UID removes it from the indexes.
	if err := db.UpdateTag(ctx, stdXUID, func(tag *tagd.Tag) error { tag.UID = ""; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindTagByUID(ctx, "04AABBCC112299"); tagd.ErrorCode(err) != tagd.CodeNotFound {
		t.Errorf("cleared UID still found: %v", err)
	}

	// Refused updates change nothing.
	before, _ := db.Tag(ctx, stdXUID)
	wantCode(t, db.UpdateTag(ctx, stdXUID, func(tag *tagd.Tag) error { tag.UID = authUID; tag.Name = "x"; return nil }), tagd.CodeConflict, "uid")
	wantCode(t, db.UpdateTag(ctx, stdXUID, func(tag *tagd.Tag) error { tag.XUID = "zzzzzzzz"; return nil }), tagd.CodeInvalid, "xuid")
	wantCode(t, db.UpdateTag(ctx, stdXUID, func(tag *tagd.Tag) error { tag.AID = aid2; return nil }), tagd.CodeInvalid, "aid")
	wantCode(t, db.UpdateTag(ctx, stdXUID, func(tag *tagd.Tag) error { tag.BatchID = "b2"; return nil }), tagd.CodeInvalid, "batch_id")
	wantCode(t, db.UpdateTag(ctx, stdXUID, func(tag *tagd.Tag) error { tag.BatchID = "nobatch"; return nil }), tagd.CodeNotFound, "batch_id")
	wantCode(t, db.UpdateTag(ctx, stdXUID, func(tag *tagd.Tag) error { tag.CUID = strings.Repeat("é", 65); return nil }), tagd.CodeInvalid, "cuid")
	mine := errors.New("not today")
	if err := db.UpdateTag(ctx, stdXUID, func(tag *tagd.Tag) error { tag.Name = "y"; return mine }); err != mine {
		t.Errorf("UpdateTag returned %v, want fn's error", err)
	}
	after, _ := db.Tag(ctx, stdXUID)
	if after.Name != before.Name || after.UID != before.UID || after.BatchID != before.BatchID {
		t.Errorf("refused updates changed the tag: %+v → %+v", before, after)
	}
	if v, err := db.FindTag(ctx, tagd.Lookup{AID: aid, UID: authUID}); err != nil || v.Tag.XUID != authXUID {
		t.Errorf("auth tag's UID after a refused update: %+v, %v", v, err)
	}
}

// TestUpdateGroup checks that every change of a group or its keys
// increments Rev.
func TestUpdateGroup(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	fixture(t, db)
	if err := db.UpdateGroup(ctx, authGroup, func(g *tagd.TagGroup) error {
		g.Name = "Auth"
		g.Rev = 100 // ignored
		g.Profile.Mode = "auto"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	g, _ := db.Group(ctx, authGroup)
	if g.Rev != 2 || g.Name != "Auth" || g.Profile.Mode != "auto" {
		t.Fatalf("group after update %+v", g)
	}
	nk := tagd.Keys{Meta: make(tagd.Secret, 16), File: make(tagd.Secret, 16)}
	if err := db.SetGroupKeys(ctx, authGroup, nk); err != nil {
		t.Fatal(err)
	}
	g, _ = db.Group(ctx, authGroup)
	k, err := db.GroupKeys(ctx, authGroup)
	if err != nil || g.Rev != 3 || len(k.Meta) != 16 || len(k.Master) != 0 {
		t.Fatalf("after SetGroupKeys: rev %d keys %d/%d/%d %v", g.Rev, len(k.Meta), len(k.File), len(k.Master), err)
	}
	if err := db.SetGroupKeys(ctx, authGroup, tagd.Keys{}); err != nil {
		t.Fatal(err)
	}
	if k, err := db.GroupKeys(ctx, authGroup); err != nil || len(k.Meta)+len(k.File)+len(k.Master) != 0 {
		t.Fatalf("keys after removal: %d bytes, %v", len(k.Meta)+len(k.File)+len(k.Master), err)
	}
	wantCode(t, db.UpdateGroup(ctx, authGroup, func(g *tagd.TagGroup) error { g.Type = tagd.GroupStandard; return nil }), tagd.CodeInvalid, "profile")
	wantCode(t, db.UpdateGroup(ctx, authGroup, func(g *tagd.TagGroup) error { g.ID = "other"; return nil }), tagd.CodeInvalid, "id")
	wantCode(t, db.UpdateGroup(ctx, authGroup, func(g *tagd.TagGroup) error { g.FolderID = "f2"; return nil }), tagd.CodeInvalid, "folder_id")
	if g, _ := db.Group(ctx, authGroup); g.Rev != 4 {
		t.Fatalf("refused updates moved Rev to %d, want 4", g.Rev)
	}
}

// TestContextCanceled checks that a canceled context stops every kind of
// call before it touches the database.
func TestContextCanceled(t *testing.T) {
	db := openDB(t)
	fixture(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.FindTag(ctx, tagd.Lookup{XUID: stdXUID}); !errors.Is(err, context.Canceled) {
		t.Errorf("FindTag: %v", err)
	}
	if err := db.CreateAccount(ctx, tagd.Account{AID: "late"}); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateAccount: %v", err)
	}
	if _, _, err := db.RecordTap(ctx, tagd.Tap{XUID: stdXUID}); !errors.Is(err, context.Canceled) {
		t.Errorf("RecordTap: %v", err)
	}
}

// TestClosed checks that calls after Close fail with an internal error
// instead of panicking.
func TestClosed(t *testing.T) {
	db := openDB(t)
	fixture(t, db)
	d := db.DB
	db.checkAndClose(t)
	ctx := context.Background()
	if _, err := d.FindTag(ctx, tagd.Lookup{XUID: stdXUID}); tagd.ErrorCode(err) != tagd.CodeInternal {
		t.Errorf("FindTag after Close: %v", err)
	}
	if _, _, err := d.RecordTap(ctx, tagd.Tap{XUID: stdXUID}); tagd.ErrorCode(err) != tagd.CodeInternal {
		t.Errorf("RecordTap after Close: %v", err)
	}
}

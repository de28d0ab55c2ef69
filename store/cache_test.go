package store_test

import (
	"context"
	"testing"

	"github.com/tagd-nfc/tagd"
)

// TestRecordCacheSeesChanges reads a tag's view (filling the record
// cache), changes its group, its folder's fields and its keys, and checks
// that the next reads see the changes, and that changing a returned view
// does not change what the next read returns.
func TestRecordCacheSeesChanges(t *testing.T) {
	db := openDB(t)
	fixture(t, db)
	ctx := context.Background()
	v, err := db.FindTag(ctx, tagd.Lookup{XUID: authXUID})
	if err != nil {
		t.Fatal(err)
	}
	v.Group.Name = "scribbled" // callers may change their copy
	v.Group.Ruleset.Default = "scribbled"
	if err := db.UpdateGroup(ctx, authGroup, func(g *tagd.TagGroup) error {
		g.Ruleset.Default = "Changed"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	v2, err := db.FindTag(ctx, tagd.Lookup{XUID: authXUID})
	if err != nil {
		t.Fatal(err)
	}
	if v2.Group.Ruleset.Default != "Changed" || v2.Group.Name == "scribbled" {
		t.Errorf("after UpdateGroup the view has default %q, name %q", v2.Group.Ruleset.Default, v2.Group.Name)
	}
	before, err := db.GroupKeys(ctx, authGroup)
	if err != nil {
		t.Fatal(err)
	}
	nk := fixtureKeys()
	nk.File = tagd.Secret{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01}
	if err := db.SetGroupKeys(ctx, authGroup, nk); err != nil {
		t.Fatal(err)
	}
	after, err := db.GroupKeys(ctx, authGroup)
	if err != nil {
		t.Fatal(err)
	}
	if string(after.File) == string(before.File) || string(after.File) != string(nk.File) {
		t.Errorf("GroupKeys did not see the new file key")
	}
	refs, err := db.SUNProfiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range refs {
		if r.Group.ID == authGroup {
			found = true
			if string(r.Keys.File) != string(nk.File) || r.Group.Ruleset.Default != "Changed" {
				t.Errorf("SUNProfiles served stale data: %+v", r.Group.Ruleset)
			}
		}
	}
	if !found {
		t.Errorf("no profile for %s", authGroup)
	}
}

package main

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/store"
)

// Demo data (SPEC §5): loaded by `tagd run --demo` into a data directory
// that holds no accounts yet.
const (
	demoAID         = "demo"
	demoMgmtToken   = "demo"
	demoStdXUID     = "q8w3sbcz"
	demoStdUID      = "04AABBCC112233"
	demoStdCUID     = "yourcuid"
	demoAuthXUID    = "an12196a"
	demoAuthUID     = "04DE5F1EACC040" // the UID of AN12196's example
	demoAuthGroupID = "authentication"
)

// demoSimTagCount is the number of demo simulation tags: enough for 16
// load-test clients with two tags each.
const demoSimTagCount = 32

// demoSimTags are the further authentication tags that the simulated card
// and the load generator (cmd/tagd-load) tap with genuine SUN messages
// (factory all-zero keys): demo0001 … demo0032 with UIDs 04A1B2C3D4E501 …
// 04A1B2C3D4E520.
func demoSimTags() []tagd.Tag {
	tags := make([]tagd.Tag, demoSimTagCount)
	for i := range tags {
		n := i + 1
		tags[i] = tagd.Tag{XUID: fmt.Sprintf("demo%04d", n), UID: fmt.Sprintf("04A1B2C3D4E5%02X", n), Name: fmt.Sprintf("Demo bottle %d", n)}
	}
	return tags
}

// loadDemo fills an empty store with the demo data; it does nothing when
// the store already holds an account.
func loadDemo(ctx context.Context, db *store.DB) (bool, error) {
	n, err := db.CountAccounts(ctx)
	if err != nil || n > 0 {
		return false, err
	}
	tokenHash := sha256.Sum256([]byte(demoMgmtToken))
	if err := db.CreateAccount(ctx, tagd.Account{AID: demoAID, Name: "Demo", MgmtTokenHash: tokenHash[:]}); err != nil {
		return false, fmt.Errorf("demo account: %w", err)
	}
	folder := &tagd.Folder{ID: "demo", AID: demoAID, Name: "Demo", Status: tagd.StatusActive}
	if err := db.CreateFolder(ctx, folder); err != nil {
		return false, fmt.Errorf("demo folder: %w", err)
	}
	std := &tagd.TagGroup{ID: "standard", FolderID: folder.ID, Name: "Standard", Type: tagd.GroupStandard, Status: tagd.StatusActive,
		Ruleset: tagd.Ruleset{Default: "Found"}}
	if err := db.CreateGroup(ctx, std, tagd.Keys{}); err != nil {
		return false, fmt.Errorf("demo group: %w", err)
	}
	zero := make([]byte, 16)
	auth := &tagd.TagGroup{ID: demoAuthGroupID, FolderID: folder.ID, Name: "Authentication", Type: tagd.GroupAuthentication, Status: tagd.StatusActive,
		Ruleset: tagd.Ruleset{Default: "Fail", Groups: []tagd.RuleGroup{{Response: "Pass", Rules: []tagd.Rule{{Type: tagd.RuleTagAuth, Op: "pass"}}}}},
		Profile: &tagd.SUNProfile{Mode: "aes", Params: tagd.SUNParams{PICC: "picc_data", Enc: "enc", MAC: "cmac"}, MACInput: "empty",
			FileKeySource: "static", TamperOffset: -1}}
	if err := db.CreateGroup(ctx, auth, tagd.Keys{Meta: zero, File: zero}); err != nil {
		return false, fmt.Errorf("demo group: %w", err)
	}
	for _, b := range []*tagd.Batch{{ID: "B1", GroupID: std.ID, Name: "B1", Status: tagd.StatusActive}, {ID: "A1", GroupID: auth.ID, Name: "A1", Status: tagd.StatusActive}} {
		if err := db.CreateBatch(ctx, b); err != nil {
			return false, fmt.Errorf("demo batch: %w", err)
		}
	}
	tags := []tagd.Tag{
		{XUID: demoStdXUID, BatchID: "B1", UID: demoStdUID, CUID: demoStdCUID, Name: "Demo product"},
		{XUID: demoAuthXUID, BatchID: "A1", UID: demoAuthUID, Name: "AN12196 example tag"},
	}
	for _, t := range demoSimTags() {
		t.BatchID = "A1"
		tags = append(tags, t)
	}
	for i := range tags {
		tags[i].AID, tags[i].Status = demoAID, tagd.TagActive
		if err := db.CreateTag(ctx, &tags[i], nil); err != nil {
			return false, fmt.Errorf("demo tag %s: %w", tags[i].XUID, err)
		}
	}
	return true, nil
}

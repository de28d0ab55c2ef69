package store_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/store"
	bolt "go.etcd.io/bbolt"
)

// The store implements the check flow's storage.
var _ tagd.TapStore = (*store.DB)(nil)

// testKEK is the key-encryption key of the test databases.
func testKEK() []byte { return bytes.Repeat([]byte{0x4b}, 32) }

// clock is a settable test clock that advances one second per reading.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

// newClock returns a clock at a fixed instant.
func newClock() *clock { return &clock{t: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)} }

// Now returns the clock's time and advances it.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// testDB is an open test database.
type testDB struct {
	*store.DB
	path  string
	opts  store.Options
	clock *clock
}

// openDB opens a database in a temporary directory with fsync off (except
// where a test asks for it in mod). Its cleanup runs Check, then Close.
func openDB(t testing.TB, mod ...func(*store.Options)) *testDB {
	t.Helper()
	c := newClock()
	opts := store.Options{KEK: testKEK(), Now: c.Now, NoSync: true}
	for _, m := range mod {
		m(&opts)
	}
	path := filepath.Join(t.TempDir(), "tagd.db")
	db, err := store.Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	tdb := &testDB{DB: db, path: path, opts: opts, clock: c}
	t.Cleanup(func() { tdb.checkAndClose(t) })
	return tdb
}

// withSync turns fsync on.
func withSync(o *store.Options) { o.NoSync = false }

// checkAndClose runs Check and closes the database, if it is open.
func (d *testDB) checkAndClose(t testing.TB) {
	t.Helper()
	if d.DB == nil {
		return
	}
	if err := d.Check(context.Background()); err != nil {
		t.Errorf("Check: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	d.DB = nil
}

// reopen closes the database (after a Check) and opens it again with the
// same options.
func (d *testDB) reopen(t testing.TB) {
	t.Helper()
	d.checkAndClose(t)
	db, err := store.Open(d.path, d.opts)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	d.DB = db
}

// raw closes the database and runs fn on the bare bbolt file in a write
// transaction, to plant what the store's API cannot. It does not reopen.
func (d *testDB) raw(t testing.TB, fn func(tx *bolt.Tx) error) {
	t.Helper()
	if d.DB != nil {
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		d.DB = nil
	}
	b, err := bolt.Open(d.path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Update(fn); err != nil {
		t.Fatal(err)
	}
}

// Fixture ids and values.
const (
	aid       = "acme"
	aid2      = "other"
	folderID  = "f1"
	stdGroup  = "gstd"
	authGroup = "gauth"
	stdBatch  = "bstd"
	authBatch = "bauth"
	stdXUID   = "q8w3sbcz"
	authXUID  = "an12196a"
	stdUID    = "04AABBCC112233"
	authUID   = "04DE5F1EACC040"
	stdCUID   = "yourcuid"
)

// fixtureKeys returns distinctive group keys.
func fixtureKeys() tagd.Keys {
	return tagd.Keys{
		Meta:   tagd.Secret(bytes.Repeat([]byte{0xA1, 0x5E, 0xC2, 0x37}, 4)),
		File:   tagd.Secret(bytes.Repeat([]byte{0xB2, 0x6F, 0xD3, 0x48}, 4)),
		Master: tagd.Secret(bytes.Repeat([]byte{0xC3, 0x70, 0xE4, 0x59}, 8)),
	}
}

// tagKeys returns distinctive per-tag keys.
func tagKeys() tagd.Keys {
	return tagd.Keys{File: tagd.Secret(bytes.Repeat([]byte{0xD4, 0x81, 0xF5, 0x6A}, 4))}
}

// profile returns an AES SUN profile.
func profile() *tagd.SUNProfile {
	return &tagd.SUNProfile{Mode: "aes", Params: tagd.SUNParams{PICC: "picc_data", Enc: "enc", MAC: "cmac"}, MACInput: "empty", FileKeySource: "static", TamperOffset: -1}
}

// fixture creates account acme with folder f1, a standard group gstd with
// batch bstd and tag q8w3sbcz (UID and CUID), and an authentication group
// gauth (profile and keys) with batch bauth and tag an12196a (UID and its
// own keys); and account other with folder f2, group g2 and batch b2.
func fixture(t testing.TB, db *testDB) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.CreateAccount(ctx, tagd.Account{AID: aid, Name: "Acme"}))
	must(db.CreateFolder(ctx, &tagd.Folder{ID: folderID, AID: aid, Name: "Demo"}))
	must(db.CreateGroup(ctx, &tagd.TagGroup{ID: stdGroup, FolderID: folderID, Name: "Standard", Type: tagd.GroupStandard, Ruleset: tagd.Ruleset{Default: "Found"}}, tagd.Keys{}))
	must(db.CreateGroup(ctx, &tagd.TagGroup{ID: authGroup, FolderID: folderID, Name: "Authentication", Type: tagd.GroupAuthentication,
		Ruleset: tagd.Ruleset{Default: "Fail", Groups: []tagd.RuleGroup{{Response: "Pass", Rules: []tagd.Rule{{Type: tagd.RuleTagAuth, Op: "pass"}}}}},
		Profile: profile()}, fixtureKeys()))
	must(db.CreateBatch(ctx, &tagd.Batch{ID: stdBatch, GroupID: stdGroup, Name: "B1"}))
	must(db.CreateBatch(ctx, &tagd.Batch{ID: authBatch, GroupID: authGroup, Name: "A1"}))
	must(db.CreateTag(ctx, &tagd.Tag{XUID: stdXUID, BatchID: stdBatch, UID: stdUID, CUID: stdCUID, Name: "Mug"}, nil))
	k := tagKeys()
	must(db.CreateTag(ctx, &tagd.Tag{XUID: authXUID, BatchID: authBatch, UID: authUID, Name: "Bag"}, &k))
	must(db.CreateAccount(ctx, tagd.Account{AID: aid2, Name: "Other"}))
	must(db.CreateFolder(ctx, &tagd.Folder{ID: "f2", AID: aid2}))
	must(db.CreateGroup(ctx, &tagd.TagGroup{ID: "g2", FolderID: "f2", Type: tagd.GroupStandard}, tagd.Keys{}))
	must(db.CreateBatch(ctx, &tagd.Batch{ID: "b2", GroupID: "g2"}))
}

// wantCode fails unless err is a *tagd.Error with the code and field.
func wantCode(t testing.TB, err error, code tagd.Code, field string) {
	t.Helper()
	var e *tagd.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want a *tagd.Error %s/%s", err, err, code, field)
	}
	if e.Code != code || e.Field != field {
		t.Fatalf("error %v: code %q field %q, want %q %q", err, e.Code, e.Field, code, field)
	}
	if e.Message == "" {
		t.Fatalf("error %+v has no message", e)
	}
}

// wantInternal fails unless err has code internal and mentions substr.
func wantInternal(t testing.TB, err error, substr string) {
	t.Helper()
	if tagd.ErrorCode(err) != tagd.CodeInternal {
		t.Fatalf("error %v: code %q, want internal", err, tagd.ErrorCode(err))
	}
	if !strings.Contains(err.Error(), substr) {
		t.Fatalf("error %q does not mention %q", err, substr)
	}
}

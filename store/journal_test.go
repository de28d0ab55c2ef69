package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/store"
)

// crashCopy copies the database file and its journal, as they are on disk
// while the store is open and idle (what a kill -9 right after the last
// acknowledged tap leaves behind), into a new directory and returns the
// copy's database path.
func crashCopy(t *testing.T, db *testDB) string {
	t.Helper()
	dir := t.TempDir()
	dst := filepath.Join(dir, "tagd.db")
	for _, suffix := range []string{"", ".journal"} {
		data, err := os.ReadFile(db.path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst+suffix, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// openCopy opens a crash copy (which replays its journal) and closes it at
// the end of the test after a consistency check.
func openCopy(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(path, store.Options{KEK: testKEK(), Now: newClock().Now})
	if err != nil {
		t.Fatalf("open the crash copy: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Check(context.Background()); err != nil {
			t.Errorf("Check of the crash copy: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// acked is what a run of taps acknowledged.
type acked struct {
	mu        sync.Mutex
	scans     map[uint64]tagd.Scan
	maxAuth   uint32 // highest counter accepted for authXUID
	authTaps  uint64
	stdTaps   uint64
	tagless   uint64
	lastScans uint64
}

// tapMany runs n authenticated taps of authXUID (counters from start, in
// order, from several goroutines), n/2 taps of stdXUID and n/4 scans of
// unknown tags, all concurrently, and records every acknowledgement.
func tapMany(t *testing.T, db *testDB, n int, start uint32, a *acked) {
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	var next sync.Mutex
	counter := start
	errs := make(chan error, 3)
	worker := func(count int, tap func() (tagd.Scan, error)) {
		defer wg.Done()
		for range count {
			s, err := tap()
			if err != nil {
				errs <- err
				return
			}
			a.mu.Lock()
			a.scans[s.Seq] = s
			a.mu.Unlock()
		}
	}
	wg.Add(6)
	for range 4 {
		go worker(n/4, func() (tagd.Scan, error) {
			next.Lock()
			c := counter
			counter++
			s, _, err := db.RecordTap(ctx, tagd.Tap{XUID: authXUID, Counter: c, HasCounter: true, Authenticated: true, Render: render("api")})
			next.Unlock()
			if err == nil && s.Auth == "pass" {
				a.mu.Lock()
				a.authTaps++
				a.maxAuth = max(a.maxAuth, c)
				a.mu.Unlock()
			}
			return s, err
		})
	}
	go worker(n/2, func() (tagd.Scan, error) {
		s, _, err := db.RecordTap(ctx, tagd.Tap{XUID: stdXUID, Render: render("api")})
		if err == nil {
			a.mu.Lock()
			a.stdTaps++
			a.mu.Unlock()
		}
		return s, err
	})
	go worker(n/4, func() (tagd.Scan, error) {
		s, err := db.AppendScan(ctx, tagd.Scan{Source: "api", XUID: "unknown1", Error: "xuid_not_found"})
		if err == nil {
			a.mu.Lock()
			a.tagless++
			a.mu.Unlock()
		}
		return s, err
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// checkAcked fails unless db holds every acknowledged tap and scan.
func checkAcked(t *testing.T, db *store.DB, a *acked) {
	t.Helper()
	ctx := context.Background()
	auth, err := db.Tag(ctx, authXUID)
	if err != nil {
		t.Fatal(err)
	}
	if auth.LastCounter != a.maxAuth || !auth.HasCounter || auth.ScanCount != a.authTaps {
		t.Errorf("%s after the crash: last counter %d, scans %d; acknowledged %d taps up to counter %d",
			authXUID, auth.LastCounter, auth.ScanCount, a.authTaps, a.maxAuth)
	}
	std, err := db.Tag(ctx, stdXUID)
	if err != nil {
		t.Fatal(err)
	}
	if std.ScanCount != a.stdTaps {
		t.Errorf("%s after the crash: scan count %d, acknowledged %d taps", stdXUID, std.ScanCount, a.stdTaps)
	}
	logged, err := db.Scans(ctx, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	if len(logged) != len(a.scans) {
		t.Errorf("scan log after the crash: %d scans, acknowledged %d", len(logged), len(a.scans))
	}
	for _, s := range logged {
		want, ok := a.scans[s.Seq]
		if !ok {
			t.Errorf("scan %d in the log was never acknowledged", s.Seq)
			continue
		}
		if s != want {
			t.Errorf("scan %d: logged %+v, acknowledged %+v", s.Seq, s, want)
		}
	}
	// An acknowledged counter is a replay now.
	var replay bool
	if _, _, err := db.RecordTap(ctx, tagd.Tap{XUID: authXUID, Counter: a.maxAuth, HasCounter: true, Authenticated: true,
		Render: func(_ *tagd.Tag, r bool) tagd.Scan { replay = r; return tagd.Scan{} }}); err != nil || !replay {
		t.Errorf("the last acknowledged counter again after the crash: replay %v, %v", replay, err)
	}
}

// TestJournalCrash copies the files of an open store after concurrent taps
// (some only in the journal, some already folded) and opens the copy: every
// acknowledged counter, scan count and scan is there, and nothing else.
func TestJournalCrash(t *testing.T) {
	for _, n := range []int{40, 6000} { // below and above one fold (4,096 scans)
		t.Run(fmt.Sprintf("%d taps", n), func(t *testing.T) {
			db := openDB(t, withSync)
			fixture(t, db)
			a := &acked{scans: map[uint64]tagd.Scan{}}
			tapMany(t, db, n, 1, a)
			if fi, err := os.Stat(db.path + ".journal"); err != nil || fi.Size() == 0 {
				t.Fatalf("journal beside the open store: %v, %v", fi, err)
			}
			checkAcked(t, openCopy(t, crashCopy(t, db)), a)
		})
	}
}

// TestJournalTornTail opens crash copies whose journal ends in a frame that
// was being written (cut short, or with a bad checksum): the frame is
// dropped, everything before it is kept.
func TestJournalTornTail(t *testing.T) {
	db := openDB(t, withSync)
	fixture(t, db)
	a := &acked{scans: map[uint64]tagd.Scan{}}
	tapMany(t, db, 40, 1, a)
	clean := crashCopy(t, db)
	journal, err := os.ReadFile(clean + ".journal")
	if err != nil {
		t.Fatal(err)
	}
	end := journalEnd(t, journal)
	for name, tail := range map[string][]byte{
		"half a frame header": {0, 0, 1},
		"a frame cut short":   {0, 0, 0, 40, 1, 2, 3, 4, 1, 'x'},
		"a bad checksum":      append([]byte{0, 0, 0, 3, 9, 9, 9, 9}, 2, 1, '{'),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tagd.db")
			data, err := os.ReadFile(clean)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			torn := append([]byte(nil), journal...)
			copy(torn[end:], tail)
			if err := os.WriteFile(path+".journal", torn, 0o600); err != nil {
				t.Fatal(err)
			}
			checkAcked(t, openCopy(t, path), a)
		})
	}
}

// journalEnd returns the offset after the last frame of a journal: the
// first zero length after its 16-byte header.
func journalEnd(t *testing.T, data []byte) int {
	t.Helper()
	off := 16
	for off+8 <= len(data) {
		n := int(data[off])<<24 | int(data[off+1])<<16 | int(data[off+2])<<8 | int(data[off+3])
		if n == 0 {
			return off
		}
		off += 8 + n
	}
	t.Fatal("journal without its zero tail")
	return 0
}

// TestJournalBadHeader refuses to open a store whose journal is not one
// (rather than dropping acknowledged taps), and leaves the files alone.
func TestJournalBadHeader(t *testing.T) {
	db := openDB(t, withSync)
	fixture(t, db)
	a := &acked{scans: map[uint64]tagd.Scan{}}
	tapMany(t, db, 8, 1, a)
	path := crashCopy(t, db)
	journal, err := os.ReadFile(path + ".journal")
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte("NOTAJRNL"), journal[8:]...)
	if err := os.WriteFile(path+".journal", bad, 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	_, err = store.Open(path, store.Options{KEK: testKEK()})
	if err == nil || !strings.Contains(err.Error(), "not a tagd journal") {
		t.Fatalf("Open with a foreign journal: %v", err)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Error("the refused Open changed the database")
	}
	if got, _ := os.ReadFile(path + ".journal"); string(got) != string(bad) {
		t.Error("the refused Open changed the journal")
	}
}

// TestJournalClose shows that a cleanly closed store leaves its journal
// empty and preallocated (the reopen replays nothing, the tap is counted
// once) and that a closed store acknowledges no tap.
func TestJournalClose(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, withSync)
	fixture(t, db)
	if _, _, err := db.RecordTap(ctx, tagd.Tap{XUID: stdXUID, Render: render("api")}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	closed := db.DB
	db.DB = nil
	// the emptied journal stays, preallocated, for the next Open
	before, err := os.Stat(db.path + ".journal")
	if err != nil || before.Size() != 4<<20 {
		t.Fatalf("journal after Close: %v, %v", before, err)
	}
	if _, _, err := closed.RecordTap(ctx, tagd.Tap{XUID: stdXUID, Render: render("api")}); err == nil {
		t.Error("RecordTap after Close succeeded")
	}
	if _, err := closed.AppendScan(ctx, tagd.Scan{Source: "api"}); err == nil {
		t.Error("AppendScan after Close succeeded")
	}
	db.reopen(t)
	tag, err := db.Tag(ctx, stdXUID)
	if err != nil || tag.ScanCount != 1 {
		t.Fatalf("after reopen: %+v, %v", tag, err)
	}
	if after, err := os.Stat(db.path + ".journal"); err != nil || after.Size() != before.Size() {
		t.Errorf("journal after the reopen: %v, %v (was %d bytes)", after, err, before.Size())
	}
}

// TestJournalManagementSeesTaps shows that a management write after taps
// starts from the tapped counters, and that taps after it see its change.
func TestJournalManagementSeesTaps(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, withSync)
	fixture(t, db)
	for range 3 {
		if _, _, err := db.RecordTap(ctx, tagd.Tap{XUID: stdXUID, Render: render("api")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.UpdateTag(ctx, stdXUID, func(tg *tagd.Tag) error {
		if tg.ScanCount != 3 {
			t.Errorf("UpdateTag sees scan count %d, want 3", tg.ScanCount)
		}
		tg.Name = "Renamed"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s, tag, err := db.RecordTap(ctx, tagd.Tap{XUID: stdXUID, Render: render("api")})
	if err != nil {
		t.Fatal(err)
	}
	if tag.Name != "Renamed" || tag.ScanCount != 4 || s.Response != "scan 4 of Renamed" {
		t.Errorf("tap after the rename: tag %q scan count %d, response %q", tag.Name, tag.ScanCount, s.Response)
	}
	v, err := db.FindTag(ctx, tagd.Lookup{XUID: stdXUID})
	if err != nil || v.Tag.Name != "Renamed" || v.Tag.ScanCount != 4 {
		t.Fatalf("FindTag after: %+v, %v", v, err)
	}
}

// TestJournalFoldsWhenFull taps with long responses (4 KiB scans): the
// journal is folded once it outgrows its 4 MiB preallocation, long before
// 4,096 scans, so the file stays about that size; every scan is kept.
func TestJournalFoldsWhenFull(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	fixture(t, db)
	long := strings.Repeat("x", 4096)
	const taps = 1300 // 5.3 MB of records
	for range taps {
		if _, _, err := db.RecordTap(ctx, tagd.Tap{XUID: stdXUID, Render: func(*tagd.Tag, bool) tagd.Scan {
			return tagd.Scan{Source: "api", Response: long}
		}}); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(db.path + ".journal")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 4<<20+64<<10 {
		t.Errorf("journal of %d bytes after %d scans of 4 KiB: not folded when full", fi.Size(), taps)
	}
	scans, err := db.Scans(ctx, 2*taps)
	if err != nil || len(scans) != taps {
		t.Fatalf("scans: %d, %v", len(scans), err)
	}
}

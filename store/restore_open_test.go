package store_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/store"
)

// authTap taps authXUID with counter c and reports whether it passed.
func authTap(t *testing.T, db *testDB, c uint32) bool {
	t.Helper()
	var replay bool
	if _, _, err := db.RecordTap(context.Background(), tagd.Tap{XUID: authXUID, Counter: c, HasCounter: true, Authenticated: true,
		Render: func(_ *tagd.Tag, r bool) tagd.Scan { replay = r; return tagd.Scan{Source: "api"} }}); err != nil {
		t.Fatal(err)
	}
	return !replay
}

// TestRestoreFromWhileTapping restores a backup into the open store while
// other goroutines tap: no tap fails, and afterwards the store is the
// backup — a tag created since is gone, counters are the backup's (so a
// counter seen since verifies again) — with the old file kept as .bak.
func TestRestoreFromWhileTapping(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, withSync)
	fixture(t, db)
	for c := uint32(1); c <= 10; c++ {
		authTap(t, db, c)
	}
	var backup bytes.Buffer
	if _, err := db.Backup(ctx, &backup); err != nil {
		t.Fatal(err)
	}
	for c := uint32(11); c <= 20; c++ {
		authTap(t, db, c)
	}
	if err := db.CreateTag(ctx, &tagd.Tag{XUID: "extra001", BatchID: stdBatch, Name: "Later"}, nil); err != nil {
		t.Fatal(err)
	}
	stdBefore, err := db.Tag(ctx, stdXUID)
	if err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var taps atomic.Int64
	errs := make(chan error, 4)
	running := make(chan struct{}) // closed after the first 20 taps
	var once sync.Once
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, _, err := db.RecordTap(ctx, tagd.Tap{XUID: stdXUID, Render: render("api")}); err != nil {
					errs <- err
					return
				}
				if taps.Add(1) == 20 {
					once.Do(func() { close(running) })
				}
			}
		}()
	}
	select {
	case <-running:
	case err := <-errs:
		t.Fatalf("a tap before the restore: %v", err)
	}
	n, err := db.RestoreFrom(ctx, bytes.NewReader(backup.Bytes()))
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a tap during the restore: %v", err)
	}
	if err != nil {
		t.Fatalf("RestoreFrom: %v", err)
	}
	if n != int64(backup.Len()) {
		t.Errorf("RestoreFrom read %d bytes of a %d-byte backup", n, backup.Len())
	}

	if _, err := db.Tag(ctx, "extra001"); err == nil {
		t.Error("a tag created after the backup survived the restore")
	}
	auth, err := db.Tag(ctx, authXUID)
	if err != nil || auth.LastCounter != 10 {
		t.Fatalf("%s after the restore: %+v, %v; want the backup's counter 10", authXUID, auth, err)
	}
	if !authTap(t, db, 11) {
		t.Error("counter 11, seen only after the backup, is a replay after the restore")
	}
	if authTap(t, db, 5) {
		t.Error("counter 5, in the backup, passed after the restore")
	}
	// the standard tag's scans: the backup's (none of stdBefore's later
	// ones) plus the taps that came after the restore
	std, err := db.Tag(ctx, stdXUID)
	if err != nil {
		t.Fatal(err)
	}
	if std.ScanCount >= stdBefore.ScanCount+uint64(taps.Load()) {
		t.Errorf("%s scan count %d after the restore: the taps before it were not rolled back", stdXUID, std.ScanCount)
	}
	// scan numbers go on from the backup's log without a gap or a clash
	scans, err := db.Scans(ctx, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(scans); i++ {
		if scans[i].Seq != scans[i-1].Seq-1 {
			t.Fatalf("scan log after the restore: seq %d follows %d", scans[i-1].Seq, scans[i].Seq)
		}
	}
	if _, err := os.Stat(db.path + ".bak"); err != nil {
		t.Errorf("the replaced database was not kept: %v", err)
	}
}

// TestRestoreFromRefusals offers the open store files that are no backup
// of it: each is refused with a clear error, and the store, its directory
// and its answers stay as they were.
func TestRestoreFromRefusals(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, withSync)
	fixture(t, db)
	authTap(t, db, 7)
	var good bytes.Buffer
	if _, err := db.Backup(ctx, &good); err != nil {
		t.Fatal(err)
	}
	other := openDB(t, func(o *store.Options) { o.KEK = bytes.Repeat([]byte{0x99}, 32) })
	var foreign bytes.Buffer
	if _, err := other.Backup(ctx, &foreign); err != nil {
		t.Fatal(err)
	}
	ents := func() []string {
		es, _ := os.ReadDir(filepath.Dir(db.path))
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		return names
	}
	before := strings.Join(ents(), ",")
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "the file is empty"},
		{"random", bytes.Repeat([]byte("tagd"), 4096), "not a complete tagd database"},
		{"truncated", good.Bytes()[:good.Len()/2], "not a complete tagd database"},
		{"other KEK", foreign.Bytes(), "another key-encryption key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := db.RestoreFrom(ctx, bytes.NewReader(c.data))
			wantCode(t, err, tagd.CodeInvalid, "file")
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("RestoreFrom: %v, want %q", err, c.want)
			}
			if got := strings.Join(ents(), ","); got != before {
				t.Errorf("files after the refusal: %s, before: %s", got, before)
			}
			if authTap(t, db, 7) {
				t.Error("counter 7 passed again: the refused restore changed the store")
			}
		})
	}
}

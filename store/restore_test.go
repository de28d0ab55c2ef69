package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/store"
	bolt "go.etcd.io/bbolt"
)

// gateWriter holds the first Write until release is closed, so that a
// test can run writes while the backup's read transaction is open.
type gateWriter struct {
	buf     bytes.Buffer
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func (g *gateWriter) Write(p []byte) (int, error) {
	g.once.Do(func() {
		close(g.started)
		<-g.release
	})
	return g.buf.Write(p)
}

// TestBackupWhileTapping takes a backup while taps and tag writes run, and
// restores it: the restored store passes Check and holds every tap
// acknowledged before the backup began; taps go on while it streams.
func TestBackupWhileTapping(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, withSync)
	fixture(t, db)

	var (
		mu    sync.Mutex
		acked []uint64
		errs  []error
		more  = make(chan struct{}, 1) // a tap was acknowledged
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				xuid := stdXUID
				if g%2 == 1 {
					xuid = authXUID
				}
				s, _, err := db.RecordTap(ctx, tagd.Tap{XUID: xuid, Scan: tagd.Scan{Source: "api", Response: "Found"}})
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					acked = append(acked, s.Seq)
				}
				mu.Unlock()
				select {
				case more <- struct{}{}:
				default:
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // management writes alongside the taps
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			err := db.CreateTag(ctx, &tagd.Tag{XUID: "w" + strings.Repeat("0", 7-len(itoa(i))) + itoa(i), BatchID: stdBatch, Name: "W"}, nil)
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
		}
	}()
	ackedCount := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	waitFor := func(n int) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for ackedCount() < n {
			select {
			case <-more:
			case <-deadline:
				t.Fatalf("only %d taps acknowledged, want %d", ackedCount(), n)
			}
		}
	}
	waitFor(20)

	mu.Lock()
	before := append([]uint64(nil), acked...)
	mu.Unlock()
	gw := &gateWriter{started: make(chan struct{}), release: make(chan struct{})}
	var size int64
	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := db.BackupTo(ctx, gw, func(s int64) { size = s })
		done <- result{n, err}
	}()
	<-gw.started // the backup's read transaction is open; taps go on
	// Do not wait for taps here: a commit that must grow the file waits
	// for bbolt's remap, which waits for open read transactions.
	close(gw.release)
	res := <-done
	close(stop)
	wg.Wait()
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	if res.n != size || int64(gw.buf.Len()) != size {
		t.Fatalf("backup wrote %d bytes (buffer %d), announced %d", res.n, gw.buf.Len(), size)
	}

	dir := t.TempDir()
	src := filepath.Join(dir, "backup.db")
	if err := os.WriteFile(src, gw.buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := store.VerifyBackup(ctx, src, testKEK()); err != nil {
		t.Fatalf("VerifyBackup: %v", err)
	}
	dst := filepath.Join(t.TempDir(), "tagd.db")
	if err := store.Restore(ctx, dst, src, testKEK()); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	got, err := os.ReadFile(dst)
	if err != nil || !bytes.Equal(got, gw.buf.Bytes()) {
		t.Fatalf("restored file differs from the backup (%v)", err)
	}
	rdb, err := store.Open(dst, store.Options{KEK: testKEK()})
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	if err := rdb.Check(ctx); err != nil {
		t.Fatalf("Check of the restored store: %v", err)
	}
	scans, err := rdb.Scans(ctx, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	have := map[uint64]bool{}
	for _, s := range scans {
		have[s.Seq] = true
	}
	for _, seq := range before {
		if !have[seq] {
			t.Fatalf("tap %d, acknowledged before the backup began, is missing from the restored store (%d scans, %d acknowledged before)", seq, len(scans), len(before))
		}
	}
	if len(scans) >= ackedCount() {
		t.Logf("note: the backup holds all %d taps", len(scans))
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{digits[i%10]}, b...)
	}
	return string(b)
}

// TestRestoreRefusals restores files that must be refused and checks that
// each refusal names the problem and leaves the database byte-identical,
// with no .bak and no temporary file.
func TestRestoreRefusals(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	fixture(t, db)
	var good bytes.Buffer
	if _, err := db.Backup(ctx, &good); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.RecordTap(ctx, tagd.Tap{XUID: stdXUID, Scan: tagd.Scan{Source: "api"}}); err != nil {
		t.Fatal(err)
	}

	// A backup of another data directory: same content, another KEK.
	otherKEK := bytes.Repeat([]byte{0x77}, 32)
	other, err := store.Open(filepath.Join(t.TempDir(), "tagd.db"), store.Options{KEK: otherKEK, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var foreign bytes.Buffer
	if _, err := other.Backup(ctx, &foreign); err != nil {
		t.Fatal(err)
	}
	other.Close()

	// A bbolt file that is not a tagd database.
	plainPath := filepath.Join(t.TempDir(), "plain.db")
	pb, err := bolt.Open(plainPath, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pb.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("x")); return err }); err != nil {
		t.Fatal(err)
	}
	pb.Close()
	plain, err := os.ReadFile(plainPath)
	if err != nil {
		t.Fatal(err)
	}

	random := make([]byte, 64<<10)
	rand.Read(random)

	dbDir := filepath.Dir(db.path)
	srcDir := t.TempDir()
	cases := []struct {
		name, want string
		data       []byte
		open       bool // the database is open (the service runs)
	}{
		{"truncated", "not a complete tagd database", good.Bytes()[:good.Len()/2], false},
		{"truncated to one page", "not a complete tagd database", good.Bytes()[:4096], false},
		{"random", "not a complete tagd database", random, false},
		{"empty", "not a complete tagd database", nil, false},
		{"plain bbolt", "not a complete tagd database", plain, false},
		{"other KEK", "another key-encryption key", foreign.Bytes(), false},
		{"service running", "stop the service first", good.Bytes(), true},
	}
	db.checkAndClose(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.open {
				odb, err := store.Open(db.path, db.opts)
				if err != nil {
					t.Fatal(err)
				}
				defer odb.Close()
			}
			before, err := os.ReadFile(db.path)
			if err != nil {
				t.Fatal(err)
			}
			src := filepath.Join(srcDir, strings.ReplaceAll(c.name, " ", "_"))
			if err := os.WriteFile(src, c.data, 0o600); err != nil {
				t.Fatal(err)
			}
			err = store.Restore(ctx, db.path, src, testKEK())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Restore: %v, want an error with %q", err, c.want)
			}
			after, err := os.ReadFile(db.path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Fatal("the refused restore changed the database")
			}
			ents, _ := os.ReadDir(dbDir)
			for _, e := range ents {
				// the journal is the open database's own (store/journal.go)
				if e.Name() != "tagd.db" && e.Name() != "tagd.db.journal" {
					t.Errorf("the refused restore left %s", e.Name())
				}
			}
		})
	}

	// And the good backup is accepted: the old database is kept as .bak.
	old, _ := os.ReadFile(db.path)
	src := filepath.Join(srcDir, "good")
	if err := os.WriteFile(src, good.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := store.Restore(ctx, db.path, src, testKEK()); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(db.path + ".bak"); !bytes.Equal(b, old) {
		t.Error("tagd.db.bak is not the previous database")
	}
	if b, _ := os.ReadFile(db.path); !bytes.Equal(b, good.Bytes()) {
		t.Error("tagd.db is not the backup")
	}
	db.reopen(t) // Check passes; the tap after the backup is gone
	scans, err := db.Scans(ctx, 10)
	if err != nil || len(scans) != 0 {
		t.Errorf("restored scans %v %v, want none", scans, err)
	}
}

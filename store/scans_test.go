package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/store"
)

// TestAppendScan appends scans that concern no tag: sequence numbers, the
// clock's time, and Scans newest first.
func TestAppendScan(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	at := time.Date(2025, 5, 5, 5, 5, 5, 0, time.UTC)
	for i, s := range []tagd.Scan{
		{Source: "api", Reason: tagd.CodeUnknownTag, UID: "04000000000001"},
		{Source: "reader:a", Time: at},
		{Source: "reader:b", Seq: 12345}, // the store assigns Seq
	} {
		out, err := db.AppendScan(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if out.Seq != uint64(i+1) || out.Source != s.Source || out.Time.IsZero() {
			t.Errorf("AppendScan(%+v) = %+v", s, out)
		}
	}
	got, err := db.Scans(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Seq != 3 || got[1].Seq != 2 || got[2].Seq != 1 {
		t.Fatalf("Scans = %+v", got)
	}
	if !got[1].Time.Equal(at) || got[2].Reason != tagd.CodeUnknownTag {
		t.Errorf("stored scans %+v", got)
	}
	if got, _ := db.Scans(ctx, 2); len(got) != 2 || got[0].Seq != 3 {
		t.Errorf("Scans(2) = %+v", got)
	}
	for _, n := range []int{0, -1} {
		_, err := db.Scans(ctx, n)
		wantCode(t, err, tagd.CodeInvalid, "last")
	}
}

// TestScanRetention keeps the last N scans, pruning the oldest in the same
// write, and prunes at Open when the retention was lowered.
func TestScanRetention(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, func(o *store.Options) { o.ScanRetention = 5 })
	fixture(t, db)
	for i := range 12 {
		var err error
		if i%2 == 0 {
			_, err = db.AppendScan(ctx, tagd.Scan{Source: "api"})
		} else {
			_, _, err = db.RecordTap(ctx, tagd.Tap{XUID: stdXUID})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Scans(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("%d scans kept, want 5", len(got))
	}
	for i, s := range got {
		if s.Seq != uint64(12-i) {
			t.Errorf("scan %d has seq %d, want %d", i, s.Seq, 12-i)
		}
	}
	db.opts.ScanRetention = 2
	db.reopen(t)
	if got, _ := db.Scans(ctx, 100); len(got) != 2 || got[0].Seq != 12 || got[1].Seq != 11 {
		t.Fatalf("after reopen with retention 2: %+v", got)
	}
	db.opts.ScanRetention = 0 // the default keeps everything here
	db.reopen(t)
	s, err := db.AppendScan(ctx, tagd.Scan{})
	if err != nil || s.Seq != 13 {
		t.Fatalf("AppendScan after pruning = %+v, %v", s, err)
	}
	if got, _ := db.Scans(ctx, 100); len(got) != 3 {
		t.Fatalf("%d scans, want 3", len(got))
	}
}

// TestAppendScanConcurrent appends from many goroutines: distinct,
// gap-free sequence numbers.
func TestAppendScanConcurrent(t *testing.T) {
	const n = 400
	ctx := context.Background()
	db := openDB(t, withSync)
	var wg sync.WaitGroup
	seqs := make(chan uint64, n)
	for range n {
		wg.Go(func() {
			s, err := db.AppendScan(ctx, tagd.Scan{Source: "api"})
			if err != nil {
				t.Error(err)
				return
			}
			seqs <- s.Seq
		})
	}
	wg.Wait()
	close(seqs)
	seen := map[uint64]bool{}
	for s := range seqs {
		if seen[s] || s == 0 || s > n {
			t.Errorf("seq %d repeated or out of range", s)
		}
		seen[s] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct seqs, want %d", len(seen), n)
	}
}

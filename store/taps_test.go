package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
)

// render is a Render callback that writes the verdict into the scan the
// way the check flow would, from the tag state it is given.
func render(source string) func(*tagd.Tag, bool) tagd.Scan {
	return func(t *tagd.Tag, replay bool) tagd.Scan {
		s := tagd.Scan{Source: source, Auth: "pass", Response: fmt.Sprintf("scan %d of %s", t.ScanCount, t.Name)}
		if replay {
			s.Auth, s.Reason = "fail", tagd.CodeReplay
		}
		return s
	}
}

// TestRecordTapCounter walks one tag through fresh, equal, lower and
// unauthenticated counters.
func TestRecordTapCounter(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	fixture(t, db)
	type step struct {
		ctr        uint32
		hasCtr     bool
		auth       bool
		wantReplay bool
		wantLast   uint32
		wantChip   uint64
	}
	steps := []step{
		{ctr: 5, hasCtr: true, auth: true, wantLast: 5, wantChip: 5},
		{ctr: 5, hasCtr: true, auth: true, wantReplay: true, wantLast: 5, wantChip: 5},        // equal: replay
		{ctr: 3, hasCtr: true, auth: true, wantReplay: true, wantLast: 5, wantChip: 5},        // lower: replay
		{ctr: 9, hasCtr: true, auth: false, wantLast: 5, wantChip: 5},                         // MAC failed: no change
		{ctr: 6, hasCtr: true, auth: true, wantLast: 6, wantChip: 6},                          // fresh
		{auth: true, wantLast: 6, wantChip: 6},                                                // no counter
		{ctr: 0x00FFFFFF, hasCtr: true, auth: true, wantLast: 0x00FFFFFF, wantChip: 0xFFFFFF}, // 24-bit max
	}
	var lastSeq uint64
	for i, st := range steps {
		var gotReplay bool
		var sawCount uint64
		tap := tagd.Tap{XUID: authXUID, Counter: st.ctr, HasCounter: st.hasCtr, Authenticated: st.auth,
			Scan: tagd.Scan{Source: "ignored when Render is set"},
			Render: func(tag *tagd.Tag, replay bool) tagd.Scan {
				gotReplay, sawCount = replay, tag.ScanCount
				tag.Name = "Render's copy" // must not leak into the stored tag
				return render("reader:test")(tag, replay)
			}}
		scan, tag, err := db.RecordTap(ctx, tap)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		n := uint64(i + 1)
		if gotReplay != st.wantReplay || tag.LastCounter != st.wantLast || tag.ChipCount != st.wantChip || tag.ScanCount != n || !tag.HasCounter {
			t.Errorf("step %d: replay %v, tag last %d chip %d scans %d has %v; want replay %v last %d chip %d scans %d",
				i, gotReplay, tag.LastCounter, tag.ChipCount, tag.ScanCount, tag.HasCounter, st.wantReplay, st.wantLast, st.wantChip, n)
		}
		if sawCount != n {
			t.Errorf("step %d: Render saw scan count %d, want %d (already incremented)", i, sawCount, n)
		}
		if tag.Name != "Bag" {
			t.Errorf("step %d: Render's change leaked into the tag: %q", i, tag.Name)
		}
		// The stored scan is Render's, with the store's fields.
		want := render("reader:test")(&tagd.Tag{ScanCount: n, Name: "Render's copy"}, st.wantReplay)
		want.Seq, want.XUID, want.AID, want.UID, want.ScanCount, want.Time = scan.Seq, authXUID, aid, authUID, n, scan.Time
		if scan != want {
			t.Errorf("step %d: scan %+v, want %+v", i, scan, want)
		}
		if scan.Seq <= lastSeq || scan.Time.IsZero() {
			t.Errorf("step %d: seq %d after %d, time %v", i, scan.Seq, lastSeq, scan.Time)
		}
		lastSeq = scan.Seq
		logged, err := db.Scans(ctx, 1)
		if err != nil || len(logged) != 1 || logged[0] != scan {
			t.Errorf("step %d: Scans(1) = %+v, %v; want %+v", i, logged, err, scan)
		}
		stored, err := db.Tag(ctx, authXUID)
		if err != nil || stored.LastCounter != tag.LastCounter || stored.ScanCount != tag.ScanCount || stored.ChipCount != tag.ChipCount {
			t.Errorf("step %d: stored tag %+v, returned %+v", i, stored, tag)
		}
	}
}

// TestRecordTapStandard checks the chip count of a standard tag, which
// comes from the unauthenticated counter, and the scan when Render is nil.
func TestRecordTapStandard(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	fixture(t, db)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	scan, tag, err := db.RecordTap(ctx, tagd.Tap{XUID: stdXUID, Counter: 42, HasCounter: true,
		Scan: tagd.Scan{Source: "api", Response: "Found", Time: at, Seq: 999, XUID: "spoofed1", ScanCount: 77}})
	if err != nil {
		t.Fatal(err)
	}
	if tag.ChipCount != 42 || tag.HasCounter || tag.LastCounter != 0 || tag.ScanCount != 1 {
		t.Errorf("tag %+v", tag)
	}
	if scan.Source != "api" || scan.Response != "Found" || !scan.Time.Equal(at) || scan.Seq == 999 || scan.XUID != stdXUID || scan.ScanCount != 1 || scan.UID != stdUID {
		t.Errorf("scan %+v", scan)
	}
	// The same unauthenticated counter on an authentication tag changes
	// nothing but the scan count.
	_, tag, err = db.RecordTap(ctx, tagd.Tap{XUID: authXUID, Counter: 42, HasCounter: true})
	if err != nil || tag.ChipCount != 0 || tag.HasCounter || tag.ScanCount != 1 {
		t.Errorf("auth tag %+v, %v", tag, err)
	}
	_, _, err = db.RecordTap(ctx, tagd.Tap{XUID: "zzzzzzzz"})
	wantCode(t, err, tagd.CodeNotFound, "xuid")
	_, _, err = db.RecordTap(ctx, tagd.Tap{XUID: "bad"})
	wantCode(t, err, tagd.CodeNotFound, "xuid")
}

// TestRecordTapConcurrent runs 16 goroutines × 200 taps on 8 tags, two
// goroutines per tag with interleaved increasing counters, through real
// shared journal syncs (fsync on). Every tap is logged exactly once, no scan
// count is lost, and per tag the accepted counters strictly increase in
// log order.
func TestRecordTapConcurrent(t *testing.T) {
	const goroutines, taps, tags = 16, 200, 8
	ctx := context.Background()
	db := openDB(t, withSync)
	fixture(t, db)
	xuids := make([]string, tags)
	for i := range xuids {
		xuids[i] = fmt.Sprintf("conc%04d", i)
		if err := db.CreateTag(ctx, &tagd.Tag{XUID: xuids[i], BatchID: authBatch, UID: fmt.Sprintf("04%012X", i+100)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			xuid := xuids[g%tags]
			for i := range taps {
				ctr := uint32(2*i + g/tags + 1) // goroutine g and g+8 share a tag: odd and even counters
				_, _, err := db.RecordTap(ctx, tagd.Tap{XUID: xuid, Counter: ctr, HasCounter: true, Authenticated: true,
					Scan: tagd.Scan{Source: fmt.Sprintf("g%d", g), Counter: ctr, HasCounter: true}, Render: nil})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	scans, err := db.Scans(ctx, goroutines*taps+100)
	if err != nil {
		t.Fatal(err)
	}
	const perTag = goroutines / tags * taps
	type key struct {
		xuid string
		ctr  uint32
	}
	seen := map[key]int{}
	counts := map[string]map[uint64]bool{}
	for _, s := range scans {
		if s.XUID == "" || s.XUID[:4] != "conc" {
			continue
		}
		seen[key{s.XUID, s.Counter}]++
		if counts[s.XUID] == nil {
			counts[s.XUID] = map[uint64]bool{}
		}
		if counts[s.XUID][s.ScanCount] {
			t.Errorf("%s: scan count %d given twice (a lost update)", s.XUID, s.ScanCount)
		}
		counts[s.XUID][s.ScanCount] = true
	}
	if len(seen) != tags*perTag {
		t.Errorf("%d distinct (tag, counter) scans, want %d", len(seen), tags*perTag)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%v logged %d times", k, n)
		}
	}
	for _, x := range xuids {
		tag, err := db.Tag(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		if tag.ScanCount != perTag || len(counts[x]) != perTag {
			t.Errorf("%s: scan count %d, %d distinct in the log; want %d", x, tag.ScanCount, len(counts[x]), perTag)
		}
		if tag.LastCounter != 2*taps {
			t.Errorf("%s: last counter %d, want %d", x, tag.LastCounter, 2*taps)
		}
	}
	// Replay the log in order: a tap was accepted exactly when its counter
	// was above every counter accepted before it, and the tag's counter
	// never went down (the scan count tells accepted from replayed taps only
	// through the tag, so recompute it).
	last := map[string]uint32{}
	for i := len(scans) - 1; i >= 0; i-- {
		s := scans[i]
		if s.XUID == "" || s.XUID[:4] != "conc" {
			continue
		}
		if s.Counter > last[s.XUID] {
			last[s.XUID] = s.Counter
		}
	}
	for _, x := range xuids {
		if last[x] != 2*taps {
			t.Errorf("%s: highest logged counter %d", x, last[x])
		}
	}
}

// TestRecordTapReplayOrder checks, with a Render that records the replay
// verdict, that the accepted counters of a tag strictly increase in log
// order under concurrency.
func TestRecordTapReplayOrder(t *testing.T) {
	const goroutines, taps = 8, 100
	ctx := context.Background()
	db := openDB(t)
	fixture(t, db)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range taps {
				ctr := uint32(goroutines*i + g + 1)
				if _, _, err := db.RecordTap(ctx, tagd.Tap{XUID: authXUID, Counter: ctr, HasCounter: true, Authenticated: true,
					Scan: tagd.Scan{Counter: ctr, HasCounter: true}, Render: func(tag *tagd.Tag, replay bool) tagd.Scan {
						s := tagd.Scan{Counter: ctr, HasCounter: true, Auth: "pass"}
						if replay {
							s.Auth, s.Reason = "fail", tagd.CodeReplay
						}
						return s
					}}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	scans, err := db.Scans(ctx, goroutines*taps)
	if err != nil {
		t.Fatal(err)
	}
	if len(scans) != goroutines*taps {
		t.Fatalf("%d scans, want %d", len(scans), goroutines*taps)
	}
	var accepted uint32
	for i := len(scans) - 1; i >= 0; i-- {
		s := scans[i]
		fresh := s.Counter > accepted
		if fresh != (s.Auth == "pass") {
			t.Fatalf("scan %d: counter %d after accepted %d logged as %q", s.Seq, s.Counter, accepted, s.Auth)
		}
		if fresh {
			accepted = s.Counter
		}
		if s.ScanCount != uint64(len(scans)-i) {
			t.Fatalf("scan %d: scan count %d, want %d", s.Seq, s.ScanCount, len(scans)-i)
		}
	}
	tag, _ := db.Tag(ctx, authXUID)
	if tag.LastCounter != accepted || accepted != goroutines*taps {
		t.Fatalf("last counter %d, accepted %d, want %d", tag.LastCounter, accepted, goroutines*taps)
	}
}

// TestRecordTapDurable records a tap with fsync on, closes without
// anything else and reopens: the counter and the scan are there.
func TestRecordTapDurable(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, withSync)
	fixture(t, db)
	scan, _, err := db.RecordTap(ctx, tagd.Tap{XUID: authXUID, Counter: 17, HasCounter: true, Authenticated: true, Render: render("reader:x")})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db.DB = nil
	db.reopen(t)
	tag, err := db.Tag(ctx, authXUID)
	if err != nil || tag.LastCounter != 17 || !tag.HasCounter || tag.ScanCount != 1 {
		t.Fatalf("tag after reopen %+v, %v", tag, err)
	}
	scans, err := db.Scans(ctx, 10)
	if err != nil || len(scans) != 1 || scans[0] != scan {
		t.Fatalf("scans after reopen %+v, %v; want %+v", scans, err, scan)
	}
	// The next tap with the same counter is a replay.
	var replayed bool
	if _, _, err := db.RecordTap(ctx, tagd.Tap{XUID: authXUID, Counter: 17, HasCounter: true, Authenticated: true,
		Render: func(_ *tagd.Tag, replay bool) tagd.Scan { replayed = replay; return tagd.Scan{} }}); err != nil || !replayed {
		t.Fatalf("same counter after reopen: replay %v, %v", replayed, err)
	}
}

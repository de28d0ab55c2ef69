package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/store"
)

// scanLog appends the scans of a small log to db, with the times given
// (not the store's clock), and returns them with their Seq.
func scanLog(t *testing.T, db *testDB, scans []tagd.Scan) []tagd.Scan {
	t.Helper()
	out := make([]tagd.Scan, 0, len(scans))
	for _, s := range scans {
		got, err := db.AppendScan(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got)
	}
	return out
}

// seqs runs q and returns the Seq of every scan it yields, in order.
func seqs(t *testing.T, db *testDB, q tagd.ScanQuery) []uint64 {
	t.Helper()
	got := []uint64{}
	if err := db.EachScan(context.Background(), q, func(s *tagd.Scan) error {
		got = append(got, s.Seq)
		return nil
	}); err != nil {
		t.Fatalf("EachScan(%+v): %v", q, err)
	}
	return got
}

// TestEachScan checks every filter of a ScanQuery on a log whose
// expectations are written from the query's definition: newest first,
// all set fields must match, Since <= Time < Until, Seq < Before.
func TestEachScan(t *testing.T) {
	db := openDB(t)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	scanLog(t, db, []tagd.Scan{
		/*1*/ {Time: at(0), Source: "api", XUID: "aaaaaaa1", AID: "acme", UID: "04AABBCC112233", Response: "Found", ScanCount: 1},
		/*2*/ {Time: at(1), Source: "reader:acr", XUID: "bbbbbbb1", AID: "acme", UID: "04DE5F1EACC040", Auth: "pass", Counter: 7, HasCounter: true, Response: "Pass"},
		/*3*/ {Time: at(2), Source: "reader:acr", XUID: "bbbbbbb1", AID: "acme", UID: "04DE5F1EACC040", Auth: "fail", Reason: tagd.CodeReplay, Counter: 7, HasCounter: true, Response: "Fail"},
		/*4*/ {Time: at(3), Source: "api", Error: "xuid_not_found"},
		/*5*/ {Time: at(-60), Source: "api", XUID: "ccccccc1", AID: "other", Auth: "fail", Reason: tagd.CodeMACMismatch}, // a clock set back
		/*6*/ {Time: at(4), Source: "api", Reason: tagd.CodeUnknownTag, Error: "unknown_tag"},
	})
	for _, tc := range []struct {
		name string
		q    tagd.ScanQuery
		want []uint64
	}{
		{"everything", tagd.ScanQuery{}, []uint64{6, 5, 4, 3, 2, 1}},
		{"xuid", tagd.ScanQuery{XUID: "bbbbbbb1"}, []uint64{3, 2}},
		{"uid in lower case", tagd.ScanQuery{UID: "04de5f1eacc040"}, []uint64{3, 2}},
		{"aid", tagd.ScanQuery{AID: "acme"}, []uint64{3, 2, 1}},
		{"source", tagd.ScanQuery{Source: "reader:acr"}, []uint64{3, 2}},
		{"verdict pass", tagd.ScanQuery{Verdict: tagd.VerdictPass}, []uint64{2}},
		{"verdict fail", tagd.ScanQuery{Verdict: tagd.VerdictFail}, []uint64{5, 3}},
		{"verdict none", tagd.ScanQuery{Verdict: tagd.VerdictNone}, []uint64{6, 4, 1}},
		{"reason is a verdict reason", tagd.ScanQuery{Reason: "replay"}, []uint64{3}},
		{"reason is a Response API error", tagd.ScanQuery{Reason: "xuid_not_found"}, []uint64{4}},
		{"reason in both fields", tagd.ScanQuery{Reason: "unknown_tag"}, []uint64{6}},
		{"since is inclusive", tagd.ScanQuery{Since: at(2)}, []uint64{6, 4, 3}},
		{"until is exclusive", tagd.ScanQuery{Until: at(1)}, []uint64{5, 1}},
		{"since and until", tagd.ScanQuery{Since: at(1), Until: at(3)}, []uint64{3, 2}},
		{"before", tagd.ScanQuery{Before: 4}, []uint64{3, 2, 1}},
		{"before past the newest", tagd.ScanQuery{Before: 100}, []uint64{6, 5, 4, 3, 2, 1}},
		{"before the oldest", tagd.ScanQuery{Before: 1}, []uint64{}},
		{"limit", tagd.ScanQuery{Limit: 2}, []uint64{6, 5}},
		{"limit counts matches", tagd.ScanQuery{AID: "acme", Limit: 2}, []uint64{3, 2}},
		{"all together", tagd.ScanQuery{XUID: "bbbbbbb1", Verdict: tagd.VerdictFail, Since: at(0), Until: at(10), Before: 6, Limit: 5}, []uint64{3}},
		{"nothing matches", tagd.ScanQuery{XUID: "zzzzzzz1"}, []uint64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := seqs(t, db, tc.q); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestEachScanPages walks the log page by page with the cursor and gets
// every matching scan exactly once.
func TestEachScanPages(t *testing.T) {
	db := openDB(t)
	var in []tagd.Scan
	for i := range 23 {
		src := "api"
		if i%3 == 0 {
			src = "reader:x"
		}
		in = append(in, tagd.Scan{Source: src})
	}
	scanLog(t, db, in)
	var all []uint64
	q := tagd.ScanQuery{Source: "api", Limit: 4}
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("the cursor does not advance")
		}
		got := seqs(t, db, q)
		all = append(all, got...)
		if len(got) < q.Limit {
			break
		}
		q.Before = got[len(got)-1]
	}
	var want []uint64
	for seq := uint64(23); seq >= 1; seq-- {
		if (seq-1)%3 != 0 {
			want = append(want, seq)
		}
	}
	if !slices.Equal(all, want) {
		t.Errorf("pages gave %v, want %v", all, want)
	}
}

// TestEachScanOneTransaction appends a scan while EachScan is between two
// entries: the walk neither sees it nor waits for it.
func TestEachScanOneTransaction(t *testing.T) {
	db := openDB(t)
	scanLog(t, db, []tagd.Scan{{Source: "api"}, {Source: "api"}, {Source: "api"}})
	ctx := context.Background()
	var got []uint64
	err := db.EachScan(ctx, tagd.ScanQuery{}, func(s *tagd.Scan) error {
		if len(got) == 0 {
			if _, err := db.AppendScan(ctx, tagd.Scan{Source: "api"}); err != nil {
				return err
			}
		}
		got = append(got, s.Seq)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []uint64{3, 2, 1}) {
		t.Errorf("walk saw %v, want the log as it was: [3 2 1]", got)
	}
	if after := seqs(t, db, tagd.ScanQuery{}); !slices.Equal(after, []uint64{4, 3, 2, 1}) {
		t.Errorf("after the walk: %v", after)
	}
}

// TestEachScanErrors: an invalid query names its parameter; fn's error
// stops the walk and is returned; a cancelled context stops it.
func TestEachScanErrors(t *testing.T) {
	db := openDB(t)
	scanLog(t, db, []tagd.Scan{{Source: "api"}, {Source: "api"}})
	ctx := context.Background()
	none := func(*tagd.Scan) error { return nil }
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		q     tagd.ScanQuery
		field string
	}{
		{tagd.ScanQuery{UID: "04GG"}, "uid"},
		{tagd.ScanQuery{UID: "04A"}, "uid"},
		{tagd.ScanQuery{Verdict: "maybe"}, "verdict"},
		{tagd.ScanQuery{Reason: "bogus"}, "reason"},
		{tagd.ScanQuery{Since: t0, Until: t0}, "until"},
		{tagd.ScanQuery{Limit: -1}, "limit"},
		{tagd.ScanQuery{Limit: tagd.MaxScanLimit + 1}, "limit"},
		{tagd.ScanQuery{XUID: "a\x00b"}, "xuid"},
	} {
		wantCode(t, db.EachScan(ctx, tc.q, none), tagd.CodeInvalid, tc.field)
	}
	stop := errors.New("enough")
	n := 0
	err := db.EachScan(ctx, tagd.ScanQuery{}, func(*tagd.Scan) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("fn's error: got %v after %d calls", err, n)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := db.EachScan(cctx, tagd.ScanQuery{}, none); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

// The store serves the scan queries of the HTTP API.
var _ interface {
	EachScan(context.Context, tagd.ScanQuery, func(*tagd.Scan) error) error
} = (*store.DB)(nil)

package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/store"
)

// benchTags creates n tags in the fixture's authentication batch.
func benchTags(b *testing.B, db *testDB, n int) []string {
	b.Helper()
	ctx := context.Background()
	xuids := make([]string, n)
	for i := range xuids {
		xuids[i] = fmt.Sprintf("bench%03d", i)
		if err := db.CreateTag(ctx, &tagd.Tag{XUID: xuids[i], BatchID: authBatch, UID: fmt.Sprintf("05%012X", i)}, nil); err != nil {
			b.Fatal(err)
		}
	}
	return xuids
}

// benchRender is a Render callback of realistic weight.
func benchRender(t *tagd.Tag, replay bool) tagd.Scan {
	s := tagd.Scan{Source: "reader:bench", Auth: "pass", Response: "Pass"}
	if replay {
		s.Auth, s.Reason, s.Response = "fail", tagd.CodeReplay, "Fail"
	}
	return s
}

// benchmarkRecordTapParallel runs RecordTap from 32 goroutines per CPU
// (taps from many readers and API clients), each on a tag of its own with
// increasing counters, and reports taps per second.
func benchmarkRecordTapParallel(b *testing.B, mod ...func(*store.Options)) {
	db := openDB(b, mod...)
	fixture(b, db)
	const parallelism = 32
	xuids := benchTags(b, db, 256)
	ctx := context.Background()
	var next atomic.Int32
	b.SetParallelism(parallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		xuid := xuids[int(next.Add(1)-1)%len(xuids)]
		var ctr uint32
		for pb.Next() {
			ctr++
			if _, _, err := db.RecordTap(ctx, tagd.Tap{XUID: xuid, Counter: ctr, HasCounter: true, Authenticated: true, Render: benchRender}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "taps/s")
}

// BenchmarkRecordTapParallel is concurrent taps with fsync on: taps
// sharing the tap journal's syncs.
func BenchmarkRecordTapParallel(b *testing.B) { benchmarkRecordTapParallel(b, withSync) }

// BenchmarkRecordTapNoSync is the same without fsync, for comparison: the
// cost of the store itself.
func BenchmarkRecordTapNoSync(b *testing.B) { benchmarkRecordTapParallel(b) }

// BenchmarkRecordTapSerial is one reader tapping, fsync on: the latency
// of a lone tap (ns/op).
func BenchmarkRecordTapSerial(b *testing.B) {
	db := openDB(b, withSync)
	fixture(b, db)
	ctx := context.Background()
	var ctr uint32
	b.ReportAllocs()
	for b.Loop() {
		ctr++
		if _, _, err := db.RecordTap(ctx, tagd.Tap{XUID: authXUID, Counter: ctr, HasCounter: true, Authenticated: true, Render: benchRender}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "taps/s")
}

// BenchmarkFindTagByXUID is the lookup of every check: the tag and
// everything above it.
func BenchmarkFindTagByXUID(b *testing.B) {
	db := openDB(b)
	fixture(b, db)
	benchTags(b, db, 256)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.FindTag(ctx, tagd.Lookup{XUID: authXUID}); err != nil {
			b.Fatal(err)
		}
	}
}

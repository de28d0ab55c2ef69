package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/sun"
)

// BenchmarkCheckSUNDurable is the whole check flow of a genuine SUN tap,
// in-process (no HTTP): identify the tag from its PICCData, verify, write
// the counter and the scan durably (fsync on, taps sharing journal syncs), with 16
// goroutines tapping their own demo tags.
func BenchmarkCheckSUNDurable(b *testing.B) {
	dir := b.TempDir()
	ctx := context.Background()
	if _, err := initData(ctx, dir, time.Now); err != nil {
		b.Fatal(err)
	}
	d, err := openData(dir)
	if err != nil {
		b.Fatal(err)
	}
	db, err := d.openStore(time.Now)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := loadDemo(ctx, db); err != nil {
		b.Fatal(err)
	}
	c := &tagd.Checker{Store: db, Verifier: newSUNVerifier(), Now: time.Now, Rand: randUint64}
	var next atomic.Int64
	b.SetParallelism(8) // 16 goroutines on 2 cores
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		tag := demoSimTags()[next.Add(1)%int64(demoSimTagCount)]
		e := &sun.Emitter{Mode: sun.ModeAES, MetaKey: make([]byte, 16), FileKey: make([]byte, 16), UID: mustDecodeHex(tag.UID), Rand: zeroReader{}}
		var ctr uint32
		for pb.Next() {
			ctr++
			picc, _ := e.PICCData(ctr)
			mac, _ := e.MAC(ctr, "")
			res, err := c.Check(ctx, tagd.Request{Source: "api", RawURL: fmt.Sprintf("?picc_data=%X&cmac=%X", picc, mac)})
			if err != nil || res.Auth != "pass" {
				b.Fatalf("%+v %v", res, err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "taps/s")
}

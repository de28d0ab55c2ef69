//go:build linux

package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/device/pcsc/pcsctest"
	"github.com/tagd-nfc/tagd/device/sim"
	"github.com/tagd-nfc/tagd/sun"
)

// vpcdTap puts a virtual card in the field of pcscd's vpcd reader, waits
// for the appliance's verdict, takes the card away and waits until the
// reader is ready again.
func vpcdTap(t *testing.T, w *tapWatcher, card sim.APDUHandler) *tagd.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := sim.ConnectVPCD(ctx, pcsctest.VPCDAddr, card)
	if err != nil {
		t.Fatalf("card to vpcd: %v", err)
	}
	r := w.nextTap(15 * time.Second)
	if r == nil {
		t.Logf("tagd log:\n%s", w.logs())
	}
	conn.Close()
	w.waitReader(15*time.Second, tagd.ReaderReady)
	return r
}

// TestPCSCReaderEndToEnd runs `tagd run --reader pcsc:…` against a real
// pcscd with vsmartcard-vpcd, in a private network namespace, with the
// virtual NTAG 424 DNA tapping demo tags: genuine taps pass, an old
// counter is a replay, a card with wrong keys fails; pcscd killed and
// restarted mid-test, and the reader unplugged and plugged back, are
// recovered without restarting tagd; every tap is in `tagd scans --json`.
func TestPCSCReaderEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end reader test")
	}
	if !pcsctest.EnterNetns(t) {
		return
	}
	pcscd := pcsctest.StartPCSCD(t)
	dir := t.TempDir()
	a := startAppliance(t, dir, "--reader", "pcsc:"+pcsctest.ReaderName)
	w := a.watch(t)
	w.waitReader(15*time.Second, tagd.ReaderReady)
	expect := func(what string, r *tagd.Result, xuid, auth string, reason tagd.Code, ctr uint32) {
		t.Helper()
		if r == nil || r.XUID != xuid || r.Auth != auth || r.Reason != reason || (ctr != 0 && r.Counter != ctr) {
			t.Fatalf("%s: %+v; want %s %s %q counter %d", what, r, xuid, auth, reason, ctr)
		}
	}
	uid11, uid12 := demoSimTags()[10].UID, demoSimTags()[11].UID
	g11, g12 := demoCard(t, uid11, 0), demoCard(t, uid12, 0)
	expect("genuine", vpcdTap(t, w, g11), "demo0011", "pass", "", 1)
	expect("genuine", vpcdTap(t, w, g12), "demo0012", "pass", "", 1)
	// consecutive taps alternate tags: the same UID again within the
	// reader loop's debounce time counts as the same presence
	expect("genuine again", vpcdTap(t, w, g11), "demo0011", "pass", "", 2)
	expect("genuine again", vpcdTap(t, w, g12), "demo0012", "pass", "", 2)
	// the tag's old URL again (a card whose counter restarts from 0)
	expect("old URL", vpcdTap(t, w, demoCard(t, uid11, 0)), "demo0011", "fail", tagd.CodeReplay, 1)
	forged, err := sim.NewNTAG424(sim.NTAG424Config{Mode: sun.ModeAES, MetaKey: make([]byte, 16), FileKey: []byte("0123456789abcdef"),
		UID: mustUID(t, uid12), URL: sim.DemoURL, Counter: 50})
	if err != nil {
		t.Fatal(err)
	}
	expect("wrong keys", vpcdTap(t, w, forged), "demo0012", "fail", tagd.CodeMACMismatch, 0)

	// pcscd crashes and comes back: tagd recovers by itself
	pcscd.Kill(t)
	w.waitReader(20*time.Second, tagd.ReaderError, tagd.ReaderAbsent)
	pcscd.Restart(t)
	w.waitReader(30*time.Second, tagd.ReaderReady)
	expect("after pcscd restart", vpcdTap(t, w, g11), "demo0011", "pass", "", 3)

	// the reader is unplugged and plugged back
	pcscd.RestartWithoutReaders(t)
	w.waitReader(20*time.Second, tagd.ReaderError, tagd.ReaderAbsent)
	pcscd.Restart(t)
	w.waitReader(30*time.Second, tagd.ReaderReady)
	expect("after replug", vpcdTap(t, w, g12), "demo0012", "pass", "", 3)

	// tagd sim-card taps the demo tags through vpcd as a separate process
	out, errOut, code := runBin(t, "sim-card", "--vpcd", pcsctest.VPCDAddr, "--demo", "--taps", "1", "--counter", "100")
	if code != 0 {
		t.Fatalf("tagd sim-card: exit %d %s %s", code, out, errOut)
	}
	expect("sim-card", w.nextTap(15*time.Second), "demo0001", "pass", "", 101)

	scans := scansOf(t, dir)
	if len(scans) != 9 {
		t.Errorf("%d scans, want the 9 taps", len(scans))
	}
	for _, s := range scans {
		if !strings.HasPrefix(s.Source, "reader:") || (s.Auth != "pass" && s.Auth != "fail") {
			t.Errorf("scan %+v", s)
		}
	}
}

// TestPCSCTapLatency measures, through pcscd and vpcd, the time from the
// card's last answer to the verdict on the event stream.
func TestPCSCTapLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end reader test")
	}
	if !pcsctest.EnterNetns(t) {
		return
	}
	pcsctest.StartPCSCD(t)
	a := startAppliance(t, t.TempDir(), "--reader", "pcsc:"+pcsctest.ReaderName)
	w := a.watch(t)
	w.waitReader(15*time.Second, tagd.ReaderReady)
	cards := []*timedCard{{APDUHandler: demoCard(t, demoSimTags()[12].UID, 0)}, {APDUHandler: demoCard(t, demoSimTags()[13].UID, 0)}}
	n := latencyTaps(t) / 2
	var adds []time.Duration
	for i := 0; i < n; i++ {
		c := cards[i%2]
		r := vpcdTap(t, w, c)
		if r == nil || r.Auth != "pass" {
			t.Fatalf("tap %d: %+v", i, r)
		}
		adds = append(adds, w.at.Sub(c.lastAnswer()))
	}
	p50, p99, mx := percentiles(adds)
	t.Logf("PC/SC through pcscd+vpcd, %d taps: appliance adds p50 %v p99 %v max %v (card's last answer → verdict on the event stream)", n, p50, p99, mx)
}

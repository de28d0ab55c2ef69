package main

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/device/serial"
	"github.com/tagd-nfc/tagd/device/sim"
	"github.com/tagd-nfc/tagd/sun"
)

// tapWatcher follows the appliance's event stream.
type tapWatcher struct {
	t   *testing.T
	sub *tagd.Subscription
	a   *appliance
	// at is when nextTap received its tap.
	at time.Time
}

// logs returns the appliance's log so far.
func (w *tapWatcher) logs() string { return w.a.logs.String() }

// watch subscribes to the running appliance's events.
func (a *appliance) watch(t *testing.T) *tapWatcher {
	w := &tapWatcher{t: t, sub: a.events.Subscribe(256), a: a}
	t.Cleanup(w.sub.Close)
	return w
}

// nextTap waits for the next verdict (other events are skipped).
func (w *tapWatcher) nextTap(d time.Duration) *tagd.Result {
	w.t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		select {
		case ev := <-w.sub.C:
			if ev.Kind == tagd.EventTap {
				w.at = time.Now()
				return ev.Result
			}
		case <-deadline.C:
			w.t.Errorf("no tap within %v", d)
			return nil
		}
	}
}

// waitReader waits for a reader status in one of the given states.
func (w *tapWatcher) waitReader(d time.Duration, states ...tagd.ReaderState) tagd.ReaderStatus {
	w.t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		select {
		case ev := <-w.sub.C:
			if ev.Kind == tagd.EventReader {
				for _, s := range states {
					if ev.Reader.State == s {
						return *ev.Reader
					}
				}
			}
		case <-deadline.C:
			w.t.Fatalf("reader not %v within %v", states, d)
			return tagd.ReaderStatus{}
		}
	}
}

// demoCard returns a virtual demo tag (factory keys) with a counter.
func demoCard(t *testing.T, uid string, ctr uint32) *sim.NTAG424 {
	c, err := sim.NewDemoCard(uid, "", ctr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pn532Rig is a socat pty pair whose sim end the PN532 simulator serves:
// the serial reader of a test. The test is skipped when socat is missing.
type pn532Rig struct {
	t    *testing.T
	ctx  context.Context
	pair *serial.PTYPair
	pn   *sim.PN532
}

// newPN532Rig starts socat and the simulator; both stop when the test ends.
func newPN532Rig(t *testing.T) *pn532Rig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pair, err := serial.StartPTYPair(ctx, t.TempDir())
	if errors.Is(err, serial.ErrNoSocat) {
		t.Skip("socat is not installed (apt-get install socat): the serial path cannot be tested here")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pair.Stop() })
	r := &pn532Rig{t: t, ctx: ctx, pair: pair, pn: sim.NewPN532()}
	r.serve()
	return r
}

// serve (re)opens the sim end and serves it, as after a re-plug.
func (r *pn532Rig) serve() {
	port, err := serial.Open(r.pair.SimPath, 115200)
	if err != nil {
		r.t.Fatal(err)
	}
	go r.pn.Serve(r.ctx, port)
}

// reader is the --reader value for the appliance.
func (r *pn532Rig) reader() string { return "serial:" + r.pair.HostPath }

// TestSerialReaderEndToEnd runs `tagd run --reader serial:PTY` against the
// PN532 simulator on the other end of a real socat pty pair: genuine taps
// pass, an old counter is a replay, a card with wrong keys fails, frame
// faults (corrupted frame, NACK, timeout) are survived, the reader going
// away and coming back is recovered, and every tap is in the scan log.
func TestSerialReaderEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end reader test")
	}
	rig := newPN532Rig(t)
	pn, serve := rig.pn, rig.serve
	dir := t.TempDir()
	a := startAppliance(t, dir, "--reader", rig.reader())
	w := a.watch(t)
	w.waitReader(10*time.Second, tagd.ReaderReady)

	tap := func(card sim.APDUHandler) *tagd.Result {
		t.Helper()
		pn.Present(card)
		r := w.nextTap(20 * time.Second)
		if r == nil {
			t.Log(a.logs.String())
		}
		pn.Remove()
		w.waitReader(10*time.Second, tagd.ReaderReady)
		return r
	}
	// Consecutive taps alternate between two tags: the reader loop treats
	// the same UID seen again within its debounce time as the same
	// presence (a tag wobbling at the edge of the field), not a new tap.
	uid5, uid6 := demoSimTags()[4].UID, demoSimTags()[5].UID
	g5, g6 := demoCard(t, uid5, 0), demoCard(t, uid6, 0)
	expect := func(what string, r *tagd.Result, xuid, auth string, reason tagd.Code, ctr uint32) {
		t.Helper()
		if r == nil || r.XUID != xuid || r.Auth != auth || r.Reason != reason || (ctr != 0 && r.Counter != ctr) {
			t.Fatalf("%s: %+v; want %s %s %s counter %d", what, r, xuid, auth, reason, ctr)
		}
	}
	expect("genuine", tap(g5), "demo0005", "pass", "", 1)
	expect("genuine", tap(g6), "demo0006", "pass", "", 1)
	expect("genuine again", tap(g5), "demo0005", "pass", "", 2)
	expect("genuine again", tap(g6), "demo0006", "pass", "", 2)
	// the same tag re-personalised with counter 0: its first read mirrors 1 again
	expect("old counter", tap(demoCard(t, uid5, 0)), "demo0005", "fail", tagd.CodeReplay, 1)
	forged, err := sim.NewNTAG424(sim.NTAG424Config{Mode: sun.ModeAES, MetaKey: make([]byte, 16), FileKey: []byte("0123456789abcdef"), UID: mustUID(t, uid6), URL: sim.DemoURL, Counter: 10})
	if err != nil {
		t.Fatal(err)
	}
	expect("wrong keys", tap(forged), "demo0006", "fail", tagd.CodeMACMismatch, 0)
	pn.CorruptNext()
	expect("after a corrupted frame", tap(g5), "demo0005", "pass", "", 3)
	pn.NACKNext()
	expect("after a NACK", tap(g6), "demo0006", "pass", "", 3)
	pn.StallNext()
	expect("after a timeout", tap(g5), "demo0005", "pass", "", 4)
	pn.Disappear()
	w.waitReader(20*time.Second, tagd.ReaderError, tagd.ReaderAbsent)
	serve()
	w.waitReader(20*time.Second, tagd.ReaderReady)
	expect("after the reader came back", tap(g6), "demo0006", "pass", "", 4)
	scans := scansOf(t, dir)
	var sources []string
	for _, s := range scans {
		sources = append(sources, s.Source)
		if !strings.HasPrefix(s.Source, "reader:") {
			t.Errorf("scan from %q", s.Source)
		}
	}
	if len(scans) != 10 {
		t.Errorf("%d scans in the log, want 10 taps: %v", len(scans), sources)
	}
}

// timedCard records when the card answered its last APDU: the end of the
// NDEF read, from which the appliance's own latency is measured.
type timedCard struct {
	sim.APDUHandler
	mu   sync.Mutex
	last time.Time
}

func (c *timedCard) APDU(capdu []byte) []byte {
	r := c.APDUHandler.APDU(capdu)
	c.mu.Lock()
	c.last = time.Now()
	c.mu.Unlock()
	return r
}

func (c *timedCard) lastAnswer() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// latencyTaps is how many taps the latency tests measure: 20 by default
// (CI), TAGD_LATENCY_TAPS for the figures in docs/PERFORMANCE.md.
func latencyTaps(t *testing.T) int {
	if s := os.Getenv("TAGD_LATENCY_TAPS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("TAGD_LATENCY_TAPS=%q", s)
		}
		return n
	}
	return 20
}

// percentiles returns p50, p99 and max of ds.
func percentiles(ds []time.Duration) (p50, p99, max time.Duration) {
	s := append([]time.Duration(nil), ds...)
	slices.Sort(s)
	at := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return at(0.50), at(0.99), s[len(s)-1]
}

// TestSerialTapLatency measures, over the real pty and PN532 protocol,
// the time from the card's last answer (the end of the NDEF read) to the
// verdict on the event stream: what the appliance adds on top of the
// reader's own APDU time (decoding, SUN check, durable write, publish).
func TestSerialTapLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end reader test")
	}
	rig := newPN532Rig(t)
	pn := rig.pn
	a := startAppliance(t, t.TempDir(), "--reader", rig.reader())
	w := a.watch(t)
	w.waitReader(10*time.Second, tagd.ReaderReady)
	cards := []*timedCard{{APDUHandler: demoCard(t, demoSimTags()[6].UID, 0)}, {APDUHandler: demoCard(t, demoSimTags()[7].UID, 0)}}
	var adds, totals []time.Duration
	n := latencyTaps(t)
	for i := 0; i < n; i++ {
		c := cards[i%2]
		start := time.Now()
		pn.Present(c)
		r := w.nextTap(20 * time.Second)
		got := time.Now()
		if r == nil || r.Auth != "pass" {
			t.Fatalf("tap %d: %+v", i, r)
		}
		adds = append(adds, got.Sub(c.lastAnswer()))
		totals = append(totals, got.Sub(start))
		pn.Remove()
		w.waitReader(10*time.Second, tagd.ReaderReady)
	}
	p50, p99, mx := percentiles(adds)
	t50, t99, _ := percentiles(totals)
	t.Logf("serial/PN532 over a pty, %d taps: appliance adds p50 %v p99 %v max %v (card's last answer → verdict on the event stream); whole tap p50 %v p99 %v (present → verdict)", n, p50, p99, mx, t50, t99)
}

//go:build linux

package pcsc_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/device"
	"github.com/tagd-nfc/tagd/device/pcsc"
	"github.com/tagd-nfc/tagd/device/pcsc/pcsctest"
	"github.com/tagd-nfc/tagd/device/sim"
	"github.com/tagd-nfc/tagd/sun"
)

var (
	e2eUID  = []byte{0x04, 0x5A, 0x6B, 0x7C, 0x8D, 0x9E, 0x01}
	e2eMeta = bytes.Repeat([]byte{0x42}, 16)
	e2eFile = bytes.Repeat([]byte{0x24}, 16)
)

const e2eURL = "https://tagd.test/t?picc_data={picc}&cmac={mac}"

// TestE2E_PCSC drives the real stack: pcsc.Reader → libpcsclite → pcscd →
// vpcd → sim.ConnectVPCD → sim.NTAG424, inside private namespaces (see
// pcsctest). A tag enters the field when its vpcd connection opens and
// leaves when it closes. pcscd looks at vpcd every 400 ms, so the test
// orders events by the card's presence, never by sleeping: a tag stays
// in the field until the test has seen its tap, and the next one enters
// after Release has seen it leave.
func TestE2E_PCSC(t *testing.T) {
	if !pcsctest.EnterNetns(t) {
		return
	}
	pcscd := pcsctest.StartPCSCD(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	nt, err := sim.NewNTAG424(sim.NTAG424Config{Mode: sun.ModeAES, MetaKey: e2eMeta, FileKey: e2eFile, UID: e2eUID, URL: e2eURL})
	if err != nil {
		t.Fatal(err)
	}
	card := &probe{APDUHandler: nt, polls: make(chan struct{}, 16)}
	logger := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r, err := pcsc.Open(pcsc.Options{Name: pcsctest.ReaderName, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	lastCtr := uint32(0)
	nextTap := func(t *testing.T) tapResult {
		t.Helper()
		res := tap(ctx, t, r, card)
		if res.ctr <= lastCtr {
			t.Fatalf("counter %d after %d: not increasing", res.ctr, lastCtr)
		}
		lastCtr = res.ctr
		return res
	}

	t.Run("ThreeTaps", func(t *testing.T) {
		var total, perAPDU time.Duration
		for i := range 3 {
			res := nextTap(t)
			if want := uint32(i + 1); res.ctr != want {
				t.Errorf("tap %d: counter %d, want %d", i+1, res.ctr, want)
			}
			total += res.tapToURL
			perAPDU += res.perAPDU
		}
		t.Logf("3 taps: mean tap-to-URL %v, mean per-APDU %v", total/3, perAPDU/3)
		if got := r.ReaderName(); got != pcsctest.ReaderName {
			t.Errorf("ReaderName = %q, want %q", got, pcsctest.ReaderName)
		}
	})

	t.Run("ReleaseWaitsForTheTagToLeave", func(t *testing.T) {
		v := insert(ctx, t, card)
		c, err := r.NextCard(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := device.ReadURI(ctx, c); err != nil {
			t.Fatal(err)
		}
		released := make(chan error, 1)
		go func() { released <- r.Release(ctx, c) }()
		// Two presence polls of pcscd (≥ 400 ms) with the tag still in
		// the field, and Release must still be waiting.
		card.drainPolls()
		card.waitPolls(t, 2)
		select {
		case err := <-released:
			t.Fatalf("Release returned (%v) while the tag was on the reader", err)
		default:
		}
		closed := time.Now()
		v.Close()
		if err := <-released; err != nil {
			t.Fatalf("Release: %v", err)
		}
		t.Logf("removal seen by Release %v after the tag left", time.Since(closed).Round(time.Millisecond))
	})

	// The reader's slot connection closed in the middle of a read (the
	// tag pulled away, or the vpcd "reader" unplugged) and opened again.
	t.Run("SlotClosedMidReadAndReopened", func(t *testing.T) {
		var yanked atomic.Bool
		ndef := false // runs on the vpcd goroutine only
		card.leaveAt = func(apdu []byte) bool {
			// The first READ BINARY of the NDEF file: the tag leaves
			// before it answers.
			if apdu[1] == 0xA4 {
				ndef = bytes.HasSuffix(apdu, []byte{0x02, 0xE1, 0x04})
				return false
			}
			return ndef && apdu[1] == 0xB0 && yanked.CompareAndSwap(false, true)
		}
		v := insert(ctx, t, card)
		c, err := r.NextCard(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = device.ReadURI(ctx, c)
		if !errors.Is(err, device.ErrCardLeft) {
			t.Fatalf("read of a tag that left: %v, want ErrCardLeft", err)
		}
		t.Logf("read of a tag that left: %v", err)
		<-v.Done()
		if err := r.Release(ctx, c); err != nil {
			t.Fatalf("Release: %v", err)
		}
		card.leaveAt = nil
		nextTap(t)
	})

	t.Run("PCSCDKilledWhileWaiting", func(t *testing.T) {
		errc := make(chan error, 1)
		go func() {
			c, err := r.NextCard(ctx)
			if c != nil {
				err = errors.New("NextCard returned a tag while none was there")
			}
			errc <- err
		}()
		pcscd.Kill(t)
		err := <-errc
		if err == nil || !errors.Is(err, device.ErrReaderAbsent) {
			t.Fatalf("NextCard with pcscd killed: %v, want an error that wraps ErrReaderAbsent", err)
		}
		t.Logf("NextCard with pcscd killed: %v", err)
		_, err = r.NextCard(ctx)
		if err == nil || !strings.Contains(err.Error(), "pcscd is not running (SCARD_E_NO_SERVICE)") {
			t.Fatalf("NextCard with pcscd down: %v, want pcscd is not running", err)
		}
		t.Logf("NextCard with pcscd down: %v", err)
		pcscd.Restart(t)
		nextTap(t) // the same Reader recovers
	})

	t.Run("PCSCDKilledDuringTap", func(t *testing.T) {
		v := insert(ctx, t, card)
		c, err := r.NextCard(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pcscd.Kill(t)
		<-v.Done()
		if err := v.Err(); !errors.Is(err, sim.ErrVPCDHangup) {
			t.Errorf("vpcd connection ended with %v, want ErrVPCDHangup", err)
		}
		_, err = device.ReadURI(ctx, c)
		if err == nil {
			t.Fatal("read with pcscd killed succeeded")
		}
		t.Logf("read with pcscd killed: %v", err)
		t.Logf("Release with pcscd killed: %v", r.Release(ctx, c))
		if _, err := r.NextCard(ctx); !errors.Is(err, device.ErrReaderAbsent) {
			t.Fatalf("NextCard with pcscd down: %v, want ErrReaderAbsent", err)
		}
		pcscd.Restart(t)
		nextTap(t)
	})

	// pcscd up without readers (the reader unplugged), then with them.
	t.Run("NoReader", func(t *testing.T) {
		pcscd.RestartWithoutReaders(t)
		_, err := r.NextCard(ctx)
		if !strings.Contains(fmt.Sprint(err), "no reader is connected") {
			// The first call after a pcscd restart finds its PC/SC
			// context dead; the next one has a new context.
			t.Logf("NextCard after the restart: %v", err)
			if !errors.Is(err, device.ErrReaderAbsent) {
				t.Fatalf("NextCard after a pcscd restart: %v, want ErrReaderAbsent", err)
			}
			_, err = r.NextCard(ctx)
		}
		if !errors.Is(err, device.ErrReaderAbsent) || !strings.Contains(fmt.Sprint(err), "no reader is connected") {
			t.Fatalf("NextCard without readers: %v, want no reader is connected", err)
		}
		t.Logf("NextCard without readers: %v", err)
		pcscd.Restart(t)
		other, err := pcsc.Open(pcsc.Options{Name: "ACR122"})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		_, err = other.NextCard(ctx)
		if !errors.Is(err, device.ErrReaderAbsent) || !strings.Contains(err.Error(), `no reader name contains "ACR122"`) {
			t.Fatalf("NextCard for a reader that is not there: %v", err)
		}
		t.Logf("NextCard for a reader that is not there: %v", err)
		// r's context belonged to the pcscd without readers: the first
		// call reports it lost, the next one recovers.
		if _, err := r.NextCard(ctx); !errors.Is(err, device.ErrReaderAbsent) {
			t.Fatalf("first NextCard after a pcscd restart: %v, want ErrReaderAbsent", err)
		}
		nextTap(t)
	})

	// The Reader under its real consumer, device.Loop: statuses, taps,
	// pcscd killed and back.
	t.Run("Loop", func(t *testing.T) {
		lr, err := pcsc.Open(pcsc.Options{Name: pcsctest.ReaderName, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		defer lr.Close()
		taps := make(chan device.Tap, 4)
		statuses := make(chan tagd.ReaderStatus, 256)
		loop := &device.Loop{
			Driver:   lr,
			OnTap:    func(_ context.Context, tp device.Tap) { taps <- tp },
			OnStatus: func(st tagd.ReaderStatus) { statuses <- st },
			Backoff:  func(int) time.Duration { return 50 * time.Millisecond },
			Debounce: -1, // the same tag is tapped again at once here
			Logger:   logger,
		}
		lctx, lcancel := context.WithCancel(ctx)
		ran := make(chan error, 1)
		go func() { ran <- loop.Run(lctx) }()
		defer func() {
			lcancel()
			if err := <-ran; err != nil {
				t.Errorf("Run: %v", err)
			}
		}()
		waitStatus := func(want tagd.ReaderState) tagd.ReaderStatus {
			t.Helper()
			guard := time.NewTimer(20 * time.Second) // a hung loop, not a synchronisation
			defer guard.Stop()
			for {
				select {
				case st := <-statuses:
					t.Logf("status %s %q", st.State, st.Detail)
					if st.State == want {
						return st
					}
				case <-guard.C:
					t.Fatalf("no status %q", want)
				}
			}
		}
		loopTap := func() {
			t.Helper()
			v := insert(ctx, t, card)
			tp := <-taps
			if ctr := verifySUN(t, tp.URL); ctr <= lastCtr {
				t.Errorf("counter %d after %d", ctr, lastCtr)
			} else {
				lastCtr = ctr
			}
			if tp.UID != strings.ToUpper(hex.EncodeToString(e2eUID)) || tp.Reader != lr.Name() {
				t.Errorf("tap %+v", tp)
			}
			v.Close()
			waitStatus(tagd.ReaderReady) // Release saw the tag leave
		}
		waitStatus(tagd.ReaderReady)
		loopTap()
		pcscd.Kill(t)
		if st := waitStatus(tagd.ReaderAbsent); !strings.Contains(st.Detail, "pcscd") {
			t.Errorf("absent status detail %q does not name pcscd", st.Detail)
		}
		pcscd.Restart(t)
		waitStatus(tagd.ReaderReady)
		loopTap()
		// r sat idle with a context of the killed pcscd: its first call
		// reports that, the next one recovers.
		if _, err := r.NextCard(ctx); !errors.Is(err, device.ErrReaderAbsent) {
			t.Fatalf("first NextCard after a pcscd restart: %v, want ErrReaderAbsent", err)
		}
	})

	// SCardTransmit round trips through pcscd and vpcd, with the tag held.
	t.Run("APDURoundTrip", func(t *testing.T) {
		v := insert(ctx, t, card)
		c, err := r.NextCard(ctx)
		if err != nil {
			t.Fatal(err)
		}
		const n = 200
		times := make([]time.Duration, n)
		getUID := []byte{0xFF, 0xCA, 0x00, 0x00, 0x00} // vpcd passes it to the card
		for i := range n {
			start := time.Now()
			rsp, err := c.Transmit(ctx, getUID)
			times[i] = time.Since(start)
			if err != nil || !bytes.Equal(rsp, append(slices.Clone(e2eUID), 0x90, 0x00)) {
				t.Fatalf("GET UID %d: % X, %v", i, rsp, err)
			}
		}
		slices.Sort(times)
		var sum time.Duration
		for _, d := range times {
			sum += d
		}
		t.Logf("SCardTransmit via pcscd+vpcd, %d APDUs: min %v, median %v, p90 %v, max %v, mean %v",
			n, times[0], times[n/2], times[n*9/10], times[n-1], sum/n)
		// Without TCP_QUICKACK in the card every APDU waits ~40 ms for a
		// delayed ACK (research/readers.md §3.1).
		if times[n/2] > 20*time.Millisecond {
			t.Errorf("median APDU round trip %v: delayed ACKs are back", times[n/2])
		}
		v.Close()
		if err := r.Release(ctx, c); err != nil {
			t.Fatal(err)
		}
	})

	// Close from another goroutine ends a NextCard that waits in
	// SCardGetStatusChange (SCardCancel), as a cancelled ctx does.
	t.Run("CloseUnblocksNextCard", func(t *testing.T) {
		r2, err := pcsc.Open(pcsc.Options{Logger: logger}) // the first contactless-looking reader
		if err != nil {
			t.Fatal(err)
		}
		waiting := make(chan struct{}, 1)
		pcsc.SetWaitHook(r2, func() {
			select {
			case waiting <- struct{}{}:
			default:
			}
		})
		errc := make(chan error, 1)
		go func() {
			_, err := r2.NextCard(ctx)
			errc <- err
		}()
		select {
		case <-waiting:
		case err := <-errc:
			t.Fatalf("NextCard returned before it waited: %v", err)
		}
		start := time.Now()
		r2.Close()
		if err := <-errc; !errors.Is(err, pcsc.ErrClosed) {
			t.Fatalf("NextCard after Close: %v, want ErrClosed", err)
		}
		took := time.Since(start)
		t.Logf("NextCard returned %v after Close", took.Round(time.Microsecond))
		// Well below pollTimeout (1 s): SCardCancel ended the wait.
		if took > 500*time.Millisecond {
			t.Errorf("NextCard returned %v after Close", took)
		}
		if got := r2.ReaderName(); got != pcsctest.ReaderName {
			t.Errorf("default reader %q, want %q", got, pcsctest.ReaderName)
		}
	})

	t.Run("CancelUnblocksNextCard", func(t *testing.T) {
		waiting := make(chan struct{}, 1)
		pcsc.SetWaitHook(r, func() {
			select {
			case waiting <- struct{}{}:
			default:
			}
		})
		defer pcsc.SetWaitHook(r, nil)
		cctx, ccancel := context.WithCancel(ctx)
		errc := make(chan error, 1)
		go func() {
			_, err := r.NextCard(cctx)
			errc <- err
		}()
		select {
		case <-waiting:
		case err := <-errc:
			t.Fatalf("NextCard returned before it waited: %v", err)
		}
		start := time.Now()
		ccancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("NextCard after cancel: %v, want context.Canceled", err)
		}
		took := time.Since(start)
		t.Logf("NextCard returned %v after cancel", took.Round(time.Microsecond))
		if took > 500*time.Millisecond {
			t.Errorf("NextCard returned %v after cancel", took)
		}
		nextTap(t) // the Reader is still usable
	})
}

// tapResult is one tap's outcome and timing.
type tapResult struct {
	url      string
	ctr      uint32
	tapToURL time.Duration // from the vpcd connect to the URL read
	perAPDU  time.Duration // mean SCardTransmit round trip of the read
}

// tap puts the card on the reader, reads its URL through r, takes the
// card away and waits for Release; it checks the SUN message.
func tap(ctx context.Context, t *testing.T, r *pcsc.Reader, card *probe) tapResult {
	t.Helper()
	start := time.Now()
	v := insert(ctx, t, card)
	dc, err := r.NextCard(ctx)
	if err != nil {
		t.Fatalf("NextCard: %v", err)
	}
	seen := time.Now()
	tc := &timedCard{Card: dc}
	url, err := device.ReadURI(ctx, tc)
	if err != nil {
		t.Fatalf("ReadURI: %v", err)
	}
	read := time.Now()
	// Only now does the tag leave: it was held until the tap was seen.
	v.Close()
	if err := r.Release(ctx, dc); err != nil {
		t.Fatalf("Release: %v", err)
	}
	gone := time.Now()

	c := dc.(*pcsc.Card)
	if got, want := strings.ToUpper(hex.EncodeToString(c.UID())), strings.ToUpper(hex.EncodeToString(e2eUID)); got != want {
		t.Errorf("UID %s, want %s", got, want)
	}
	if c.Type() != device.Type4 {
		t.Errorf("type %v, want Type4 (ATR % X)", c.Type(), c.ATR())
	}
	res := tapResult{url: url, ctr: verifySUN(t, url), tapToURL: read.Sub(start), perAPDU: tc.mean()}
	t.Logf("tap: %s (counter %d) — detected %v after insert, read in %v (%d APDUs, %v each), tap-to-URL %v, removal seen after %v",
		url, res.ctr, seen.Sub(start).Round(time.Millisecond), read.Sub(seen).Round(time.Microsecond),
		tc.n, res.perAPDU.Round(time.Microsecond), res.tapToURL.Round(time.Millisecond), gone.Sub(read).Round(time.Millisecond))
	return res
}

// insert puts the card in vpcd's first slot.
func insert(ctx context.Context, t *testing.T, card sim.APDUHandler) *sim.VPCDConn {
	t.Helper()
	v, err := sim.ConnectVPCD(ctx, pcsctest.VPCDAddr, card)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// verifySUN checks the SUN message of url with the test keys and returns
// its counter.
func verifySUN(t *testing.T, url string) uint32 {
	t.Helper()
	u, err := sun.ParseURL(url, sun.DefaultParamNames())
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	m, err := u.Message(sun.MACInput{})
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	p, err := sun.NewProfile(sun.ProfileConfig{Mode: sun.ModeAuto, MetaKey: e2eMeta, FileKey: e2eFile, TamperOffset: -1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Verify(m)
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	if !bytes.Equal(res.UID[:], e2eUID) {
		t.Errorf("%s: UID % X, want % X", url, res.UID, e2eUID)
	}
	return res.Counter
}

// probe wraps the virtual card: it reports pcscd's presence polls (vpcd
// asks for the ATR on each) and can leave the field at a chosen APDU.
// Its methods run on the vpcd connection's goroutine; leaveAt is set only
// while no connection is up.
type probe struct {
	sim.APDUHandler
	polls   chan struct{}
	leaveAt func(apdu []byte) bool
}

func (p *probe) ATR() []byte {
	select {
	case p.polls <- struct{}{}:
	default:
	}
	return p.APDUHandler.ATR()
}

func (p *probe) APDU(c []byte) []byte {
	if p.leaveAt != nil && p.leaveAt(c) {
		return nil // sim.VPCDConn closes the connection without answering
	}
	return p.APDUHandler.APDU(c)
}

func (p *probe) drainPolls() {
	for {
		select {
		case <-p.polls:
		default:
			return
		}
	}
}

// waitPolls waits for n presence polls; the timer only guards against a
// hung pcscd.
func (p *probe) waitPolls(t *testing.T, n int) {
	t.Helper()
	guard := time.NewTimer(10 * time.Second)
	defer guard.Stop()
	for range n {
		select {
		case <-p.polls:
		case <-guard.C:
			t.Fatal("pcscd stopped polling the vpcd card")
		}
	}
}

// timedCard times a card's Transmit calls.
type timedCard struct {
	device.Card
	n     int
	total time.Duration
}

func (c *timedCard) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	start := time.Now()
	rsp, err := c.Card.Transmit(ctx, apdu)
	c.total += time.Since(start)
	c.n++
	return rsp, err
}

func (c *timedCard) mean() time.Duration {
	if c.n == 0 {
		return 0
	}
	return c.total / time.Duration(c.n)
}

// tWriter sends log lines to t.Log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

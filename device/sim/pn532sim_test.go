package sim

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd/device"
	"github.com/tagd-nfc/tagd/device/pn532"
	"github.com/tagd-nfc/tagd/device/serial"
	"github.com/tagd-nfc/tagd/sun"
)

// pn532Rig is the serial path end to end: a socat pty pair, the
// simulator on its sim end (opened with device/serial), and a
// pn532.Device on its host end (opened with device/serial through
// Config.Open).
type pn532Rig struct {
	t    *testing.T
	pair *serial.PTYPair
	sim  *PN532
	dev  *pn532.Device

	mu    sync.Mutex
	opens int
	stop  context.CancelFunc
	done  chan error // Serve's result
}

// newPN532Rig starts socat and the simulator, or skips the test when
// socat is missing.
func newPN532Rig(t *testing.T) *pn532Rig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pair, err := serial.StartPTYPair(ctx, t.TempDir())
	if errors.Is(err, serial.ErrNoSocat) {
		t.Skip("socat is not installed (apt-get install socat): skipping the PN532 pty test")
	}
	if err != nil {
		t.Fatal(err)
	}
	r := &pn532Rig{t: t, pair: pair, sim: NewPN532()}
	r.dev = pn532.New(pn532.Config{
		Name: "pn532:" + pair.HostPath,
		Open: func() (pn532.Port, error) {
			r.mu.Lock()
			r.opens++
			r.mu.Unlock()
			return serial.Open(pair.HostPath, 115200)
		},
		Timing:           pn532.Timing{ACK: 200 * time.Millisecond, Response: 400 * time.Millisecond, Poll: 2 * time.Second},
		PresenceInterval: 2 * time.Millisecond,
	})
	t.Cleanup(func() {
		r.dev.Close()
		r.halt()
		pair.Stop()
	})
	r.serve()
	return r
}

// serve opens the sim end and runs the simulator on it.
func (r *pn532Rig) serve() {
	r.t.Helper()
	p, err := serial.Open(r.pair.SimPath, 115200)
	if err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.sim.Serve(ctx, p) }()
	r.stop, r.done = cancel, done
}

// halt stops the simulator and returns Serve's error.
func (r *pn532Rig) halt() error {
	if r.stop == nil {
		return nil
	}
	r.stop()
	err := <-r.done
	r.stop = nil
	return err
}

// openCount is how often the Device opened its port.
func (r *pn532Rig) openCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.opens
}

// tap presents card, reads its URL through the Device (timing NextCard
// and the NDEF read), removes it and releases it (timing Release).
func (r *pn532Rig) tap(ctx context.Context, card APDUHandler) (url string, read, release time.Duration, err error) {
	r.sim.Present(card)
	start := time.Now()
	c, err := r.dev.NextCard(ctx)
	if err != nil {
		return "", 0, 0, err
	}
	if !bytes.Equal(c.UID(), card.UID()) || c.Type() != device.Type4 {
		return "", 0, 0, errors.New("wrong card")
	}
	msg, err := device.ReadType4(ctx, c)
	if err == nil {
		url, err = device.FirstURI(msg)
	}
	read = time.Since(start)
	r.sim.Remove()
	start = time.Now()
	if rerr := r.dev.Release(ctx, c); err == nil {
		err = rerr
	}
	return url, read, time.Since(start), err
}

// pn532Counter checks a demo card's SUN URL and returns its counter.
func pn532Counter(t *testing.T, url string) uint32 {
	t.Helper()
	u, err := sun.ParseURL(url, sun.DefaultParamNames())
	if err != nil {
		t.Fatal(err)
	}
	m, err := u.Message(sun.MACInput{})
	if err != nil {
		t.Fatal(err)
	}
	zero := make([]byte, 16)
	p, err := sun.NewProfile(sun.ProfileConfig{Mode: sun.ModeAuto, MetaKey: zero, FileKey: zero, TamperOffset: -1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Verify(m)
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return res.Counter
}

// TestPN532OverPTY drives the simulator through a real pty pair with
// device/serial on both ends: initialisation, taps of a virtual NTAG 424
// DNA with genuine SUN, a damaged frame, a NACK, a timeout, the
// simulator going away and coming back, and socat itself restarting —
// all with one Device, which recovers by itself.
func TestPN532OverPTY(t *testing.T) {
	r := newPN532Rig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	card, err := NewDemoCard("04A1B2C3D4E501", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	ctr := uint32(0)
	mustTap := func(what string) {
		t.Helper()
		url, _, _, err := r.tap(ctx, card)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		ctr++
		if got := pn532Counter(t, url); got != ctr {
			t.Fatalf("%s: counter %d, want %d", what, got, ctr)
		}
	}

	t.Run("wakeup SAM firmware", func(t *testing.T) {
		p, err := serial.Open(r.pair.HostPath, 115200)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		l := pn532.NewLink(p, pn532.Timing{ACK: 200 * time.Millisecond})
		start := time.Now()
		if err := l.Wakeup(ctx); err != nil {
			t.Fatal(err)
		}
		fw, err := l.GetFirmwareVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		d := time.Since(start)
		if fw.IC != 0x32 || fw.Version != 1 || fw.Revision != 6 {
			t.Fatalf("firmware %v", fw)
		}
		t.Logf("wake-up + SAMConfiguration + GetFirmwareVersion over the pty: %v (%v)", d, fw)
	})

	t.Run("taps", func(t *testing.T) {
		var reads, releases []time.Duration
		for i := range 20 {
			url, read, release, err := r.tap(ctx, card)
			if err != nil {
				t.Fatalf("tap %d: %v", i, err)
			}
			ctr++
			if !strings.HasPrefix(url, "https://tagd.local/t?picc_data=") {
				t.Fatalf("URL %q", url)
			}
			if got := pn532Counter(t, url); got != ctr {
				t.Fatalf("tap %d: counter %d, want %d", i, got, ctr)
			}
			if i > 0 { // the first includes opening and initialising
				reads, releases = append(reads, read), append(releases, release)
			}
		}
		slices.Sort(reads)
		slices.Sort(releases)
		n := len(reads)
		t.Logf("per tap over the pty (NextCard + 6 APDUs, %d taps): min %v, median %v, p90 %v, max %v",
			n, reads[0], reads[n/2], reads[n*9/10], reads[n-1])
		t.Logf("release after removal (presence check every 2 ms + InRelease): median %v, max %v",
			releases[n/2], releases[n-1])
		if r.openCount() != 1 {
			t.Fatalf("%d opens", r.openCount())
		}
	})

	t.Run("corrupted frame recovered with a NACK", func(t *testing.T) {
		before := r.sim.Stats()
		r.sim.CorruptNext()
		mustTap("corrupted")
		st := r.sim.Stats()
		if st.Corrupted-before.Corrupted != 1 || st.NACKsReceived-before.NACKsReceived != 1 {
			t.Fatalf("%+v", st)
		}
	})

	t.Run("NACK from the simulator makes the host resend", func(t *testing.T) {
		before := r.sim.Stats()
		r.sim.NACKNext()
		mustTap("NACKed")
		if st := r.sim.Stats(); st.NACKsSent-before.NACKsSent != 1 {
			t.Fatalf("%+v", st)
		}
	})

	t.Run("timeout then recovery", func(t *testing.T) {
		r.sim.Present(card)
		c, err := r.dev.NextCard(ctx)
		if err != nil {
			t.Fatal(err)
		}
		acks := r.sim.Stats().ACKsReceived
		r.sim.StallNext()
		start := time.Now()
		_, err = device.ReadURI(ctx, c)
		if !errors.Is(err, pn532.ErrTimeout) {
			t.Fatalf("stalled read: %v", err)
		}
		t.Logf("stalled command gave up after %v: %v", time.Since(start), err)
		if err := r.dev.Release(ctx, c); err != nil {
			t.Fatal(err)
		}
		r.sim.Remove()
		ctr = card.Counter() // the stalled session may have moved it
		mustTap("after the timeout")
		// The line keeps order, so the abort was seen before the tap.
		if got := r.sim.Stats().ACKsReceived - acks; got != 1 {
			t.Fatalf("%d ACKs to abort the stalled command, want 1", got)
		}
	})

	t.Run("simulator disappears and comes back", func(t *testing.T) {
		r.sim.Disappear()
		if err := <-r.done; !errors.Is(err, ErrDisappeared) {
			t.Fatalf("Serve: %v", err)
		}
		r.stop = nil
		r.sim.Present(card)
		short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
		_, err := r.dev.NextCard(short)
		cancelShort()
		if !errors.Is(err, pn532.ErrTimeout) {
			t.Fatalf("NextCard with nobody answering: %v", err)
		}
		r.sim.Remove()
		r.serve()
		mustTap("after coming back")
		if r.openCount() != 1 {
			t.Fatalf("%d opens: the line never failed", r.openCount())
		}
	})

	t.Run("socat restarted", func(t *testing.T) {
		restart, cancelRestart := context.WithTimeout(ctx, 10*time.Second)
		defer cancelRestart()
		if err := r.pair.Restart(restart); err != nil {
			t.Fatal(err)
		}
		if err := <-r.done; !errors.Is(err, serial.ErrDisconnected) {
			t.Fatalf("Serve after the hang-up: %v", err)
		}
		r.stop = nil
		_, err := r.dev.NextCard(ctx)
		if !errors.Is(err, device.ErrReaderAbsent) {
			t.Fatalf("NextCard after the hang-up: %v", err)
		}
		r.serve()
		mustTap("after socat restarted")
		if r.openCount() != 2 {
			t.Fatalf("%d opens, want 2", r.openCount())
		}
	})

	t.Run("loop", func(t *testing.T) {
		taps := make(chan device.Tap, 4)
		loopCtx, stopLoop := context.WithCancel(ctx)
		loop := &device.Loop{Driver: r.dev, Debounce: -1, OnTap: func(_ context.Context, tp device.Tap) { taps <- tp }}
		loopDone := make(chan error, 1)
		go func() { loopDone <- loop.Run(loopCtx) }()
		for range 2 {
			r.sim.Present(card)
			tp := <-taps
			ctr++
			if tp.UID != "04A1B2C3D4E501" || pn532Counter(t, tp.URL) != ctr || tp.Reader != r.dev.Name() {
				t.Fatalf("tap %+v", tp)
			}
			r.sim.Remove()
		}
		stopLoop()
		if err := <-loopDone; err != nil {
			t.Fatal(err)
		}
	})
}

package device_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/device"
	"github.com/tagd-nfc/tagd/device/sim"
	"github.com/tagd-nfc/tagd/sun"
)

// within fails the test when ch yields nothing in time.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// waitState reads statuses until one has the state, and returns it.
func waitState(t *testing.T, ch <-chan tagd.ReaderStatus, st tagd.ReaderState) tagd.ReaderStatus {
	t.Helper()
	for {
		if s := within(t, ch, string(st)); s.State == st {
			return s
		}
	}
}

// logHandler sends the message of every log record to a channel.
type logHandler chan<- string

func (h logHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h logHandler) Handle(_ context.Context, r slog.Record) error {
	select {
	case h <- r.Message:
	default:
	}
	return nil
}
func (h logHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h logHandler) WithGroup(string) slog.Handler      { return h }

// yanker is a card that leaves the reader's field after n APDUs, in the
// middle of an exchange, as a hand moving away does.
type yanker struct {
	sim.APDUHandler
	r *sim.Reader
	n int
}

// UID differs from the wrapped card's, so that debouncing plays no part.
func (y *yanker) UID() []byte { return []byte{0x04, 1, 2, 3, 4, 5, 6} }

// APDU answers n APDUs, then removes the card and answers nothing.
func (y *yanker) APDU(c []byte) []byte {
	if y.n--; y.n < 0 {
		y.r.Remove()
		return nil
	}
	return y.APDUHandler.APDU(c)
}

// TestLoopSimReader runs the loop on the simulated reader and a virtual
// NTAG 424 DNA: every presence is one tap whose SUN message verifies with
// a counter one higher; a quick re-presentation is debounced; a card that
// leaves mid-read gives no tap.
func TestLoopSimReader(t *testing.T) {
	zero := make([]byte, 16)
	uid := []byte{0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0x01}
	card, err := sim.NewNTAG424(sim.NTAG424Config{Mode: sun.ModeAES, MetaKey: zero, FileKey: zero, UID: uid, URL: sim.DemoURL, Counter: 10})
	if err != nil {
		t.Fatal(err)
	}
	profile, _ := sun.NewProfile(sun.ProfileConfig{Mode: sun.ModeAES, MetaKey: zero, FileKey: zero, TamperOffset: -1})
	var mu sync.Mutex
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }

	r := sim.NewReader("sim")
	taps := make(chan device.Tap, 10)
	statuses := make(chan tagd.ReaderStatus, 100)
	logs := make(chan string, 100)
	l := &device.Loop{Driver: r, Now: clock, ReadyAfter: time.Millisecond, Logger: slog.New(logHandler(logs)),
		OnTap:    func(_ context.Context, tap device.Tap) { taps <- tap },
		OnStatus: func(s tagd.ReaderStatus) { statuses <- s }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	if s := within(t, statuses, "starting"); s.State != tagd.ReaderStarting || s.Reader != "sim" {
		t.Fatalf("first status %+v", s)
	}
	waitState(t, statuses, tagd.ReaderReady)

	for i := uint32(1); i <= 3; i++ {
		advance(5 * time.Second)
		r.Present(card)
		waitState(t, statuses, tagd.ReaderTag)
		tap := within(t, taps, "tap")
		if tap.UID != "04A1B2C3D4E501" || tap.Reader != "sim" || !tap.Time.Equal(clock()) {
			t.Fatalf("tap %+v", tap)
		}
		u, err := sun.ParseURL(tap.URL, sun.DefaultParamNames())
		if err != nil {
			t.Fatal(err)
		}
		m, _ := u.Message(sun.MACInput{})
		res, err := profile.Verify(m)
		if err != nil || res.Counter != 10+i || !bytes.Equal(res.UID[:], uid) {
			t.Fatalf("tap %d: %+v %v", i, res, err)
		}
		r.Remove()
		if s := waitState(t, statuses, tagd.ReaderReady); !s.LastTap.Equal(tap.Time) || s.Detail != "" {
			t.Fatalf("status after tap %+v", s)
		}
	}
	// Back within the debounce time: the same presence for the loop.
	r.Present(card)
	for msg := within(t, logs, "log"); msg != "tag still present"; msg = within(t, logs, "log") {
	}
	r.Remove()
	advance(5 * time.Second)
	yank := &yanker{APDUHandler: card, r: r, n: 5}
	r.Present(yank)
	s := waitState(t, statuses, tagd.ReaderTag)
	if s = within(t, statuses, "read failure"); s.State != tagd.ReaderTag || !strings.Contains(s.Detail, "card left during the exchange") {
		t.Fatalf("status %+v", s)
	}
	if s = waitState(t, statuses, tagd.ReaderReady); !strings.Contains(s.Detail, "tag not read") {
		t.Fatalf("status %+v", s)
	}
	select {
	case tap := <-taps:
		t.Fatalf("tap %+v from a debounced or yanked card", tap)
	default:
	}
	if card.Counter() != 14 {
		t.Errorf("counter %d: the debounced presence must not be read, the yanked one once", card.Counter())
	}
	if st := l.Status(); st.State != tagd.ReaderReady || st.Reader != "sim" {
		t.Errorf("Status() %+v", st)
	}
	cancel()
	if err := within(t, done, "Run"); err != nil {
		t.Errorf("Run: %v", err)
	}
}

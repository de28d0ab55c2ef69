package pn532_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd/device"
	"github.com/tagd-nfc/tagd/device/pn532"
	"github.com/tagd-nfc/tagd/device/sim"
)

// pipeEnd is one end of a duplex line made of two os.Pipes (buffered by
// the kernel, with read deadlines): a pn532.Port.
type pipeEnd struct{ r, w *os.File }

func (p pipeEnd) Read(b []byte) (int, error)        { return p.r.Read(b) }
func (p pipeEnd) Write(b []byte) (int, error)       { return p.w.Write(b) }
func (p pipeEnd) SetReadDeadline(t time.Time) error { return p.r.SetReadDeadline(t) }
func (p pipeEnd) Close() error {
	p.r.Close()
	return p.w.Close()
}

// pipeLine returns the two ends of a fresh line.
func pipeLine(t *testing.T) (host, far pipeEnd) {
	t.Helper()
	r1, w1, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r2, w2, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	return pipeEnd{r: r1, w: w2}, pipeEnd{r: r2, w: w1}
}

// testTiming keeps the timeouts short; the ACK wait stays generous for
// a loaded 2-core box running -race.
var testTiming = pn532.Timing{ACK: 200 * time.Millisecond, Response: 300 * time.Millisecond, Poll: time.Second}

// serveSim runs s on far until the test ends; the returned channel gets
// Serve's error.
func serveSim(t *testing.T, s *sim.PN532, far pipeEnd) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, far) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return done
}

// demoCard returns a virtual NTAG 424 DNA with factory keys.
func demoCard(t *testing.T) *sim.NTAG424 {
	t.Helper()
	c, err := sim.NewDemoCard("04A1B2C3D4E501", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// linkWithSim returns a Link to a running simulator.
func linkWithSim(t *testing.T) (*pn532.Link, *sim.PN532) {
	t.Helper()
	host, far := pipeLine(t)
	t.Cleanup(func() { host.Close() })
	s := sim.NewPN532()
	serveSim(t, s, far)
	return pn532.NewLink(host, testTiming), s
}

var selectNDEF = []byte{0x00, 0xA4, 0x04, 0x00, 0x07, 0xD2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01, 0x00}

func TestPN532LinkCommands(t *testing.T) {
	ctx := context.Background()
	l, s := linkWithSim(t)
	if err := l.Wakeup(ctx); err != nil {
		t.Fatal(err)
	}
	fw, err := l.GetFirmwareVersion(ctx)
	if err != nil || fw != (pn532.Firmware{IC: 0x32, Version: 1, Revision: 6, Support: 7}) {
		t.Fatalf("%v %v", fw, err)
	}
	if fw.String() != "PN532 v1.6 (support 07)" {
		t.Fatal(fw.String())
	}
	if err := l.SetMaxRetries(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if tg, err := l.InListPassiveTarget(ctx); tg != nil || err != nil {
		t.Fatalf("empty field: %v %v", tg, err)
	}
	if _, err := l.InDataExchange(ctx, 1, selectNDEF); !errors.Is(err, pn532.StatusNotAcceptable) {
		t.Fatalf("exchange without a target: %v", err)
	}
	card := demoCard(t)
	s.Present(card)
	tg, err := l.InListPassiveTarget(ctx)
	if err != nil || tg == nil {
		t.Fatalf("%v %v", tg, err)
	}
	if typ, _ := tg.Type(); typ != device.Type4 || string(tg.NFCID) != string(card.UID()) || len(tg.ATS) != 6 {
		t.Fatalf("target %v", tg)
	}
	rsp, err := l.InDataExchange(ctx, tg.Tg, selectNDEF)
	if err != nil || len(rsp) != 2 || rsp[0] != 0x90 {
		t.Fatalf("SELECT: % X %v", rsp, err)
	}
	if ok, err := l.PresenceCheck(ctx); !ok || err != nil {
		t.Fatalf("presence %v %v", ok, err)
	}
	s.Remove()
	if ok, err := l.PresenceCheck(ctx); ok || err != nil {
		t.Fatalf("presence after removal %v %v", ok, err)
	}
	_, err = l.InDataExchange(ctx, tg.Tg, selectNDEF)
	if !errors.Is(err, pn532.StatusTimeout) || !errors.Is(err, device.ErrCardLeft) {
		t.Fatalf("exchange after removal: %v", err)
	}
	if err := l.InRelease(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Exchange(ctx, []byte{0x7E}, 0); !errors.Is(err, pn532.ErrSyntax) {
		t.Fatalf("unknown command: %v", err)
	}
}

// TestPN532LinkFaults: NACKs, damaged responses, silence and stalls.
func TestPN532LinkFaults(t *testing.T) {
	ctx := context.Background()
	l, s := linkWithSim(t)
	if err := l.Wakeup(ctx); err != nil {
		t.Fatal(err)
	}

	s.NACKNext()
	if _, err := l.GetFirmwareVersion(ctx); err != nil {
		t.Fatalf("after a NACK: %v", err)
	}
	if st := s.Stats(); st.NACKsSent != 1 {
		t.Fatalf("%+v", st)
	}

	s.CorruptNext()
	if _, err := l.GetFirmwareVersion(ctx); err != nil {
		t.Fatalf("after a damaged response: %v", err)
	}
	if st := s.Stats(); st.Corrupted != 1 || st.NACKsReceived != 1 {
		t.Fatalf("%+v", st)
	}

	for range 4 {
		s.CorruptNext()
	}
	if _, err := l.GetFirmwareVersion(ctx); !errors.Is(err, pn532.ErrCorrupt) {
		t.Fatalf("four damaged responses: %v", err)
	}
	for range 4 {
		s.NACKNext()
	}
	if _, err := l.GetFirmwareVersion(ctx); !errors.Is(err, pn532.ErrNACK) {
		t.Fatalf("four NACKs: %v", err)
	}

	acks := s.Stats().ACKsReceived
	s.StallNext()
	start := time.Now()
	if _, err := l.GetFirmwareVersion(ctx); !errors.Is(err, pn532.ErrTimeout) || errors.Is(err, pn532.ErrNoACK) {
		t.Fatalf("stalled: %v", err)
	}
	if d := time.Since(start); d < testTiming.Response {
		t.Fatalf("timed out after %v", d)
	}
	s.IgnoreNext()
	if _, err := l.GetFirmwareVersion(ctx); !errors.Is(err, pn532.ErrNoACK) || !errors.Is(err, pn532.ErrTimeout) {
		t.Fatalf("ignored: %v", err)
	}
	if _, err := l.GetFirmwareVersion(ctx); err != nil {
		t.Fatalf("recovery: %v", err)
	}
	if got := s.Stats().ACKsReceived - acks; got != 2 {
		t.Fatalf("%d abort ACKs, want 2", got)
	}

	// A context that ends aborts the wait with an ACK.
	s.StallNext()
	cctx, cancel := context.WithTimeout(ctx, testTiming.Response/2)
	defer cancel()
	if _, err := l.GetFirmwareVersion(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("context ended: %v", err)
	}
	if _, err := l.GetFirmwareVersion(ctx); err != nil {
		t.Fatalf("after cancel: %v", err)
	}
}

// TestPN532LinkChaining: answers longer than the PN532 buffer come in
// pieces marked MI and are joined.
func TestPN532LinkChaining(t *testing.T) {
	ctx := context.Background()
	host, far := pipeLine(t)
	defer host.Close()
	s := sim.NewPN532()
	s.MaxExchange = 16
	serveSim(t, s, far)
	l := pn532.NewLink(host, testTiming)
	card := demoCard(t)
	s.Present(card)
	tg, err := l.InListPassiveTarget(ctx)
	if err != nil || tg == nil {
		t.Fatalf("%v %v", tg, err)
	}
	for _, apdu := range [][]byte{selectNDEF, {0x00, 0xA4, 0x00, 0x0C, 0x02, 0xE1, 0x04}, {0x00, 0xB0, 0x00, 0x00, 0x40}} {
		rsp, err := l.InDataExchange(ctx, tg.Tg, apdu)
		if err != nil {
			t.Fatal(err)
		}
		if len(rsp) < 2 || rsp[len(rsp)-2] != 0x90 {
			t.Fatalf("% X", rsp)
		}
		if apdu[1] == 0xB0 && len(rsp) != 0x42 {
			t.Fatalf("READ BINARY 64: %d bytes", len(rsp))
		}
	}
	if _, err := l.InDataExchange(ctx, tg.Tg, make([]byte, pn532.MaxExchangeData+1)); !errors.Is(err, pn532.ErrTooLong) {
		t.Fatal(err)
	}
}

// TestPN532LinkPortGone: a vanished line is ErrPort, not a timeout.
func TestPN532LinkPortGone(t *testing.T) {
	host, far := pipeLine(t)
	defer host.Close()
	far.Close()
	l := pn532.NewLink(host, testTiming)
	_, err := l.GetFirmwareVersion(context.Background())
	if !errors.Is(err, pn532.ErrPort) {
		t.Fatal(err)
	}
}

package pn532_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd/device"
	"github.com/tagd-nfc/tagd/device/pn532"
	"github.com/tagd-nfc/tagd/device/sim"
)

// simRig is a Device whose Open makes a new pipe line to a new Serve of
// one simulator (the reader plugged in again).
type simRig struct {
	t   *testing.T
	sim *sim.PN532
	dev *pn532.Device

	mu    sync.Mutex
	opens int
	far   pipeEnd // the simulator's end of the latest line
	fail  error   // Open fails with it when set
	sent  map[byte]int
	wake  chan struct{} // closed and replaced when a command is sent
}

// watchedPort is the host's end, telling the rig which commands it
// sends.
type watchedPort struct {
	pipeEnd
	r *simRig
}

func (p watchedPort) Write(b []byte) (int, error) {
	if f, _, err := pn532.DecodeFrame(b); err == nil && f.Kind == pn532.KindData && len(f.Data) > 0 {
		p.r.mu.Lock()
		p.r.sent[f.Data[0]]++
		close(p.r.wake)
		p.r.wake = make(chan struct{})
		p.r.mu.Unlock()
	}
	return p.pipeEnd.Write(b)
}

// waitSent blocks until the host has sent command code n times in all.
func (r *simRig) waitSent(ctx context.Context, code byte, n int) {
	r.t.Helper()
	for {
		r.mu.Lock()
		got, wake := r.sent[code], r.wake
		r.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-wake:
		case <-ctx.Done():
			r.t.Fatalf("command %02X sent %d times, want %d", code, got, n)
		}
	}
}

func (r *simRig) sentCount(code byte) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sent[code]
}

func newSimRig(t *testing.T) *simRig {
	r := &simRig{t: t, sim: sim.NewPN532(), sent: map[byte]int{}, wake: make(chan struct{})}
	r.dev = pn532.New(pn532.Config{
		Name:             "test PN532",
		Open:             r.open,
		Timing:           testTiming,
		PresenceInterval: time.Millisecond,
	})
	t.Cleanup(func() { r.dev.Close() })
	return r
}

func (r *simRig) open() (pn532.Port, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return nil, r.fail
	}
	r.opens++
	host, far := pipeLine(r.t)
	r.far = far
	serveSim(r.t, r.sim, far)
	return watchedPort{host, r}, nil
}

// unplug closes the simulator's end of the line.
func (r *simRig) unplug() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.far.Close()
}

func (r *simRig) openCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.opens
}

// tap presents card, reads its URL through the Device and releases it
// after removing it.
func (r *simRig) tap(ctx context.Context, card sim.APDUHandler) (string, error) {
	r.sim.Present(card)
	c, err := r.dev.NextCard(ctx)
	if err != nil {
		return "", err
	}
	url, err := device.ReadURI(ctx, c)
	r.sim.Remove()
	if rerr := r.dev.Release(ctx, c); rerr != nil && err == nil {
		err = rerr
	}
	return url, err
}

func TestPN532DeviceTaps(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := newSimRig(t)
	card := demoCard(t)
	var urls []string
	for range 3 {
		url, err := r.tap(ctx, card)
		if err != nil {
			t.Fatal(err)
		}
		urls = append(urls, url)
	}
	if !strings.HasPrefix(urls[0], "https://tagd.local/t?picc_data=") || urls[0] == urls[1] || urls[1] == urls[2] {
		t.Fatalf("URLs %q", urls)
	}
	if card.Counter() != 3 || r.openCount() != 1 {
		t.Fatalf("counter %d, opens %d", card.Counter(), r.openCount())
	}
	if fw := r.dev.Firmware(); fw.IC != 0x32 || r.dev.Name() != "test PN532" {
		t.Fatalf("%v %q", fw, r.dev.Name())
	}

	// A Type 2 tag.
	r.sim.PresentType2(type2Tag(t, "https://example.com/t2"))
	c, err := r.dev.NextCard(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Type() != device.Type2 || len(c.UID()) != 7 {
		t.Fatalf("type %d UID % X", c.Type(), c.UID())
	}
	if _, err := c.Transmit(ctx, selectNDEF); !errors.Is(err, device.ErrTagType) {
		t.Fatalf("Transmit to Type 2: %v", err)
	}
	url, err := device.ReadURI(ctx, c)
	if err != nil || url != "https://example.com/t2" {
		t.Fatalf("%q %v", url, err)
	}
	// Release waits while the tag stays: three presence checks (READ
	// through InDataExchange) go by before it is removed.
	released := make(chan error, 1)
	exchanges := r.sentCount(pn532.CmdInDataExchange)
	go func() { released <- r.dev.Release(ctx, c) }()
	r.waitSent(ctx, pn532.CmdInDataExchange, exchanges+3)
	select {
	case err := <-released:
		t.Fatalf("released with the tag in the field: %v", err)
	default:
	}
	r.sim.Remove()
	if err := <-released; err != nil {
		t.Fatal(err)
	}
	if pc, ok := c.(*pn532.Card); !ok || pc.Target().SELRES != 0 {
		t.Fatalf("%T", c)
	}
}

// type2Tag returns an NTAG213 image holding uri.
func type2Tag(t *testing.T, uri string) *sim.Type2Memory {
	t.Helper()
	code, rest := device.EncodeURI(uri)
	payload := append([]byte{code}, rest...)
	rec := append([]byte{0xD1, 0x01, byte(len(payload)), 'U'}, payload...)
	mem := make([]byte, 180)
	copy(mem, []byte{0x04, 0x11, 0x22, 0xBB, 0x33, 0x44, 0x55, 0x66})
	copy(mem[12:], []byte{0xE1, 0x10, 0x12, 0x00})
	tlv := append([]byte{0x03, byte(len(rec))}, rec...)
	copy(mem[16:], append(tlv, 0xFE))
	return &sim.Type2Memory{ID: []byte{0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66}, Mem: mem}
}

// TestPN532DeviceFaults: a stalled command is a timeout, after which the
// Device wakes the chip again; a damaged frame and a NACK cost nothing.
func TestPN532DeviceFaults(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := newSimRig(t)
	card := demoCard(t)
	if _, err := r.tap(ctx, card); err != nil {
		t.Fatal(err)
	}

	r.sim.CorruptNext()
	r.sim.NACKNext()
	if _, err := r.tap(ctx, card); err != nil {
		t.Fatalf("with a NACK and a damaged frame: %v", err)
	}
	if st := r.sim.Stats(); st.Corrupted != 1 || st.NACKsReceived != 1 || st.NACKsSent != 1 {
		t.Fatalf("%+v", st)
	}

	// A stall during a read: the read fails with a timeout, the card is
	// stale, and the next NextCard initialises the PN532 again.
	r.sim.Present(card)
	c, err := r.dev.NextCard(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.sim.StallNext()
	if _, err := device.ReadURI(ctx, c); !errors.Is(err, pn532.ErrTimeout) {
		t.Fatalf("stalled read: %v", err)
	}
	if _, err := c.Transmit(ctx, selectNDEF); !errors.Is(err, pn532.ErrStaleCard) {
		t.Fatalf("card after the timeout: %v", err)
	}
	if err := r.dev.Release(ctx, c); err != nil {
		t.Fatalf("release of a stale card: %v", err)
	}
	before := r.sim.Stats().Commands
	c, err = r.dev.NextCard(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// SAMConfiguration, GetFirmwareVersion, RFConfiguration, InListPassiveTarget.
	if n := r.sim.Stats().Commands - before; n != 4 {
		t.Fatalf("%d commands for a re-initialisation and a poll", n)
	}
	if _, err := device.ReadURI(ctx, c); err != nil {
		t.Fatal(err)
	}
	r.sim.Remove()
	if err := r.dev.Release(ctx, c); err != nil {
		t.Fatal(err)
	}
	if r.openCount() != 1 {
		t.Fatalf("%d opens", r.openCount())
	}
}

// TestPN532DeviceReopen: the line vanishing is "reader absent"; the next
// NextCard opens it again.
func TestPN532DeviceReopen(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := newSimRig(t)
	card := demoCard(t)
	if _, err := r.tap(ctx, card); err != nil {
		t.Fatal(err)
	}
	r.unplug()
	r.mu.Lock()
	r.fail = errors.New("no such device")
	r.mu.Unlock()
	if _, err := r.dev.NextCard(ctx); !errors.Is(err, device.ErrReaderAbsent) || !errors.Is(err, pn532.ErrPort) {
		t.Fatalf("unplugged: %v", err)
	}
	if _, err := r.dev.NextCard(ctx); !errors.Is(err, device.ErrReaderAbsent) {
		t.Fatalf("open failing: %v", err)
	}
	r.mu.Lock()
	r.fail = nil
	r.mu.Unlock()
	if _, err := r.tap(ctx, card); err != nil {
		t.Fatal(err)
	}
	if r.openCount() != 2 || card.Counter() != 2 {
		t.Fatalf("opens %d counter %d", r.openCount(), card.Counter())
	}
}

// TestPN532DeviceClose: Close ends a NextCard waiting for a tag.
func TestPN532DeviceClose(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := newSimRig(t)
	r.sim.PollWindow = time.Hour
	done := make(chan error, 1)
	go func() {
		_, err := r.dev.NextCard(context.Background())
		done <- err
	}()
	// Wait until polling is under way.
	r.waitSent(ctx, pn532.CmdInListPassiveTarget, 1)
	r.dev.Close()
	if err := <-done; !errors.Is(err, pn532.ErrClosed) {
		t.Fatalf("NextCard after Close: %v", err)
	}
	if _, err := r.dev.NextCard(context.Background()); !errors.Is(err, pn532.ErrClosed) {
		t.Fatal(err)
	}
}

// TestPN532DeviceCancel: a NextCard whose context ends returns its
// error, and the Device carries on.
func TestPN532DeviceCancel(t *testing.T) {
	r := newSimRig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := r.dev.NextCard(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if _, err := r.tap(ctx2, demoCard(t)); err != nil {
		t.Fatal(err)
	}
}

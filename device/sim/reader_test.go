package sim

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd/device"
	"github.com/tagd-nfc/tagd/sun"
)

// within fails the test when ch yields nothing in time (a deadline, not
// a synchronisation sleep).
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

// nextCard runs NextCard in a goroutine.
func nextCard(ctx context.Context, r *Reader) <-chan any {
	ch := make(chan any, 1)
	go func() {
		c, err := r.NextCard(ctx)
		if err != nil {
			ch <- err
			return
		}
		ch <- c
	}()
	return ch
}

func TestReader(t *testing.T) {
	ctx := context.Background()
	r := NewReader("sim")
	if r.Name() != "sim" {
		t.Errorf("name %q", r.Name())
	}
	card := newCard(t, sun.ModeAES, "https://a.example/?picc_data={picc}&cmac={mac}", "", 0)
	got := nextCard(ctx, r)
	select {
	case v := <-got:
		t.Fatalf("NextCard returned %v with an empty field", v)
	default:
	}
	r.Present(card)
	c, ok := within(t, got, "NextCard").(device.Card)
	if !ok {
		t.Fatal("NextCard failed")
	}
	if c.Type() != device.Type4 || string(c.UID()) != string(testUID) {
		t.Errorf("card %v % X", c.Type(), c.UID())
	}
	u, err := device.ReadURI(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	verify(t, u, sun.MACInput{})
	if _, err := c.ReadPage(ctx, 4); !errors.Is(err, device.ErrTagType) {
		t.Errorf("ReadPage: %v", err)
	}

	// The card stays: NextCard does not return it again, Release waits.
	again := nextCard(ctx, r)
	released := make(chan error, 1)
	go func() { released <- r.Release(ctx, c) }()
	select {
	case v := <-again:
		t.Fatalf("NextCard returned %v for a held card", v)
	case err := <-released:
		t.Fatalf("Release returned %v with the card in the field", err)
	default:
	}
	r.Remove()
	if err := within(t, released, "Release"); err != nil {
		t.Errorf("Release: %v", err)
	}
	if _, err := c.Transmit(ctx, []byte{0x00, 0xA4, 0x04, 0x00}); !errors.Is(err, ErrRemoved) || !errors.Is(err, device.ErrCardLeft) {
		t.Errorf("Transmit after removal: %v", err)
	}
	// A new presence of the same card is a new tap with a new counter.
	r.Present(card)
	c2 := within(t, again, "NextCard").(device.Card)
	u2, err := device.ReadURI(ctx, c2)
	if err != nil {
		t.Fatal(err)
	}
	if res := verify(t, u2, sun.MACInput{}); res.Counter != 2 {
		t.Errorf("second tap counter %d", res.Counter)
	}
	// Presenting another card replaces the first.
	other, _ := NewDemoCard("04A1B2C3D4E502", "", 0)
	r.Present(other)
	if err := r.Release(ctx, c2); err != nil {
		t.Errorf("Release after replacement: %v", err)
	}
	c3 := within(t, nextCard(ctx, r), "NextCard").(device.Card)
	if string(c3.UID()) != string(other.UID()) {
		t.Errorf("replacement UID % X", c3.UID())
	}

	if err := r.Release(ctx, NewCard(card)); err == nil {
		t.Errorf("Release of a foreign card")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := r.Release(cctx, c3); !errors.Is(err, context.Canceled) {
		t.Errorf("Release with a cancelled context: %v", err)
	}
	if _, err := r.NextCard(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("NextCard with a cancelled context: %v", err)
	}

	// Close wakes NextCard and Release.
	blocked := nextCard(ctx, r)
	rel := make(chan error, 1)
	go func() { rel <- r.Release(ctx, c3) }()
	r.Close()
	if err, _ := within(t, blocked, "NextCard").(error); !errors.Is(err, ErrClosed) {
		t.Errorf("NextCard after Close: %v", err)
	}
	if err := within(t, rel, "Release"); err != nil && !errors.Is(err, ErrClosed) {
		t.Errorf("Release after Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestNewCard(t *testing.T) {
	card := newCard(t, sun.ModeLRP, "https://a.example/?picc_data={picc}&cmac={mac}", "", 7)
	u, err := device.ReadURI(context.Background(), NewCard(card))
	if err != nil {
		t.Fatal(err)
	}
	if r := verify(t, u, sun.MACInput{}); r.Counter != 8 || r.Mode != sun.ModeLRP {
		t.Errorf("%+v", r)
	}
}

// fakeTimer hands each wait of DemoTaps to the test, which fires it.
type fakeTimer struct {
	waits chan wait
}

type wait struct {
	d    time.Duration
	fire chan time.Time
}

func (f *fakeTimer) after(d time.Duration) <-chan time.Time {
	w := wait{d, make(chan time.Time, 1)}
	f.waits <- w
	return w.fire
}

func TestDemoTaps(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := NewReader("demo")
	var cards []APDUHandler
	for _, uid := range []string{"04A1B2C3D4E501", "04A1B2C3D4E502"} {
		c, err := NewDemoCard(uid, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		cards = append(cards, c)
	}
	ft := &fakeTimer{waits: make(chan wait)}
	done := make(chan error, 1)
	go func() { done <- DemoTaps(ctx, r, cards, 4*time.Second, ft.after) }()

	zero := make([]byte, 16)
	p, _ := sun.NewProfile(sun.ProfileConfig{Mode: sun.ModeAES, MetaKey: zero, FileKey: zero, TamperOffset: -1})
	for i := 0; i < 5; i++ {
		w := within(t, ft.waits, "gap")
		if w.d != 3*time.Second {
			t.Fatalf("gap %v", w.d)
		}
		w.fire <- time.Time{}
		c := within(t, nextCard(ctx, r), "NextCard").(device.Card)
		if want := cards[i%2].UID(); string(c.UID()) != string(want) {
			t.Fatalf("tap %d: UID % X, want % X", i, c.UID(), want)
		}
		u, err := device.ReadURI(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		pu, _ := sun.ParseURL(u, sun.DefaultParamNames())
		m, _ := pu.Message(sun.MACInput{})
		res, err := p.Verify(m)
		if err != nil || res.Counter != uint32(i/2+1) {
			t.Fatalf("tap %d: %+v %v", i, res, err)
		}
		w = within(t, ft.waits, "hold")
		if w.d != time.Second {
			t.Fatalf("hold %v", w.d)
		}
		w.fire <- time.Time{}
		if err := r.Release(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	within(t, ft.waits, "gap")
	cancel()
	if err := within(t, done, "DemoTaps"); err != nil {
		t.Errorf("DemoTaps: %v", err)
	}
	if err := DemoTaps(ctx, r, nil, time.Second, nil); err == nil {
		t.Errorf("no cards accepted")
	}
	if err := DemoTaps(ctx, r, cards, 0, nil); err == nil {
		t.Errorf("zero period accepted")
	}
	if _, err := NewDemoCard("04XY", "", 0); err == nil {
		t.Errorf("bad UID accepted")
	}
}

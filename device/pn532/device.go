package pn532

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tagd-nfc/tagd/device"
)

// Config sets up a Device. Open is required; zero fields take defaults.
type Config struct {
	// Name names the reader in logs and scans. Default "PN532".
	Name string
	// Open opens the serial line, e.g.
	// func() (pn532.Port, error) { return serial.Open("/dev/serial0", 115200) }.
	// NextCard calls it whenever the Device has no open port.
	Open func() (Port, error)
	// Timing holds the frame protocol's timeouts.
	Timing Timing
	// MaxRetries is MxRtyPassiveActivation: how often one
	// InListPassiveTarget tries to find a tag before it answers "none".
	// It must not be FF (forever). Default 0x10.
	MaxRetries byte
	// PollInterval is the pause after a poll that found no tag.
	// Default 0 (the PN532's retries pace the polling).
	PollInterval time.Duration
	// PresenceInterval is the pause between two presence checks while
	// Release waits for the tag to leave. Default 100 ms.
	PresenceInterval time.Duration
	// After is the clock for those pauses. Default time.After.
	After func(time.Duration) <-chan time.Time
}

// Device is a PN532 on a serial line as a device.Driver. It opens the
// port on the first NextCard, wakes the chip (wake-up bytes and
// SAMConfiguration), checks its firmware and sets MaxRetries, then polls
// InListPassiveTarget until a tag answers. After a timeout it wakes and
// configures the chip again on the next call; after a port failure
// (ErrPort: a vanished peer, an I/O error) it closes the port and opens
// it again through Config.Open on the next call, so the reader loop's
// back-off and retry is all the recovery needed.
type Device struct {
	cfg      Config
	closed   context.Context
	setClose context.CancelFunc

	op sync.Mutex // serialises the operations; held across I/O

	mu       sync.Mutex // guards the fields below; never held across I/O
	link     *Link
	gen      uint64 // bumped on every (re)open and re-initialisation
	ready    bool
	firmware Firmware
	skipUID  []byte // an unsupported tag still in the field, not reported again
}

// New returns a Device; it opens nothing until NextCard.
func New(cfg Config) *Device {
	if cfg.Name == "" {
		cfg.Name = "PN532"
	}
	if cfg.MaxRetries == 0 || cfg.MaxRetries == 0xFF {
		cfg.MaxRetries = 0x10
	}
	if cfg.PresenceInterval <= 0 {
		cfg.PresenceInterval = 100 * time.Millisecond
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	cfg.Timing = cfg.Timing.withDefaults()
	closed, setClose := context.WithCancel(context.Background())
	return &Device{cfg: cfg, closed: closed, setClose: setClose}
}

// Name returns Config.Name.
func (d *Device) Name() string { return d.cfg.Name }

// Firmware returns the firmware version read at the last initialisation.
func (d *Device) Firmware() Firmware {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.firmware
}

// NextCard polls until a Type 4 or Type 2 tag is in the field and
// returns it (a *Card). A tag of another kind (MIFARE Classic…) is
// reported once with an error wrapping device.ErrTagType and then ignored
// until it leaves.
func (d *Device) NextCard(ctx context.Context) (device.Card, error) {
	d.op.Lock()
	defer d.op.Unlock()
	ctx, cancel := d.opContext(ctx)
	defer cancel()
	for {
		l, gen, err := d.ensureLink(ctx)
		if err != nil {
			return nil, d.fail(l, err)
		}
		t, err := l.InListPassiveTarget(ctx)
		if err != nil {
			return nil, d.fail(l, err)
		}
		if t == nil {
			d.setSkip(nil)
			if err := d.pause(ctx, d.cfg.PollInterval); err != nil {
				return nil, d.fail(l, err)
			}
			continue
		}
		typ, ok := t.Type()
		if !ok {
			rerr := l.InRelease(ctx, t.Tg)
			if d.setSkip(t.NFCID) {
				if rerr != nil {
					return nil, d.fail(l, rerr)
				}
				if err := d.pause(ctx, d.cfg.PollInterval); err != nil {
					return nil, d.fail(l, err)
				}
				continue
			}
			return nil, fmt.Errorf("%w: %s", device.ErrTagType, t)
		}
		d.setSkip(nil)
		return &Card{dev: d, link: l, gen: gen, target: *t, typ: typ}, nil
	}
}

// Release waits until the tag has left the field, checking every
// PresenceInterval (Diagnose for a Type 4 tag, a READ of page 0 for a
// Type 2 tag), then releases the target with InRelease.
func (d *Device) Release(ctx context.Context, c device.Card) error {
	card, ok := c.(*Card)
	if !ok || card.dev != d {
		return fmt.Errorf("pn532: Release of a card from another driver (%T)", c)
	}
	for {
		present, err := card.present(ctx)
		if errors.Is(err, ErrStaleCard) {
			return nil // the connection was reset: nothing is held
		}
		if err != nil {
			return err
		}
		if !present {
			break
		}
		if err := d.pause(ctx, d.cfg.PresenceInterval); err != nil {
			return err
		}
	}
	return card.do(ctx, func(ctx context.Context, l *Link) error {
		return l.InRelease(ctx, card.target.Tg)
	})
}

// Close closes the port. A blocked NextCard returns ErrClosed, and so
// does every later call.
func (d *Device) Close() error {
	d.setClose()
	d.mu.Lock()
	l := d.link
	d.link, d.ready = nil, false
	d.gen++
	d.mu.Unlock()
	if l != nil {
		return l.port.Close()
	}
	return nil
}

// opContext returns a context that is also cancelled by Close.
func (d *Device) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(d.closed, cancel)
	return ctx, func() { stop(); cancel() }
}

// ensureLink opens the port if needed and initialises the PN532 if it
// has not been since the last open or failure.
func (d *Device) ensureLink(ctx context.Context) (*Link, uint64, error) {
	if d.closed.Err() != nil {
		return nil, 0, ErrClosed
	}
	d.mu.Lock()
	l, gen, ready := d.link, d.gen, d.ready
	d.mu.Unlock()
	if l == nil {
		p, err := d.cfg.Open()
		if err != nil {
			return nil, 0, fmt.Errorf("%w: open: %w", device.ErrReaderAbsent, err)
		}
		l = NewLink(p, d.cfg.Timing)
		d.mu.Lock()
		if d.closed.Err() != nil {
			d.mu.Unlock()
			p.Close()
			return nil, 0, ErrClosed
		}
		d.link, d.ready = l, false
		d.gen++
		gen, ready = d.gen, false
		d.mu.Unlock()
	}
	if ready {
		return l, gen, nil
	}
	if err := l.Wakeup(ctx); err != nil {
		return l, 0, fmt.Errorf("wake-up: %w", err)
	}
	fw, err := l.GetFirmwareVersion(ctx)
	if err != nil {
		return l, 0, fmt.Errorf("firmware version: %w", err)
	}
	if err := l.SetMaxRetries(ctx, d.cfg.MaxRetries); err != nil {
		return l, 0, fmt.Errorf("max retries: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.link != l {
		return nil, 0, ErrClosed
	}
	d.ready, d.firmware = true, fw
	d.gen++
	return l, d.gen, nil
}

// fail records what err says about the link and returns the error to
// report: after Close, ErrClosed; after a port failure, the port is
// closed (reopened on the next NextCard) and the error wraps
// device.ErrReaderAbsent; after a timeout or protocol error, the PN532
// is initialised again on the next NextCard. Tag-level errors (Status)
// leave the link as it is.
func (d *Device) fail(l *Link, err error) error {
	if errors.Is(err, ErrClosed) {
		return err
	}
	if d.closed.Err() != nil {
		return fmt.Errorf("%w (%w)", ErrClosed, err)
	}
	var st Status
	if l == nil || errors.As(err, &st) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	d.mu.Lock()
	same := d.link == l
	if same {
		d.ready = false
		d.gen++
	}
	dead := same && errors.Is(err, ErrPort)
	if dead {
		d.link = nil
	}
	d.mu.Unlock()
	if dead {
		l.port.Close()
		return fmt.Errorf("%w: %w", device.ErrReaderAbsent, err)
	}
	return err
}

// setSkip records the UID of an unsupported tag in the field (nil: none)
// and reports whether it was already recorded.
func (d *Device) setSkip(uid []byte) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	seen := uid != nil && string(uid) == string(d.skipUID)
	d.skipUID = uid
	return seen
}

// pause waits for dur on the configured clock, or until ctx is done.
func (d *Device) pause(ctx context.Context, dur time.Duration) error {
	if dur <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-d.cfg.After(dur):
		return nil
	}
}

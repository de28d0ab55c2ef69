// Package pcsc is the PC/SC reader driver: a device.Driver on pcsc-lite
// through github.com/ebfe/scard (cgo: libpcsclite-dev to build, pcscd to
// run). It waits for tags with SCardGetStatusChange (no polling of its
// own), follows reader hotplug with the PnP pseudo-reader, and survives
// pcscd being stopped, killed or restarted: a failed NextCard releases the
// PC/SC context and the next call establishes a new one.
//
// The event loop follows research/readers.md §1.5:
//
//   - the state list always holds the PnP entry `\\?PnP?\Notification`
//     (scard panics on an empty list) plus the one reader in use;
//   - EventState is copied whole into CurrentState, because its upper 16
//     bits are pcscd's per-reader event counter: a tag removed and put
//     back between two calls still reads as a change;
//   - the reader list is read again on a PnP change and on every timeout
//     (pcsc-lite 1.9.9 misses readers plugged between two calls);
//   - SCARD_E_UNKNOWN_READER / SCARD_E_READER_UNAVAILABLE mean the reader
//     was unplugged; SCARD_E_NO_SERVICE, SCARD_E_SERVICE_STOPPED,
//     SCARD_F_COMM_ERROR, SCARD_E_INVALID_HANDLE and
//     SCARD_W_SECURITY_VIOLATION (libpcsclite's word for a connection
//     reset, which a SIGKILLed pcscd causes as often as COMM_ERROR) mean
//     pcscd is gone;
//   - a mute tag (no ATR) is not a tap.
//
// Errors are *Error values that say what happened in plain words.
package pcsc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/ebfe/scard"
	"github.com/tagd-nfc/tagd/device"
)

// pnpReader is the PC/SC pseudo-reader whose state changes when a reader
// is plugged or unplugged.
const pnpReader = `\\?PnP?\Notification`

// pollTimeout bounds one SCardGetStatusChange. On each timeout the reader
// list is read again, which catches readers that pcsc-lite 1.9.9's PnP
// notification missed.
const pollTimeout = time.Second

// cancelRetry is how often a cancel is repeated until the wait it ends
// has returned.
const cancelRetry = 10 * time.Millisecond

// Options configure a Reader. The zero value uses the first
// contactless-looking reader, discards logs and uses time.Now.
type Options struct {
	// Name picks the reader whose name contains it (case-insensitive),
	// e.g. "PICC", "ACR122" or "Virtual PCD 00 00". When empty, the first
	// reader whose name looks contactless ("PICC", "Contactless", "CL",
	// "NFC", "PCD", "RFID"; not "SAM") is used, else the first reader.
	Name string
	// Logger receives the driver's log lines (discarded when nil).
	Logger *slog.Logger
	// Now is the clock (time.Now when nil); Card.Seen uses it.
	Now func() time.Time
}

// Reader is a PC/SC reader. It implements device.Driver.
//
// A Reader is not for concurrent use: call NextCard, Release and the
// Card's methods from one goroutine at a time (all the PC/SC calls of a
// context then happen in sequence, which pcsc-lite and scard require).
// Close, Name and ReaderName may be called from any goroutine; Close makes
// a blocked NextCard or Release return ErrClosed.
type Reader struct {
	opts Options
	log  *slog.Logger
	now  func() time.Time

	mu     sync.Mutex
	sc     *scard.Context // nil until established, and after pcscd went away
	closed bool
	busy   bool   // a method is using sc; it releases sc if Close came meanwhile
	reader string // the PC/SC reader in use, "" when none

	// Used only inside NextCard, Release and Transmit (busy).
	// states[0] is the PnP entry; states[1], when present, the reader.
	states []scard.ReaderState

	cancelWait func() // cancels the running SCardGetStatusChange, if any (under mu)
	waitHook   func() // tests: called before each SCardGetStatusChange
}

var _ device.Driver = (*Reader)(nil)

// errBusy: a second method call while one is running.
var errBusy = errors.New("pcsc: reader used from two goroutines at once")

// Open returns a Reader. It does not contact pcscd: the first NextCard
// does, so that tagd starts even while pcscd or the reader is missing
// (the device loop then reports the reader absent and retries).
func Open(opts Options) (*Reader, error) {
	if strings.ContainsRune(opts.Name, 0) {
		return nil, fmt.Errorf("pcsc: reader name %q holds a NUL byte", opts.Name)
	}
	r := &Reader{opts: opts, log: opts.Logger, now: opts.Now}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.log = r.log.With("driver", r.Name())
	return r, nil
}

// Name returns "pcsc", or "pcsc:NAME" when Options.Name is set. It does
// not change when the PC/SC reader is re-plugged (see ReaderName).
func (r *Reader) Name() string {
	if r.opts.Name == "" {
		return "pcsc"
	}
	return "pcsc:" + r.opts.Name
}

// ReaderName returns the PC/SC name of the reader in use, e.g. "ACS
// ACR1252 Dual Reader [ACR1252 Dual Reader PICC] 00 00", or "" before one
// was found.
func (r *Reader) ReaderName() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reader
}

// Close releases the PC/SC context. A blocked NextCard or Release returns
// ErrClosed at once (SCardCancel); a running Transmit finishes first.
// Close waits for neither.
func (r *Reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	if r.cancelWait != nil {
		go r.cancelWait()
	}
	if r.sc == nil {
		return nil
	}
	if !r.busy {
		// Otherwise the busy method releases it on its way out, so that
		// no call uses a released context.
		_ = r.sc.Release()
		r.sc = nil
	}
	return nil
}

// NextCard waits until a tag enters the field of the reader, connects to
// it exclusively and returns it as a *Card. It returns an error when the
// context ends, after Close (ErrClosed), when there is no reader (an error
// that wraps device.ErrReaderAbsent), or when pcscd is gone: then the
// PC/SC context is released and the next call establishes a new one.
func (r *Reader) NextCard(ctx context.Context) (device.Card, error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	defer r.leave()
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sc, err := r.context()
		if err != nil {
			return nil, err
		}
		if len(r.states) < 2 {
			if err := r.relist(sc); err != nil {
				return nil, r.failed(sc, err)
			}
		}
		err = r.waitChange(ctx, sc)
		switch {
		case err == nil:
		case errors.Is(err, scard.ErrTimeout):
			if err := r.relist(sc); err != nil {
				return nil, r.failed(sc, err)
			}
			continue
		case errors.Is(err, scard.ErrCancelled):
			if r.isClosed() {
				return nil, ErrClosed
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			continue
		case readerLost(err):
			r.states = r.states[:1] // read the list again
			continue
		default:
			// pcscd gone, or something unexpected: start afresh.
			r.drop(sc)
			return nil, scardError("wait for a tag", err)
		}
		relist := false
		if pnp := &r.states[0]; pnp.EventState&scard.StateChanged != 0 {
			pnp.CurrentState = pnp.EventState
			relist = true
		}
		if st := &r.states[1]; st.EventState&scard.StateChanged != 0 {
			prev := st.CurrentState
			st.CurrentState = st.EventState
			switch {
			case st.EventState&scard.StateUnknown != 0:
				relist = true // the reader is gone
			case isTap(prev, st.EventState):
				c, err := r.connect(sc, st)
				if err != nil {
					return nil, r.failed(sc, err)
				}
				if c != nil {
					return c, nil
				}
			}
		}
		if relist || len(r.states) < 2 {
			if err := r.relist(sc); err != nil {
				return nil, r.failed(sc, err)
			}
		}
	}
}

// Release ends a tap: it disconnects from the tag (leaving it as it is)
// and waits until the reader reports it gone, so that a tag left on the
// reader is read once. It also returns when the reader or pcscd went away
// (nil, and the next NextCard reports it) or when ctx ends (ctx.Err()). A
// tag taken away and put back while Release waits is read by the next
// NextCard.
func (r *Reader) Release(ctx context.Context, dc device.Card) error {
	c, ok := dc.(*Card)
	if !ok || c.r != r {
		return fmt.Errorf("pcsc: Release of a %T that this reader did not return", dc)
	}
	if err := r.enter(); err != nil {
		return err
	}
	defer r.leave()
	if c.released {
		return nil
	}
	c.released = true
	if err := c.h.Disconnect(scard.LeaveCard); err != nil && serviceLost(err) {
		r.drop(c.sc)
		return scardError("disconnect", err)
	}
	r.mu.Lock()
	sc := r.sc
	r.mu.Unlock()
	if sc != c.sc || len(r.states) < 2 || r.states[1].Reader != c.reader {
		return nil // a new context or another reader: this tag is history
	}
	for {
		if r.isClosed() {
			return ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		err := r.waitChange(ctx, sc)
		switch {
		case err == nil:
		case errors.Is(err, scard.ErrTimeout):
			continue
		case errors.Is(err, scard.ErrCancelled):
			if r.isClosed() {
				return ErrClosed
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			continue
		case readerLost(err):
			r.states = r.states[:1]
			return nil
		default:
			r.drop(sc)
			return scardError("wait for the tag to leave", err)
		}
		if pnp := &r.states[0]; pnp.EventState&scard.StateChanged != 0 {
			pnp.CurrentState = pnp.EventState // the reader's own entry tells if it left
		}
		st := &r.states[1]
		if st.EventState&scard.StateChanged == 0 {
			continue
		}
		now := st.EventState
		st.CurrentState = now
		if now&scard.StatePresent == 0 || now&(scard.StateUnknown|scard.StateUnavailable) != 0 {
			return nil
		}
		if uint32(now)>>16 != c.counter {
			// Removed and put back between two calls: forget the
			// presence so that NextCard reads the tag again.
			st.CurrentState = scard.StateUnaware
			return nil
		}
	}
}

// enter marks the start of a method that uses the context.
func (r *Reader) enter() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if r.busy {
		return errBusy
	}
	r.busy = true
	return nil
}

// leave marks its end, and releases the context if Close came meanwhile.
func (r *Reader) leave() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.busy = false
	if r.closed && r.sc != nil {
		_ = r.sc.Release()
		r.sc = nil
	}
}

func (r *Reader) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// context returns the PC/SC context, establishing one if needed, or
// ErrClosed after Close.
func (r *Reader) context() (*scard.Context, error) {
	r.mu.Lock()
	sc, closed := r.sc, r.closed
	r.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if sc != nil {
		return sc, nil
	}
	sc, err := scard.EstablishContext()
	if err != nil {
		return nil, scardError("connect to pcscd", err)
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		_ = sc.Release()
		return nil, ErrClosed
	}
	r.sc = sc
	r.mu.Unlock()
	r.states = nil
	r.log.Info("connected to pcscd")
	return sc, nil
}

// failed drops the context when err says that pcscd is gone, and returns
// err.
func (r *Reader) failed(sc *scard.Context, err error) error {
	if serviceLost(err) {
		r.drop(sc)
	}
	return err
}

// drop releases sc, if it is still the Reader's context, so that the next
// call establishes a new one (pcscd's event counters restart then too).
func (r *Reader) drop(sc *scard.Context) {
	r.mu.Lock()
	if r.sc != sc || sc == nil {
		r.mu.Unlock()
		return
	}
	r.sc = nil
	r.reader = ""
	r.mu.Unlock()
	_ = sc.Release() // fails when pcscd is dead; the library frees it anyway
	r.states = nil
	r.log.Warn("disconnected from pcscd")
}

// waitChange runs one SCardGetStatusChange on r.states. When ctx ends or
// Close is called meanwhile, SCardCancel (the one PC/SC call meant for
// another goroutine) ends it. libpcsclite ignores SCardCancel until the
// wait is registered with pcscd, so the cancel is repeated every
// cancelRetry until the call has returned; a cancel that lands in the
// next call makes it return SCARD_E_CANCELLED, which the callers retry.
func (r *Reader) waitChange(ctx context.Context, sc *scard.Context) error {
	done := make(chan struct{})
	defer close(done)
	cancel := func() {
		t := time.NewTicker(cancelRetry)
		defer t.Stop()
		for {
			_ = sc.Cancel()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return scard.ErrCancelled
	}
	r.cancelWait = cancel
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.cancelWait = nil
		r.mu.Unlock()
	}()
	if r.waitHook != nil {
		r.waitHook()
	}
	return sc.GetStatusChange(r.states, pollTimeout)
}

// relist reads the reader list and picks the reader to watch, keeping the
// state of the one it already watched. With no reader it returns an error
// that wraps device.ErrReaderAbsent.
func (r *Reader) relist(sc *scard.Context) error {
	names, err := sc.ListReaders()
	if err != nil && !errors.Is(err, scard.ErrNoReadersAvailable) {
		return scardError("list readers", err)
	}
	name := chooseReader(names, r.opts.Name)
	if len(r.states) == 0 {
		r.states = []scard.ReaderState{{Reader: pnpReader, CurrentState: scard.StateUnaware}}
	}
	old := ""
	if len(r.states) > 1 {
		old = r.states[1].Reader
	}
	if name != old {
		r.states = r.states[:1]
		if name != "" {
			r.states = append(r.states, scard.ReaderState{Reader: name, CurrentState: scard.StateUnaware})
			r.log.Info("reader in use", "name", name, "readers", names)
		} else if old != "" {
			r.log.Warn("reader gone", "name", old, "readers", names)
		}
		r.mu.Lock()
		r.reader = name
		r.mu.Unlock()
	}
	if name != "" {
		return nil
	}
	if len(names) == 0 {
		return &Error{Op: "list readers", Code: uint32(scard.ErrNoReadersAvailable),
			Text: "no reader is connected", kind: device.ErrReaderAbsent}
	}
	return &Error{Op: "list readers", kind: device.ErrReaderAbsent,
		Text: fmt.Sprintf("no reader name contains %q (readers: %s)", r.opts.Name, strings.Join(names, "; "))}
}

// connect connects to the tag that just entered the field of st's reader.
// It returns nil, nil when the tag left before it could be read.
func (r *Reader) connect(sc *scard.Context, st *scard.ReaderState) (*Card, error) {
	seen := r.now()
	h, err := sc.Connect(st.Reader, scard.ShareExclusive, scard.ProtocolAny)
	switch {
	case err == nil:
	case cardLost(err):
		r.log.Debug("tag left before connect", "err", err)
		return nil, nil
	case readerLost(err):
		r.states = r.states[:1]
		return nil, nil
	default:
		// E.g. another program holds the reader: forget the presence so
		// that the next NextCard tries again while the tag is there.
		st.CurrentState = scard.StateUnaware
		return nil, scardError("connect", err)
	}
	c := &Card{r: r, sc: sc, h: h, reader: st.Reader, counter: uint32(st.EventState) >> 16, seen: seen}
	atr := st.Atr
	if s, err := h.Status(); err == nil && len(s.Atr) > 0 {
		atr = s.Atr
	}
	c.atr = append([]byte(nil), atr...)
	c.typ = tagType(c.atr)
	// The reader's GET DATA for the UID; readers that lack it (or vpcd
	// cards that ignore it) leave the UID unknown.
	rsp, err := c.transmit([]byte{0xFF, 0xCA, 0x00, 0x00, 0x00})
	switch {
	case err == nil:
		if n := len(rsp); n > 2 && rsp[n-2] == 0x90 && rsp[n-1] == 0x00 {
			c.uid = rsp[:n-2]
		}
	case errors.Is(err, device.ErrCardLeft):
		_ = h.Disconnect(scard.LeaveCard)
		r.log.Debug("tag left before it was read", "err", err)
		return nil, nil
	case serviceLost(err):
		return nil, err
	}
	r.log.Debug("tag", "atr", fmt.Sprintf("% X", c.atr), "uid", fmt.Sprintf("%X", c.uid), "type", c.typ)
	return c, nil
}

// isTap reports whether a reader's state change from prev to now is a tag
// entering the field: present, not mute, and either absent (or mute, or
// unknown) before, or removed and put back in between (pcscd's event
// counter moved).
func isTap(prev, now scard.StateFlag) bool {
	const notUsable = scard.StateMute | scard.StateUnknown | scard.StateUnavailable | scard.StateIgnore
	if now&scard.StatePresent == 0 || now&notUsable != 0 {
		return false
	}
	if prev == scard.StateUnaware || prev&scard.StatePresent == 0 || prev&notUsable != 0 {
		return true
	}
	return uint32(prev)>>16 != uint32(now)>>16
}

// chooseReader returns the reader to use: the first whose name contains
// want (case-insensitive); with want "", the first that looks contactless,
// else the first one. It returns "" when there is none.
func chooseReader(names []string, want string) string {
	if want != "" {
		want = strings.ToLower(want)
		for _, n := range names {
			if strings.Contains(strings.ToLower(n), want) {
				return n
			}
		}
		return ""
	}
	for _, n := range names {
		if contactless(n) {
			return n
		}
	}
	if len(names) > 0 {
		return names[0]
	}
	return ""
}

// contactless reports whether a reader name looks like a contactless
// (PICC) interface rather than a contact or SAM slot.
func contactless(name string) bool {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	yes := false
	for _, w := range words {
		switch w {
		case "sam":
			return false
		case "picc", "contactless", "cl", "nfc", "pcd", "rfid", "acr122", "acr122u":
			yes = true
		}
	}
	return yes
}

package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/tagd-nfc/tagd/device/pn532"
)

// ErrDisappeared is what PN532.Serve returns after Disappear.
var ErrDisappeared = errors.New("sim: PN532 disappeared")

// Type2Tag is an NFC Forum Type 2 tag (NTAG21x, Ultralight) that the
// PN532 simulator can hold instead of a Type 4 card.
type Type2Tag interface {
	// UID returns the 7-byte anticollision UID.
	UID() []byte
	// Read answers READ (30 page): 16 bytes from page on, or an error
	// (the tag NAKs).
	Read(page byte) ([]byte, error)
}

// Type2Memory is a Type 2 tag as a byte image: pages of 4 bytes from page
// 0 (UID, lock bytes, CC at page 3, user data from page 4).
type Type2Memory struct {
	ID  []byte // the 7-byte UID
	Mem []byte // the memory image from page 0
}

// UID returns ID.
func (m *Type2Memory) UID() []byte { return m.ID }

// Read returns the 16 bytes from page on; past the end it fails.
func (m *Type2Memory) Read(page byte) ([]byte, error) {
	off := int(page) * 4
	if off+16 > len(m.Mem) {
		return nil, fmt.Errorf("sim: READ %d beyond %d bytes", page, len(m.Mem))
	}
	return bytes.Clone(m.Mem[off : off+16]), nil
}

// PN532Stats counts what the simulator saw and did, for tests.
type PN532Stats struct {
	Commands      int // command frames processed (NACKed ones excluded)
	ACKsReceived  int // host ACKs (aborts)
	NACKsReceived int // host NACKs (resend requests), each answered
	NACKsSent     int // NACKs sent (faults, damaged host frames)
	Corrupted     int // responses sent with a bad DCS
	Stalled       int // commands ACKed and left unanswered
	Ignored       int // commands left without even an ACK
}

// Answers the simulated PN532 gives.
var (
	pn532Firmware = []byte{0x32, 0x01, 0x06, 0x07} // PN532 v1.6, supports 07
	// pn532Type4ATQA/ATS are an NTAG 424 DNA's (research/readers.md §2).
	pn532Type4ATQA = [2]byte{0x03, 0x44}
	pn532Type4ATS  = []byte{0x06, 0x77, 0x77, 0x71, 0x02, 0x80}
	pn532Type2ATQA = [2]byte{0x00, 0x44}
)

// PN532 simulates a PN532 at the far end of a serial line (the sim end of
// a socat pty pair, opened with device/serial): it decodes the host's
// frames (skipping wake-up bytes and garbage, NACKing damaged frames),
// answers ACK + response to Diagnose (00 06), GetFirmwareVersion (02),
// SAMConfiguration (14), RFConfiguration (32), InDataExchange (40),
// InListPassiveTarget (4A) and InRelease (52), resends its last response
// on a NACK and stops waiting on an ACK. Its field holds at most one tag,
// put there with Present or PresentType2 and taken away with Remove, so
// a test decides when a tap happens. Faults for tests: CorruptNext,
// NACKNext, StallNext, IgnoreNext and Disappear.
type PN532 struct {
	// PollWindow is how long InListPassiveTarget waits for a tag to enter
	// the field when MaxRetries is not FF (with FF it waits until a tag
	// comes or the host aborts). Default 20 ms. Set before Serve.
	PollWindow time.Duration
	// MaxExchange is the most data one InDataExchange answer carries;
	// longer answers are chained with the MI bit. Default 262.
	MaxExchange int

	mu         sync.Mutex // guards the fields below; handler calls happen under it
	card       APDUHandler
	t2         Type2Tag
	present    bool
	powered    bool
	activated  bool
	maxRetries byte
	pending    []byte // the rest of a chained (MI) InDataExchange answer
	last       []byte // the last response frame, for a NACK
	change     chan struct{}
	conn       io.Closer
	gone       bool
	stats      PN532Stats
	corrupt    int
	nack       int
	stall      int
	ignore     int
}

// NewPN532 returns a simulator with an empty field.
func NewPN532() *PN532 {
	return &PN532{change: make(chan struct{}), maxRetries: 0xFF}
}

// Present puts a Type 4 card (ISO 14443-4, SAK 20) in the field,
// replacing any tag there.
func (s *PN532) Present(card APDUHandler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removeLocked()
	s.card, s.present, s.activated = card, true, false
	s.notifyLocked()
}

// PresentType2 puts a Type 2 tag (SAK 00) in the field, replacing any tag
// there.
func (s *PN532) PresentType2(tag Type2Tag) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removeLocked()
	s.t2, s.present, s.activated = tag, true, false
	s.notifyLocked()
}

// Remove takes the tag out of the field (its power goes off).
func (s *PN532) Remove() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removeLocked()
	s.notifyLocked()
}

// CorruptNext sends the next response frame (a first answer or a resend
// after a NACK) with a bad DCS; the host's NACK gets a good copy unless
// CorruptNext was armed again.
func (s *PN532) CorruptNext() { s.fault(&s.corrupt) }

// NACKNext answers the next command frame with a NACK instead of an ACK,
// without running it; the host is expected to send it again.
func (s *PN532) NACKNext() { s.fault(&s.nack) }

// StallNext ACKs the next command but never answers it (the host times
// out and aborts with an ACK).
func (s *PN532) StallNext() { s.fault(&s.stall) }

// IgnoreNext neither ACKs nor answers the next command.
func (s *PN532) IgnoreNext() { s.fault(&s.ignore) }

// Disappear closes the line Serve is using, as if the reader were
// unplugged; Serve returns ErrDisappeared. Serve again on a newly opened
// line to bring it back.
func (s *PN532) Disappear() {
	s.mu.Lock()
	c := s.conn
	s.gone = c != nil
	s.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// Stats returns the counters so far.
func (s *PN532) Stats() PN532Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// fault arms one more of a fault.
func (s *PN532) fault(n *int) {
	s.mu.Lock()
	*n++
	s.mu.Unlock()
}

// take reports whether a fault is armed, disarming it.
func (s *PN532) take(n *int) bool {
	if *n > 0 {
		*n--
		return true
	}
	return false
}

// removeLocked empties the field. The target stays activated, as far as
// the host knows: exchanges with it time out.
func (s *PN532) removeLocked() {
	if s.powered && s.card != nil {
		s.card.Power(false)
	}
	s.card, s.t2 = nil, nil
	s.present, s.powered, s.pending = false, false, nil
}

// notifyLocked wakes a waiting InListPassiveTarget.
func (s *PN532) notifyLocked() {
	close(s.change)
	s.change = make(chan struct{})
}

// pn532Event is one decoded frame, or the decoder's error.
type pn532Event struct {
	f   pn532.Frame
	err error
}

// Serve answers the host on rw until ctx is done (ctx.Err()), the line
// fails (its error), or Disappear (ErrDisappeared). It closes rw when it
// returns. The simulator's state (retries, activation) starts afresh, as
// after a power-up; the tag in the field stays.
func (s *PN532) Serve(ctx context.Context, rw io.ReadWriteCloser) error {
	s.mu.Lock()
	s.conn, s.gone = rw, false
	s.maxRetries, s.activated, s.pending = 0xFF, false, nil
	if s.PollWindow <= 0 {
		s.PollWindow = 20 * time.Millisecond
	}
	if s.MaxExchange <= 0 {
		s.MaxExchange = pn532.MaxExchangeData
	}
	s.mu.Unlock()
	events := make(chan pn532Event)
	quit := make(chan struct{})
	defer func() {
		close(quit)
		rw.Close()
		s.mu.Lock()
		s.conn = nil
		s.mu.Unlock()
	}()
	go func() {
		dec := pn532.NewDecoder(rw)
		for {
			f, err := dec.ReadFrame()
			select {
			case events <- pn532Event{f, err}:
			case <-quit:
				return
			}
			if err != nil && !pn532FrameError(err) {
				return
			}
		}
	}()
	var next *pn532Event
	for {
		var ev pn532Event
		if next != nil {
			ev, next = *next, nil
		} else {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case ev = <-events:
			}
		}
		var err error
		next, err = s.handle(ctx, rw, ev, events)
		if err != nil {
			s.mu.Lock()
			gone := s.gone
			s.mu.Unlock()
			if gone {
				return ErrDisappeared
			}
			return err
		}
	}
}

// pn532FrameError reports whether err is a damaged frame (the decoder
// carries on after it).
func pn532FrameError(err error) bool {
	return errors.Is(err, pn532.ErrBadLCS) || errors.Is(err, pn532.ErrBadDCS) || errors.Is(err, pn532.ErrBadTFI) ||
		errors.Is(err, pn532.ErrBadLength) || errors.Is(err, pn532.ErrFrameTooLong)
}

// handle processes one event. It returns an event it read but did not
// consume (a new command that interrupted a wait), and an error when the
// line is gone.
func (s *PN532) handle(ctx context.Context, w io.Writer, ev pn532Event, events <-chan pn532Event) (*pn532Event, error) {
	if ev.err != nil {
		if !pn532FrameError(ev.err) {
			return nil, ev.err
		}
		s.count(func(st *PN532Stats) { st.NACKsSent++ })
		return nil, pn532Write(w, pn532.NACKFrame())
	}
	switch ev.f.Kind {
	case pn532.KindACK:
		s.count(func(st *PN532Stats) { st.ACKsReceived++ })
		return nil, nil
	case pn532.KindNACK:
		s.mu.Lock()
		s.stats.NACKsReceived++
		last := s.damageLocked(s.last)
		s.mu.Unlock()
		if last == nil {
			return nil, nil
		}
		return nil, pn532Write(w, last)
	case pn532.KindError:
		return nil, nil
	}
	if ev.f.TFI != pn532.TFIHost || len(ev.f.Data) == 0 {
		return nil, nil
	}
	s.mu.Lock()
	switch {
	case s.take(&s.ignore):
		s.stats.Ignored++
		s.mu.Unlock()
		return nil, nil
	case s.take(&s.nack):
		s.stats.NACKsSent++
		s.mu.Unlock()
		return nil, pn532Write(w, pn532.NACKFrame())
	}
	stall := s.take(&s.stall)
	s.stats.Commands++
	if stall {
		s.stats.Stalled++
	}
	s.mu.Unlock()
	if err := pn532Write(w, pn532.ACKFrame()); err != nil {
		return nil, err
	}
	if stall {
		return nil, nil
	}
	rsp, next := s.respond(ctx, ev.f.Data, events)
	if rsp == nil {
		return next, nil
	}
	frame := pn532.ErrorFrame()
	if len(rsp) > 0 {
		var err error
		if frame, err = pn532.EncodeFrame(pn532.TFIPN532, rsp); err != nil {
			return next, err
		}
	}
	s.mu.Lock()
	s.last = frame
	frame = s.damageLocked(frame)
	s.mu.Unlock()
	return next, pn532Write(w, frame)
}

// damageLocked returns frame, or a copy with a bad DCS when CorruptNext
// is armed.
func (s *PN532) damageLocked(frame []byte) []byte {
	if len(frame) < 2 || !s.take(&s.corrupt) {
		return frame
	}
	s.stats.Corrupted++
	frame = bytes.Clone(frame)
	frame[len(frame)-2]++ // DCS
	return frame
}

// respond runs a command and returns the response data (response code
// first), an empty slice for the application error frame, or nil for no
// answer (the host aborted a wait, or ctx ended). A frame that arrived
// during a wait and is not an abort comes back as next.
func (s *PN532) respond(ctx context.Context, cmd []byte, events <-chan pn532Event) (rsp []byte, next *pn532Event) {
	code, args := cmd[0], cmd[1:]
	ok := []byte{code + 1}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch code {
	case pn532.CmdGetFirmwareVersion:
		return append(ok, pn532Firmware...), nil
	case pn532.CmdSAMConfiguration:
		return ok, nil
	case pn532.CmdRFConfiguration:
		if len(args) >= 4 && args[0] == pn532.RFConfigMaxRetries {
			s.maxRetries = args[3]
		}
		return ok, nil
	case pn532.CmdDiagnose:
		if len(args) < 1 || args[0] != pn532.DiagnosePresence {
			return []byte{}, nil
		}
		if s.activated && s.present && s.card != nil {
			return append(ok, 0x00), nil
		}
		return append(ok, byte(pn532.StatusTimeout)), nil
	case pn532.CmdInRelease:
		s.activated, s.pending = false, nil
		return append(ok, 0x00), nil
	case pn532.CmdInDataExchange:
		if len(args) < 1 {
			return []byte{}, nil
		}
		return append(ok, s.exchangeLocked(args[0], args[1:])...), nil
	case pn532.CmdInListPassiveTarget:
		if len(args) < 2 || args[0] < 1 || args[1] != pn532.BaudRate106TypeA {
			return []byte{}, nil
		}
		s.activated, s.pending = false, nil
		var deadline <-chan time.Time
		if s.maxRetries != 0xFF {
			t := time.NewTimer(s.PollWindow)
			defer t.Stop()
			deadline = t.C
		}
		for !s.present {
			change := s.change
			s.mu.Unlock()
			var ev pn532Event
			select {
			case <-change:
				s.mu.Lock()
				continue
			case <-deadline:
				s.mu.Lock()
				return append(ok, 0), nil
			case <-ctx.Done():
				s.mu.Lock()
				return nil, nil
			case ev = <-events:
				s.mu.Lock()
			}
			if ev.err == nil && ev.f.Kind == pn532.KindACK {
				s.stats.ACKsReceived++
				return nil, nil
			}
			return nil, &ev
		}
		return append(ok, pn532.AppendTarget(nil, s.activateLocked())...), nil
	}
	return []byte{}, nil
}

// activateLocked selects the tag in the field (a Type 4 card is power
// cycled, as a fresh activation resets it) and describes it.
func (s *PN532) activateLocked() pn532.Target {
	s.activated = true
	if s.t2 != nil {
		return pn532.Target{Tg: 1, SENSRES: pn532Type2ATQA, SELRES: pn532.SAKType2, NFCID: bytes.Clone(s.t2.UID())}
	}
	if s.powered {
		s.card.Power(false)
	}
	s.card.Power(true)
	s.powered = true
	return pn532.Target{Tg: 1, SENSRES: pn532Type4ATQA, SELRES: pn532.SAKISO14443_4,
		NFCID: bytes.Clone(s.card.UID()), ATS: bytes.Clone(pn532Type4ATS)}
}

// exchangeLocked answers InDataExchange: status, then the tag's answer
// (chained with the MI bit beyond MaxExchange bytes).
func (s *PN532) exchangeLocked(tg byte, data []byte) []byte {
	if !s.activated || tg != 1 {
		return []byte{byte(pn532.StatusNotAcceptable)}
	}
	if !s.present {
		return []byte{byte(pn532.StatusTimeout)}
	}
	var answer []byte
	switch {
	case len(data) == 0 && s.pending != nil:
		answer, s.pending = s.pending, nil
	case s.t2 != nil:
		if len(data) != 2 || data[0] != 0x30 {
			return []byte{byte(pn532.StatusTimeout)} // the tag NAKs; a real PN532 reports a timeout or 14
		}
		page, err := s.t2.Read(data[1])
		if err != nil {
			return []byte{byte(pn532.StatusTimeout)}
		}
		answer = page
	default:
		answer = s.card.APDU(bytes.Clone(data))
		if len(answer) == 0 {
			return []byte{byte(pn532.StatusTimeout)} // an unpowered card is silent
		}
	}
	if len(answer) > s.MaxExchange {
		s.pending = bytes.Clone(answer[s.MaxExchange:])
		return append([]byte{pn532.StatusMI}, answer[:s.MaxExchange]...)
	}
	return append([]byte{0x00}, answer...)
}

// count updates the stats under the lock.
func (s *PN532) count(f func(*PN532Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// pn532Write writes all of b.
func pn532Write(w io.Writer, b []byte) error {
	_, err := w.Write(b)
	return err
}

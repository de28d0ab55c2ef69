package pn532

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Timing holds the link's timeouts and retry bounds. Zero fields take the
// defaults.
type Timing struct {
	// ACK is how long to wait for the ACK once the command frame is out
	// (the frame's line time at Baud is added). Default 250 ms: a PN532
	// ACKs within a millisecond or two, but a loaded host (or a test
	// machine running everything at once) may not read it that fast, and
	// a longer wait only delays noticing a dead reader.
	ACK time.Duration
	// Response is how long to wait for a response after the ACK.
	// Default 1 s (the APDU budget of research/readers.md §2).
	Response time.Duration
	// Poll is the response timeout of InListPassiveTarget, which with
	// MxRtyPassiveActivation below FF returns on its own. Default 3 s.
	Poll time.Duration
	// Baud is the line speed, used only to add transmit time to the
	// timeouts. Default 115200.
	Baud int
	// Resends bounds the resends: of a command the PN532 NACKed, and of
	// a damaged response we NACKed. Default 3.
	Resends int
}

// withDefaults fills the zero fields.
func (t Timing) withDefaults() Timing {
	if t.ACK <= 0 {
		t.ACK = 250 * time.Millisecond
	}
	if t.Response <= 0 {
		t.Response = time.Second
	}
	if t.Poll <= 0 {
		t.Poll = 3 * time.Second
	}
	if t.Baud <= 0 {
		t.Baud = 115200
	}
	if t.Resends <= 0 {
		t.Resends = 3
	}
	return t
}

// lineTime is how long n bytes take on the wire (10 bits a byte).
func (t Timing) lineTime(n int) time.Duration {
	return time.Duration(n) * 10 * time.Second / time.Duration(t.Baud)
}

// Link runs the host side of the PN532 frame protocol over a Port: send
// a command frame, wait for the ACK (resending after a NACK), wait for the
// response (NACKing a damaged one so the PN532 sends it again), and abort
// with an ACK on a timeout or a cancelled context. A Link is not safe for
// concurrent use.
type Link struct {
	port   Port
	dec    *Decoder
	timing Timing
}

// NewLink returns a Link over p.
func NewLink(p Port, t Timing) *Link {
	return &Link{port: p, dec: NewDecoder(p), timing: t.withDefaults()}
}

// Port returns the link's port.
func (l *Link) Port() Port { return l.port }

// errNACKed is waitACK's signal that the PN532 asked for a resend.
var errNACKed = errors.New("pn532: NACK")

// Exchange sends the command cmd (command code first, no TFI) and returns
// the response data after the response code, waiting at most timeout for
// the response once the command is acknowledged (0: Timing.Response).
func (l *Link) Exchange(ctx context.Context, cmd []byte, timeout time.Duration) ([]byte, error) {
	return l.exchange(ctx, nil, cmd, timeout)
}

// exchange sends pre (wake-up bytes, may be nil) and the command frame.
func (l *Link) exchange(ctx context.Context, pre, cmd []byte, timeout time.Duration) ([]byte, error) {
	if len(cmd) == 0 {
		return nil, fmt.Errorf("%w: empty command", ErrBadResponse)
	}
	if timeout <= 0 {
		timeout = l.timing.Response
	}
	out, err := AppendFrame(append([]byte(nil), pre...), TFIHost, cmd)
	if err != nil {
		return nil, err
	}
	for nacks := 0; ; nacks++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		l.dec.Reset()
		if err := l.write(out); err != nil {
			return nil, err
		}
		err := l.waitACK(ctx, time.Now().Add(l.timing.ACK+l.timing.lineTime(len(out)+len(ackFrame))))
		if err == nil {
			break
		}
		if errors.Is(err, errNACKed) {
			if nacks < l.timing.Resends {
				continue
			}
			return nil, fmt.Errorf("%w: %02X, %d resends", ErrNACK, cmd[0], nacks)
		}
		return nil, l.abort(err, cmd[0])
	}
	rsp, err := l.waitResponse(ctx, cmd[0]+1, timeout)
	if err != nil {
		return nil, l.abort(err, cmd[0])
	}
	return rsp, nil
}

// abort sends an ACK (which cancels the running command) after a timeout
// or a cancelled context and returns err, naming the command.
func (l *Link) abort(err error, code byte) error {
	if errors.Is(err, ErrPort) {
		return err
	}
	if werr := l.write(ackFrame); werr != nil {
		return werr
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("command %02X: %w", code, err)
}

// waitACK reads frames until an ACK. Stale responses and damaged frames
// are ignored; a NACK returns errNACKed.
func (l *Link) waitACK(ctx context.Context, deadline time.Time) error {
	for {
		f, err := l.readFrame(ctx, deadline)
		switch {
		case errors.Is(err, ErrTimeout):
			return ErrNoACK
		case err != nil && isFrameError(err):
			continue
		case err != nil:
			return err
		case f.Kind == KindACK:
			return nil
		case f.Kind == KindNACK:
			return errNACKed
		case f.Kind == KindError:
			return ErrSyntax
		}
	}
}

// waitResponse reads frames until the response with code rsp. A damaged
// frame is answered with a NACK, Resends times at most; stray ACKs,
// NACKs and responses to other commands are ignored.
func (l *Link) waitResponse(ctx context.Context, rsp byte, timeout time.Duration) ([]byte, error) {
	slack := l.timing.lineTime(MaxFrameLen + 10)
	deadline := time.Now().Add(timeout + slack)
	for nacks := 0; ; {
		f, err := l.readFrame(ctx, deadline)
		switch {
		case err != nil && isFrameError(err):
			if nacks >= l.timing.Resends {
				return nil, fmt.Errorf("%w after %d NACKs: %w", ErrCorrupt, nacks, err)
			}
			nacks++
			if werr := l.write(nackFrame); werr != nil {
				return nil, werr
			}
			deadline = deadline.Add(l.timing.ACK + slack)
		case err != nil:
			return nil, err
		case f.Kind == KindError:
			return nil, ErrSyntax
		case f.Kind == KindData && f.TFI == TFIPN532 && len(f.Data) > 0 && f.Data[0] == rsp:
			return f.Data[1:], nil
		}
	}
}

// isFrameError reports whether err is a damaged frame (as opposed to a
// timeout or a port failure).
func isFrameError(err error) bool {
	return errors.Is(err, ErrBadLCS) || errors.Is(err, ErrBadDCS) || errors.Is(err, ErrBadTFI) ||
		errors.Is(err, ErrBadLength) || errors.Is(err, ErrFrameTooLong)
}

// readFrame reads one frame by deadline, or until ctx is done. Timeouts
// come back as ErrTimeout, a done context as its error, port failures
// wrapped in ErrPort, damaged frames as the decoder's errors.
func (l *Link) readFrame(ctx context.Context, deadline time.Time) (Frame, error) {
	clamped := false
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline, clamped = d, true
	}
	if err := l.port.SetReadDeadline(deadline); err != nil {
		return Frame{}, fmt.Errorf("%w: set deadline: %w", ErrPort, err)
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		l.port.SetReadDeadline(time.Now())
	})
	f, err := l.dec.ReadFrame()
	if !stop() {
		<-fired // its SetReadDeadline must not hit a later read
	}
	if err == nil || isFrameError(err) {
		return f, err
	}
	if cerr := ctx.Err(); cerr != nil {
		return Frame{}, cerr
	}
	if isTimeout(err) {
		if clamped { // ctx's own timer may not have fired yet
			return Frame{}, context.DeadlineExceeded
		}
		return Frame{}, ErrTimeout
	}
	return Frame{}, fmt.Errorf("%w: read: %w", ErrPort, err)
}

// write sends b, wrapping a failure in ErrPort.
func (l *Link) write(b []byte) error {
	if _, err := l.port.Write(b); err != nil {
		return fmt.Errorf("%w: write: %w", ErrPort, err)
	}
	return nil
}

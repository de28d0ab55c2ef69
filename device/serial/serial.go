// Package serial opens serial lines for the NFC readers: a Port with
// net.Conn-style read deadlines (for the PN532 frame protocol of
// device/pn532) and a line reader (Lines, a device.LineSource) for
// readers that print one URL or UID per line. It is the only importer of
// github.com/tarm/serial, and it works around that library's habits
// (research/readers.md §2): a read timeout comes back as (0, io.EOF), a
// vanished peer as a stream of immediate (0, io.EOF) reads and EIO on
// write, and a read with no timeout cannot be interrupted by Close. It
// also starts socat pty pairs (PTYPair) for tests and demos.
package serial

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/tarm/serial"
)

// Errors of a Port.
var (
	// ErrDisconnected: the line is gone (the pty peer vanished, the USB
	// adapter was unplugged, a write failed). Close the Port and open it
	// again.
	ErrDisconnected = errors.New("serial: port disconnected")
	// ErrClosed: the Port was closed.
	ErrClosed = errors.New("serial: port closed")
)

const (
	// pollTimeout is the termios read timeout of the pump's reads: the
	// shortest tarm/serial can set (VTIME 1), so Close returns quickly.
	pollTimeout = 100 * time.Millisecond
	// fastEOF: a (0, EOF) read quicker than this did not wait for the
	// termios timeout, so the peer has hung up…
	fastEOF = pollTimeout / 4
	// fastEOFs: …once this many come in a row.
	fastEOFs = 8
	// maxBuffered bounds the bytes received but not yet read; the pump
	// stops reading (and the kernel buffers) beyond it.
	maxBuffered = 64 << 10
)

// Port is an open serial line. A background reader (the pump) moves
// received bytes into a buffer, so Read can honour a deadline to the
// millisecond and Close always returns. Read and Write may be called
// from different goroutines; SetReadDeadline may be called while a Read
// is blocked.
type Port struct {
	name string
	raw  io.ReadWriteCloser

	mu       sync.Mutex
	buf      []byte
	err      error // sticky: the line is gone
	closed   bool
	deadline time.Time
	wake     chan struct{} // closed and replaced on every change (broadcast)

	room    chan struct{} // a Read made room in buf (capacity 1)
	closing chan struct{} // closed by Close
	done    chan struct{} // closed when the pump exits
}

// Open opens the serial line at path (a device or a symlink to one, such
// as a socat pty link) at baud, 8N1, and discards whatever input was
// waiting. On a pty the baud rate means nothing but must still be one
// tarm/serial knows (9600, 115200, …).
func Open(path string, baud int) (*Port, error) {
	tp, err := serial.OpenPort(&serial.Config{Name: path, Baud: baud, ReadTimeout: pollTimeout})
	if err != nil {
		return nil, fmt.Errorf("serial: open %s: %w", path, err)
	}
	tp.Flush() // stale bytes from before we opened; best effort
	return newPort(path, tp), nil
}

// newPort starts the pump over raw, whose Read must return (0, io.EOF)
// after at most pollTimeout when no data comes.
func newPort(name string, raw io.ReadWriteCloser) *Port {
	p := &Port{
		name:    name,
		raw:     raw,
		wake:    make(chan struct{}),
		room:    make(chan struct{}, 1),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	go p.pump()
	return p
}

// Name returns the path the Port was opened with.
func (p *Port) Name() string { return p.name }

// Read reads what has arrived, waiting until at least one byte has, the
// read deadline passes (os.ErrDeadlineExceeded), the line is gone
// (ErrDisconnected, after the bytes received before) or the Port is
// closed (ErrClosed).
func (p *Port) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return 0, ErrClosed
		}
		if len(p.buf) > 0 {
			n := copy(b, p.buf)
			p.buf = p.buf[n:]
			p.mu.Unlock()
			select {
			case p.room <- struct{}{}:
			default:
			}
			return n, nil
		}
		if p.err != nil {
			err := p.err
			p.mu.Unlock()
			return 0, err
		}
		deadline, wake := p.deadline, p.wake
		p.mu.Unlock()
		if deadline.IsZero() {
			<-wake
			continue
		}
		d := time.Until(deadline)
		if d <= 0 {
			return 0, os.ErrDeadlineExceeded
		}
		t := time.NewTimer(d)
		select {
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// SetReadDeadline sets when Read gives up; the zero time means never.
// It takes effect at once, also for a blocked Read.
func (p *Port) SetReadDeadline(t time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deadline = t
	p.broadcast()
	return nil
}

// Write writes b. A failure (EIO from a vanished pty peer) marks the
// line as gone and returns an error wrapping ErrDisconnected.
func (p *Port) Write(b []byte) (int, error) {
	p.mu.Lock()
	closed, err := p.closed, p.err
	p.mu.Unlock()
	if closed {
		return 0, ErrClosed
	}
	if err != nil {
		return 0, err
	}
	n, werr := p.raw.Write(b)
	if werr != nil {
		err := fmt.Errorf("%w: write %s: %w", ErrDisconnected, p.name, werr)
		p.fail(err)
		return n, err
	}
	return n, nil
}

// Close closes the line and waits for the pump, at most one termios read
// timeout (100 ms). Blocked Reads return ErrClosed.
func (p *Port) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.closing)
	p.broadcast()
	p.mu.Unlock()
	err := p.raw.Close()
	<-p.done
	return err
}

// pump moves bytes from the line into the buffer until the Port closes
// or the line is gone.
func (p *Port) pump() {
	defer close(p.done)
	b := make([]byte, 4096)
	fast := 0
	for {
		start := time.Now()
		n, err := p.raw.Read(b)
		quick := time.Since(start) < fastEOF
		select {
		case <-p.closing:
			return
		default:
		}
		if n > 0 {
			fast = 0
			p.mu.Lock()
			p.buf = append(p.buf, b[:n]...)
			full := len(p.buf) >= maxBuffered
			p.broadcast()
			p.mu.Unlock()
			if full && !p.waitRoom() {
				return
			}
		}
		switch {
		case err == nil || n > 0:
		case err == io.EOF && quick:
			if fast++; fast >= fastEOFs {
				p.fail(fmt.Errorf("%w: %s: peer hung up (%d immediate EOFs)", ErrDisconnected, p.name, fast))
				return
			}
		case err == io.EOF:
			fast = 0 // the termios timeout: no data yet
		default:
			p.fail(fmt.Errorf("%w: read %s: %w", ErrDisconnected, p.name, err))
			return
		}
	}
}

// waitRoom blocks until a Read has drained the buffer below its bound;
// false when the Port closes first.
func (p *Port) waitRoom() bool {
	for {
		p.mu.Lock()
		full := len(p.buf) >= maxBuffered
		p.mu.Unlock()
		if !full {
			return true
		}
		select {
		case <-p.room:
		case <-p.closing:
			return false
		}
	}
}

// fail records that the line is gone (the first error wins).
func (p *Port) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
	}
	p.broadcast()
}

// broadcast wakes every blocked Read; p.mu must be held.
func (p *Port) broadcast() {
	close(p.wake)
	p.wake = make(chan struct{})
}

package serial

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/tagd-nfc/tagd/device"
)

// LinePort is what Lines reads from: a *Port, or any reader with
// net.Conn-style read deadlines (a timeout matches
// os.ErrDeadlineExceeded; any other error means the line is gone).
type LinePort interface {
	io.ReadCloser
	SetReadDeadline(t time.Time) error
}

// Lines is a line reader on a serial port, a device.LineSource: each
// NextLine returns one URL or UID line (see LineSplitter for the rules).
// When the port fails (the peer vanished, an I/O error), NextLine closes
// it and returns an error wrapping device.ErrReaderAbsent; the next call
// opens it again.
type Lines struct {
	name     string
	open     func() (LinePort, error)
	closed   context.Context
	setClose context.CancelFunc

	op    sync.Mutex // serialises NextLine
	split LineSplitter
	buf   []byte

	mu   sync.Mutex // guards port
	port LinePort
}

// OpenLines opens the serial line at path at baud and returns a line
// reader on it, which reopens the line after a failure.
func OpenLines(path string, baud int) (*Lines, error) {
	open := func() (LinePort, error) { return Open(path, baud) }
	p, err := open()
	if err != nil {
		return nil, err
	}
	l := NewLines(path, open)
	l.port = p
	return l, nil
}

// NewLines returns a line reader named name that opens its port with open
// on the first NextLine and after every failure.
func NewLines(name string, open func() (LinePort, error)) *Lines {
	closed, setClose := context.WithCancel(context.Background())
	return &Lines{name: name, open: open, closed: closed, setClose: setClose, buf: make([]byte, 512)}
}

// Name returns the port's path.
func (l *Lines) Name() string { return l.name }

// NextLine blocks until a whole line arrives and returns it. A rejected
// line gives ErrLineTooLong or ErrBinaryLine (the reader carries on with
// the next line); a failed port an error wrapping device.ErrReaderAbsent;
// after Close, ErrClosed.
func (l *Lines) NextLine(ctx context.Context) (string, error) {
	l.op.Lock()
	defer l.op.Unlock()
	for {
		if line, ok, err := l.split.Next(); ok {
			return line, err
		}
		if l.closed.Err() != nil {
			return "", ErrClosed
		}
		p, err := l.ensurePort()
		if err != nil {
			return "", err
		}
		n, err := l.read(ctx, p)
		l.split.Write(l.buf[:n])
		switch {
		case err == nil:
		case l.closed.Err() != nil:
			return "", ErrClosed
		case ctx.Err() != nil:
			return "", ctx.Err()
		case errors.Is(err, os.ErrDeadlineExceeded):
			if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
				return "", context.DeadlineExceeded // before ctx's own timer fires
			}
		default:
			l.drop(p)
			return "", fmt.Errorf("%w: %s: %w", device.ErrReaderAbsent, l.name, err)
		}
	}
}

// Close closes the port; a blocked NextLine returns ErrClosed.
func (l *Lines) Close() error {
	l.setClose()
	l.mu.Lock()
	p := l.port
	l.port = nil
	l.mu.Unlock()
	if p != nil {
		return p.Close()
	}
	return nil
}

// ensurePort opens the port when there is none.
func (l *Lines) ensurePort() (LinePort, error) {
	l.mu.Lock()
	p := l.port
	l.mu.Unlock()
	if p != nil {
		return p, nil
	}
	p, err := l.open()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", device.ErrReaderAbsent, l.name, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Err() != nil {
		p.Close()
		return nil, ErrClosed
	}
	l.port = p
	l.split.Reset()
	return p, nil
}

// drop closes a failed port and forgets the partial line.
func (l *Lines) drop(p LinePort) {
	l.mu.Lock()
	if l.port == p {
		l.port = nil
	}
	l.mu.Unlock()
	p.Close()
	l.split.Reset()
}

// read reads once from p, until ctx's deadline or cancellation.
func (l *Lines) read(ctx context.Context, p LinePort) (int, error) {
	deadline, _ := ctx.Deadline()
	if err := p.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		p.SetReadDeadline(time.Now())
	})
	n, err := p.Read(l.buf)
	if !stop() {
		<-fired
	}
	return n, err
}

package pn532

import (
	"errors"
	"io"
	"os"
	"time"
)

// Port is the serial line to a PN532: a byte stream whose reads give up
// at a deadline, as with net.Conn. A Read that passes the deadline
// returns an error matching os.ErrDeadlineExceeded (or one with a
// Timeout() bool method that says true); SetReadDeadline may be called
// while a Read is blocked and takes effect at once. Any other read or
// write error means the line is gone. device/serial.Port is one; so are
// net.Pipe ends and *os.File pipes.
type Port interface {
	io.ReadWriteCloser
	SetReadDeadline(t time.Time) error
}

// isTimeout reports whether a read error is a deadline passing.
func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

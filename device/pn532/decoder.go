package pn532

import (
	"errors"
	"fmt"
	"io"
)

// maxBuffered bounds the bytes a Decoder holds: a maximal extended frame
// plus slack. Garbage beyond it is dropped.
const maxBuffered = 4096

// Decoder reads frames from a byte stream. It skips garbage, wake-up
// bytes and preambles until a start code, so it resynchronises after
// noise or a half-received frame. It does not know about deadlines: a
// read error (a timeout included) comes back from ReadFrame, wrapped in
// ErrTruncated when part of a frame had arrived, and the bytes received
// so far stay buffered for the next call.
type Decoder struct {
	r   io.Reader
	buf []byte
	tmp []byte
}

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: r, tmp: make([]byte, 512)}
}

// ReadFrame returns the next frame. A malformed frame is consumed and
// reported as an error wrapping ErrBadLCS, ErrBadDCS, ErrBadTFI,
// ErrBadLength or ErrFrameTooLong; the next call carries on after it.
func (d *Decoder) ReadFrame() (Frame, error) {
	empty := 0
	for {
		f, n, err := DecodeFrame(d.buf)
		d.buf = d.buf[n:]
		if !errors.Is(err, ErrTruncated) {
			return f, err
		}
		if len(d.buf) >= maxBuffered {
			d.buf = d.buf[:0]
		}
		m, rerr := d.r.Read(d.tmp)
		d.buf = append(d.buf, d.tmp[:m]...)
		if m > 0 {
			empty = 0
			continue
		}
		if rerr == nil {
			if empty++; empty > 100 {
				return Frame{}, io.ErrNoProgress
			}
			continue
		}
		if d.partial() {
			return Frame{}, fmt.Errorf("%w: %w", ErrTruncated, rerr)
		}
		return Frame{}, rerr
	}
}

// Reset drops the buffered bytes (stale answers before a new command).
func (d *Decoder) Reset() { d.buf = d.buf[:0] }

// Buffered reports how many received bytes are waiting to be decoded.
func (d *Decoder) Buffered() int { return len(d.buf) }

// partial reports whether the buffer holds the beginning of a frame
// (a start code), rather than nothing or filler bytes.
func (d *Decoder) partial() bool {
	for i := 0; i+1 < len(d.buf); i++ {
		if d.buf[i] == 0x00 && d.buf[i+1] == 0xFF {
			return true
		}
	}
	return false
}

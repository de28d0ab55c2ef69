package pn532

import (
	"bytes"
	"fmt"
)

// Frame identifiers (TFI): the direction of a normal or extended frame.
const (
	TFIHost   byte = 0xD4 // host → PN532
	TFIPN532  byte = 0xD5 // PN532 → host
	tfiError  byte = 0x7F // the one data byte of an application error frame
	preamble  byte = 0x00
	postamble byte = 0x00
)

// Size limits of a frame's data (TFI included).
const (
	// MaxNormalLen is the largest LEN of a normal frame (TFI + 254 bytes).
	MaxNormalLen = 255
	// MaxFrameLen is the largest LEN the PN532 accepts (an extended frame
	// with TFI + 264 bytes).
	MaxFrameLen = 265
)

// FrameKind tells the four kinds of frame apart.
type FrameKind uint8

// Frame kinds.
const (
	// KindData is a normal or extended information frame (TFI D4 or D5).
	KindData FrameKind = iota
	// KindACK is 00 00 FF 00 FF 00: the command was received (from the
	// PN532), or abort the running command (from the host).
	KindACK
	// KindNACK is 00 00 FF FF 00 00: send the last frame again.
	KindNACK
	// KindError is the application error frame 00 00 FF 01 FF 7F 81 00:
	// the PN532 rejected the command's syntax.
	KindError
)

// String names the kind.
func (k FrameKind) String() string {
	switch k {
	case KindData:
		return "data"
	case KindACK:
		return "ACK"
	case KindNACK:
		return "NACK"
	case KindError:
		return "error"
	}
	return fmt.Sprintf("FrameKind(%d)", uint8(k))
}

// Frame is one decoded frame. For KindData, TFI is D4 or D5 and Data holds
// the PD bytes (command or response code first); the other kinds carry no
// data.
type Frame struct {
	Kind FrameKind // data, ACK, NACK or error
	TFI  byte      // D4 (host → PN532) or D5 (PN532 → host); KindData only
	Data []byte    // PD0…PDn, the command or response code first; KindData only
}

// Fixed frames, preamble and postamble included.
var (
	ackFrame   = []byte{0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00}
	nackFrame  = []byte{0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00}
	errorFrame = []byte{0x00, 0x00, 0xFF, 0x01, 0xFF, 0x7F, 0x81, 0x00}
)

// ACKFrame returns the 6 bytes of an ACK frame.
func ACKFrame() []byte { return bytes.Clone(ackFrame) }

// NACKFrame returns the 6 bytes of a NACK frame.
func NACKFrame() []byte { return bytes.Clone(nackFrame) }

// ErrorFrame returns the 8 bytes of the application error frame.
func ErrorFrame() []byte { return bytes.Clone(errorFrame) }

// AppendFrame appends an information frame carrying TFI and data
// (command code first) to dst: a normal frame when LEN (TFI + data) is at
// most 255, else an extended frame; ErrFrameTooLong beyond 265.
func AppendFrame(dst []byte, tfi byte, data []byte) ([]byte, error) {
	n := len(data) + 1
	if n > MaxFrameLen {
		return dst, fmt.Errorf("%w: %d bytes of data", ErrFrameTooLong, len(data))
	}
	dst = append(dst, preamble, 0x00, 0xFF)
	if n <= MaxNormalLen {
		dst = append(dst, byte(n), byte(-n))
	} else {
		hi, lo := byte(n>>8), byte(n)
		dst = append(dst, 0xFF, 0xFF, hi, lo, -(hi + lo))
	}
	sum := tfi
	dst = append(dst, tfi)
	for _, b := range data {
		sum += b
	}
	dst = append(dst, data...)
	return append(dst, -sum, postamble), nil
}

// EncodeFrame returns the information frame carrying TFI and data; see
// AppendFrame.
func EncodeFrame(tfi byte, data []byte) ([]byte, error) {
	return AppendFrame(make([]byte, 0, len(data)+12), tfi, data)
}

// DecodeFrame decodes the first frame in b. It skips what comes before
// the start code 00 FF (preamble, wake-up bytes 55, garbage) and returns
// the frame and the number of bytes of b it used (through DCS, and the
// postamble when it is there). Errors: ErrTruncated when b ends before
// the frame does (n is then the number of leading bytes that can be
// dropped); ErrBadLCS, ErrBadLength and ErrFrameTooLong after the start
// code (n skips just the start code, since the length is unknown);
// ErrBadDCS and ErrBadTFI with n covering the whole frame.
func DecodeFrame(b []byte) (f Frame, n int, err error) {
	i := bytes.Index(b, []byte{0x00, 0xFF})
	if i < 0 {
		// Keep a trailing 00: it may be the start of the start code.
		if len(b) > 0 && b[len(b)-1] == 0x00 {
			return Frame{}, len(b) - 1, ErrTruncated
		}
		return Frame{}, len(b), ErrTruncated
	}
	start := i      // skipped bytes
	p := b[i+2:]    // after the start code
	skip := i + 2   // consumed when the header is bad
	if len(p) < 2 { // LEN LCS or a fixed frame's two bytes
		return Frame{}, start, ErrTruncated
	}
	switch {
	case p[0] == 0x00 && p[1] == 0xFF:
		return Frame{Kind: KindACK}, withPostamble(b, skip+2), nil
	case p[0] == 0xFF && p[1] == 0x00:
		return Frame{Kind: KindNACK}, withPostamble(b, skip+2), nil
	}
	var length, hdr int
	if p[0] == 0xFF && p[1] == 0xFF {
		if len(p) < 5 {
			return Frame{}, start, ErrTruncated
		}
		if p[2]+p[3]+p[4] != 0 {
			return Frame{}, skip, fmt.Errorf("%w: LENM %02X LENL %02X LCS %02X", ErrBadLCS, p[2], p[3], p[4])
		}
		length, hdr = int(p[2])<<8|int(p[3]), 5
		if length > MaxFrameLen {
			return Frame{}, skip, fmt.Errorf("%w: LEN %d", ErrFrameTooLong, length)
		}
	} else {
		if p[0]+p[1] != 0 {
			return Frame{}, skip, fmt.Errorf("%w: LEN %02X LCS %02X", ErrBadLCS, p[0], p[1])
		}
		length, hdr = int(p[0]), 2
	}
	if length == 0 {
		return Frame{}, skip, ErrBadLength
	}
	if len(p) < hdr+length+1 {
		return Frame{}, start, ErrTruncated
	}
	body := p[hdr : hdr+length]
	var sum byte
	for _, c := range body {
		sum += c
	}
	end := skip + hdr + length + 1
	if sum+p[hdr+length] != 0 {
		return Frame{}, end, fmt.Errorf("%w: DCS %02X", ErrBadDCS, p[hdr+length])
	}
	end = withPostamble(b, end)
	switch {
	case length == 1 && body[0] == tfiError:
		return Frame{Kind: KindError}, end, nil
	case body[0] != TFIHost && body[0] != TFIPN532:
		return Frame{}, end, fmt.Errorf("%w: %02X", ErrBadTFI, body[0])
	}
	return Frame{Kind: KindData, TFI: body[0], Data: bytes.Clone(body[1:])}, end, nil
}

// withPostamble extends n over the postamble byte when b has it.
func withPostamble(b []byte, n int) int {
	if n < len(b) && b[n] == postamble {
		return n + 1
	}
	return n
}

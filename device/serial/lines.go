package serial

import (
	"bytes"
	"errors"
	"unicode"
	"unicode/utf8"

	"github.com/tagd-nfc/tagd/device"
)

// Errors for one line; the lines after it are read normally.
var (
	// ErrLineTooLong: the line had more than device.MaxLineLen (2048)
	// bytes, terminator excluded.
	ErrLineTooLong = errors.New("serial: line too long")
	// ErrBinaryLine: the line held control bytes or invalid UTF-8 (line
	// noise, a wrong baud rate, a device speaking a binary protocol).
	ErrBinaryLine = errors.New("serial: line holds binary data")
)

// LineSplitter cuts a byte stream into lines. A line ends at \n, \r or
// \r\n (one terminator); surrounding spaces are trimmed and empty lines
// skipped. Unlike bufio.Scanner it keeps its state between writes, so
// bytes can arrive in any pieces, with idle periods in between. The zero
// value is ready to use.
type LineSplitter struct {
	cur      []byte
	overflow bool // cur reached device.MaxLineLen and bytes were dropped
	afterCR  bool // the last byte ended a line with \r
	out      []splitLine
}

// splitLine is one finished line or its error.
type splitLine struct {
	text string
	err  error
}

// Write feeds bytes; it never fails.
func (s *LineSplitter) Write(b []byte) (int, error) {
	for _, c := range b {
		switch {
		case c == '\n' && s.afterCR:
			s.afterCR = false
		case c == '\n' || c == '\r':
			s.afterCR = c == '\r'
			s.finish()
		default:
			s.afterCR = false
			if len(s.cur) < device.MaxLineLen {
				s.cur = append(s.cur, c)
			} else {
				s.overflow = true
			}
		}
	}
	return len(b), nil
}

// Next returns the oldest finished line: ok is false when there is none
// yet; err is ErrLineTooLong or ErrBinaryLine for a rejected line.
func (s *LineSplitter) Next() (line string, ok bool, err error) {
	if len(s.out) == 0 {
		return "", false, nil
	}
	l := s.out[0]
	s.out[0] = splitLine{}
	s.out = s.out[1:]
	return l.text, true, l.err
}

// Reset drops the partial line and the finished lines not yet taken.
func (s *LineSplitter) Reset() {
	*s = LineSplitter{cur: s.cur[:0]}
}

// finish ends the current line.
func (s *LineSplitter) finish() {
	cur, overflow := s.cur, s.overflow
	s.cur, s.overflow = s.cur[:0], false
	switch {
	case overflow:
		s.out = append(s.out, splitLine{err: ErrLineTooLong})
	default:
		line := bytes.TrimSpace(cur)
		if len(line) == 0 {
			return
		}
		if !printable(line) {
			s.out = append(s.out, splitLine{err: ErrBinaryLine})
			return
		}
		s.out = append(s.out, splitLine{text: string(line)})
	}
}

// printable reports whether b is valid UTF-8 without control characters
// (a tab is allowed).
func printable(b []byte) bool {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			return false
		}
		if r != '\t' && (unicode.IsControl(r) || r == utf8.RuneError) {
			return false
		}
		b = b[n:]
	}
	return true
}

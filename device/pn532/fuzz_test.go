package pn532

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// frameErrors are the errors DecodeFrame may return.
var frameErrors = []error{ErrTruncated, ErrBadLCS, ErrBadDCS, ErrBadTFI, ErrBadLength, ErrFrameTooLong}

// knownFrameError reports whether err is one of frameErrors.
func knownFrameError(err error) bool {
	for _, e := range frameErrors {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// FuzzDecodeFrame: arbitrary bytes never panic DecodeFrame or the
// Decoder, every error is one of the frame errors, decoding always makes
// progress, and a decoded frame re-encodes to the bytes it came from.
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range [][]byte{
		{0x00, 0x00, 0xFF, 0x02, 0xFE, 0xD4, 0x02, 0x2A, 0x00},
		{0x00, 0x00, 0xFF, 0x06, 0xFA, 0xD5, 0x03, 0x32, 0x01, 0x06, 0x07, 0xE8, 0x00},
		{0x55, 0x55, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0x04, 0xFC, 0xD4, 0x4A, 0x01, 0x00, 0xE1, 0x00},
		ackFrame, nackFrame, errorFrame,
		{0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x01, 0x09, 0xF6, 0xD5},
		{0x00, 0xFF, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0xFF},
	} {
		f.Add(s, uint8(1))
	}
	long, _ := EncodeFrame(TFIPN532, bytes.Repeat([]byte{0x41}, 264))
	f.Add(long, uint8(7))
	f.Fuzz(func(t *testing.T, b []byte, chunk uint8) {
		fr, n, err := DecodeFrame(b)
		if n < 0 || n > len(b) {
			t.Fatalf("n=%d of %d", n, len(b))
		}
		switch {
		case err == nil:
			if n == 0 {
				t.Fatal("frame from no bytes")
			}
			var want []byte
			switch fr.Kind {
			case KindACK:
				want = ackFrame[1:5]
			case KindNACK:
				want = nackFrame[1:5]
			case KindError:
				want = errorFrame[1:7]
			default:
				enc, err := EncodeFrame(fr.TFI, fr.Data)
				if err != nil {
					t.Fatalf("decoded frame does not encode: %v", err)
				}
				want = enc[1 : len(enc)-1]
				if len(fr.Data)+1 <= MaxNormalLen && !bytes.Contains(b[:n], want) {
					// A normal-size payload may arrive in an extended frame.
					ext := append([]byte{0x00, 0xFF, 0xFF, 0xFF, 0x00, byte(len(fr.Data) + 1), -byte(len(fr.Data) + 1)}, enc[5:len(enc)-1]...)
					want = ext
				}
			}
			if !bytes.Contains(b[:n], want) {
				t.Fatalf("decoded %+v from % X, re-encoded % X not in it", fr, b[:n], want)
			}
		case !knownFrameError(err):
			t.Fatalf("unknown error %v", err)
		case !errors.Is(err, ErrTruncated) && n == 0:
			t.Fatalf("%v without progress", err)
		}

		// The same bytes through the Decoder, in pieces.
		d := NewDecoder(&chunkReader{data: b, size: int(chunk)%16 + 1, err: io.EOF})
		for i := 0; ; i++ {
			if i > len(b)+1 {
				t.Fatal("decoder does not progress")
			}
			_, err := d.ReadFrame()
			if err == nil || knownFrameError(err) && !errors.Is(err, ErrTruncated) {
				continue
			}
			if !errors.Is(err, io.EOF) {
				t.Fatalf("decoder: %v", err)
			}
			break
		}
	})
}

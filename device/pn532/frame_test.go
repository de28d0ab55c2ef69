package pn532

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// unhex turns "00 00 FF" into bytes.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFrameGolden checks the encodings of research/readers.md §2.
func TestFrameGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		tfi  byte
		data string
		want string
	}{
		{"GetFirmwareVersion", TFIHost, "02", "00 00 FF 02 FE D4 02 2A 00"},
		{"firmware response", TFIPN532, "03 32 01 06 07", "00 00 FF 06 FA D5 03 32 01 06 07 E8 00"},
		{"InListPassiveTarget", TFIHost, "4A 01 00", "00 00 FF 04 FC D4 4A 01 00 E1 00"},
		{"SAMConfiguration", TFIHost, "14 01 14 01", "00 00 FF 05 FB D4 14 01 14 01 02 00"},
		{"InRelease", TFIHost, "52 00", "00 00 FF 03 FD D4 52 00 DA 00"},
		{"Diagnose presence", TFIHost, "00 06", "00 00 FF 03 FD D4 00 06 26 00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EncodeFrame(tc.tfi, unhex(t, tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, tc.want); !bytes.Equal(got, want) {
				t.Fatalf("encode: % X, want % X", got, want)
			}
			f, n, err := DecodeFrame(got)
			if err != nil || n != len(got) || f.Kind != KindData || f.TFI != tc.tfi || !bytes.Equal(f.Data, unhex(t, tc.data)) {
				t.Fatalf("decode: %+v n=%d err=%v", f, n, err)
			}
		})
	}
	for _, tc := range []struct {
		got  []byte
		want string
		kind FrameKind
	}{
		{ACKFrame(), "00 00 FF 00 FF 00", KindACK},
		{NACKFrame(), "00 00 FF FF 00 00", KindNACK},
		{ErrorFrame(), "00 00 FF 01 FF 7F 81 00", KindError},
	} {
		if !bytes.Equal(tc.got, unhex(t, tc.want)) {
			t.Fatalf("%v frame % X, want %s", tc.kind, tc.got, tc.want)
		}
		f, n, err := DecodeFrame(tc.got)
		if err != nil || f.Kind != tc.kind || n != len(tc.got) {
			t.Fatalf("decode %v: %+v n=%d err=%v", tc.kind, f, n, err)
		}
		if tc.kind.String() == "" {
			t.Fatal("kind without a name")
		}
	}
}

// TestFrameExtended: more than 254 data bytes need an extended frame; the
// PN532's limit is 264.
func TestFrameExtended(t *testing.T) {
	for _, n := range []int{253, 254, 255, 264} {
		data := bytes.Repeat([]byte{0xA5}, n)
		b, err := EncodeFrame(TFIPN532, data)
		if err != nil {
			t.Fatal(err)
		}
		extended := b[3] == 0xFF && b[4] == 0xFF
		if extended != (n > 254) {
			t.Fatalf("%d bytes: header % X", n, b[:8])
		}
		if extended {
			l := n + 1
			if b[5] != byte(l>>8) || b[6] != byte(l) || b[5]+b[6]+b[7] != 0 {
				t.Fatalf("%d bytes: extended header % X", n, b[:8])
			}
		}
		f, m, err := DecodeFrame(b)
		if err != nil || m != len(b) || !bytes.Equal(f.Data, data) {
			t.Fatalf("%d bytes: decode n=%d err=%v", n, m, err)
		}
	}
	if _, err := EncodeFrame(TFIHost, make([]byte, 265)); !errors.Is(err, ErrFrameTooLong) {
		t.Fatalf("265 bytes: %v", err)
	}
}

// TestFrameDecodeErrors: each kind of damage has its own error, and n
// says how much to skip.
func TestFrameDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		err  error
		n    int
	}{
		{"bad LCS", "00 00 FF 02 FD D4 02 2A 00", ErrBadLCS, 3},
		{"bad DCS", "00 00 FF 02 FE D4 02 2B 00", ErrBadDCS, 8},
		{"bad TFI", "00 00 FF 02 FE D3 02 2B 00", ErrBadTFI, 9},
		{"length 0", "00 00 FF 00 00 00", ErrBadLength, 3},
		{"extended too long", "00 00 FF FF FF 01 0A F5", ErrFrameTooLong, 3},
		{"extended bad LCS", "00 00 FF FF FF 01 00 00", ErrBadLCS, 3},
		{"truncated body", "00 00 FF 06 FA D5 03 32", ErrTruncated, 1},
		{"truncated header", "55 55 00 00 FF 06", ErrTruncated, 3},
		{"only garbage", "12 34 56", ErrTruncated, 3},
		{"garbage then 00", "12 34 00", ErrTruncated, 2},
		{"empty", "", ErrTruncated, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, n, err := DecodeFrame(unhex(t, tc.in))
			if !errors.Is(err, tc.err) || n != tc.n {
				t.Fatalf("n=%d err=%v, want n=%d %v", n, err, tc.n, tc.err)
			}
		})
	}
}

// chunkReader returns its data a few bytes per Read, then err.
type chunkReader struct {
	data []byte
	size int
	err  error
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := min(len(p), r.size, len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// TestFrameDecoderResync: garbage, wake-up bytes and damaged frames do
// not stop the decoder from finding the frames after them.
func TestFrameDecoderResync(t *testing.T) {
	fw := unhex(t, "00 00 FF 06 FA D5 03 32 01 06 07 E8 00")
	var stream []byte
	stream = append(stream, unhex(t, "13 37 FF 00 55 55 00 00 00")...)
	stream = append(stream, fw...)
	stream = append(stream, 0xEE, 0xFF)
	stream = append(stream, ackFrame...)
	stream = append(stream, unhex(t, "00 00 FF 02 FE D5 03 29 00")...) // bad DCS
	stream = append(stream, unhex(t, "00 00 FF 09 FE")...)             // bad LCS
	stream = append(stream, nackFrame...)
	stream = append(stream, errorFrame...)
	stream = append(stream, fw[:7]...) // truncated by the timeout
	for _, size := range []int{1, 3, 512} {
		d := NewDecoder(&chunkReader{data: stream, size: size, err: os.ErrDeadlineExceeded})
		want := []struct {
			kind FrameKind
			err  error
		}{{KindData, nil}, {KindACK, nil}, {0, ErrBadDCS}, {0, ErrBadLCS}, {KindNACK, nil}, {KindError, nil}}
		for i, w := range want {
			f, err := d.ReadFrame()
			if w.err != nil {
				if !errors.Is(err, w.err) {
					t.Fatalf("size %d frame %d: %v, want %v", size, i, err, w.err)
				}
				continue
			}
			if err != nil || f.Kind != w.kind {
				t.Fatalf("size %d frame %d: %+v %v, want %v", size, i, f, err, w.kind)
			}
			if i == 0 && !bytes.Equal(f.Data, unhex(t, "03 32 01 06 07")) {
				t.Fatalf("data % X", f.Data)
			}
		}
		_, err := d.ReadFrame()
		if !errors.Is(err, ErrTruncated) || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("size %d: end %v, want truncated timeout", size, err)
		}
		if d.Buffered() == 0 {
			t.Fatal("partial frame dropped")
		}
		d.Reset()
		if _, err := d.ReadFrame(); errors.Is(err, ErrTruncated) || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("after Reset: %v", err)
		}
	}
}

// TestFrameDecoderNoProgress: a reader that returns nothing forever is
// not spun on.
func TestFrameDecoderNoProgress(t *testing.T) {
	d := NewDecoder(readerFunc(func([]byte) (int, error) { return 0, nil }))
	if _, err := d.ReadFrame(); !errors.Is(err, io.ErrNoProgress) {
		t.Fatal(err)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// TestFrameParseTarget parses InListPassiveTarget answers.
func TestFrameParseTarget(t *testing.T) {
	ntag := unhex(t, "01 01 03 44 20 07 04 A1 B2 C3 D4 E5 01 06 77 77 71 02 80")
	tg, err := ParseTarget(ntag)
	if err != nil {
		t.Fatal(err)
	}
	if typ, ok := tg.Type(); !ok || typ != 4 || tg.SELRES != 0x20 || !bytes.Equal(tg.NFCID, unhex(t, "04 A1 B2 C3 D4 E5 01")) ||
		!bytes.Equal(tg.ATS, unhex(t, "06 77 77 71 02 80")) || tg.SENSRES != [2]byte{0x03, 0x44} {
		t.Fatalf("%v", tg)
	}
	if got := AppendTarget(nil, *tg); !bytes.Equal(got, ntag) {
		t.Fatalf("AppendTarget % X", got)
	}
	t2, err := ParseTarget(unhex(t, "01 01 00 44 00 07 04 11 22 33 44 55 66"))
	if typ, ok := t2.Type(); err != nil || !ok || typ != 2 || t2.ATS != nil {
		t.Fatalf("type 2: %v %v", t2, err)
	}
	if classic, err := ParseTarget(unhex(t, "01 01 00 04 08 04 11 22 33 44")); err != nil {
		t.Fatal(err)
	} else if _, ok := classic.Type(); ok {
		t.Fatal("MIFARE Classic accepted")
	}
	if none, err := ParseTarget([]byte{0}); none != nil || err != nil {
		t.Fatalf("NbTg 0: %v %v", none, err)
	}
	for _, bad := range []string{"", "01", "01 01 03 44 20", "01 01 03 44 20 07 04 A1", "01 01 03 44 20 00", "01 01 03 44 20 04 01 02 03 04 09 77"} {
		if _, err := ParseTarget(unhex(t, bad)); !errors.Is(err, ErrBadResponse) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
}

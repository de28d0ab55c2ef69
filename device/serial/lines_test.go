package serial

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd/device"
)

// splitResult is one line or error from a LineSplitter.
type splitResult struct {
	line string
	err  error
}

// splitAll feeds b in pieces of size and collects what comes out.
func splitAll(b []byte, size int) []splitResult {
	var s LineSplitter
	var out []splitResult
	for len(b) > 0 {
		n := min(size, len(b))
		s.Write(b[:n])
		b = b[n:]
		for {
			line, ok, err := s.Next()
			if !ok {
				break
			}
			out = append(out, splitResult{line, err})
		}
	}
	return out
}

func TestLineSplitter(t *testing.T) {
	long := strings.Repeat("a", device.MaxLineLen)
	in := "https://shop.example/t?picc_data=AB&cmac=CD\r\n" +
		"04A1B2C3D4E501\n" +
		"\r\n\n  \r" +
		"  padded  \r" +
		"unicode é ok\n" +
		long + "\n" +
		long + "b\r\n" +
		"bin\x00ary\n" +
		"bad \xff utf8\n" +
		"after\r\n" +
		"partial"
	want := []splitResult{
		{"https://shop.example/t?picc_data=AB&cmac=CD", nil},
		{"04A1B2C3D4E501", nil},
		{"padded", nil},
		{"unicode é ok", nil},
		{long, nil},
		{"", ErrLineTooLong},
		{"", ErrBinaryLine},
		{"", ErrBinaryLine},
		{"after", nil},
	}
	for _, size := range []int{1, 2, 7, 4096} {
		got := splitAll([]byte(in), size)
		if len(got) != len(want) {
			t.Fatalf("size %d: %d lines, want %d: %v", size, len(got), len(want), got)
		}
		for i := range want {
			if got[i].line != want[i].line || !errors.Is(got[i].err, want[i].err) || (want[i].err == nil) != (got[i].err == nil) {
				t.Fatalf("size %d line %d: %q %v, want %q %v", size, i, got[i].line, got[i].err, want[i].line, want[i].err)
			}
		}
	}
	var s LineSplitter
	s.Write([]byte("one\ntwo"))
	s.Reset()
	s.Write([]byte("three\n"))
	if line, ok, err := s.Next(); line != "three" || !ok || err != nil {
		t.Fatalf("after Reset: %q %v %v", line, ok, err)
	}
}

// TestLinesOverPTY: a line reader on a real pty: URL and UID lines with
// CRLF, a line split by an idle period longer than tarm/serial's read
// timeout, an over-long line rejected, and a reconnect after the line
// went away.
func TestLinesOverPTY(t *testing.T) {
	pair := startPair(t)
	lines, err := OpenLines(pair.HostPath, 115200)
	if err != nil {
		t.Fatal(err)
	}
	defer lines.Close()
	if lines.Name() != pair.HostPath {
		t.Fatal(lines.Name())
	}
	far := openEnd(t, pair.SimPath)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	send := func(s string) {
		t.Helper()
		if _, err := far.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	next := func(want string, wantErr error) {
		t.Helper()
		got, err := lines.NextLine(ctx)
		if got != want || !errors.Is(err, wantErr) || (wantErr == nil && err != nil) {
			t.Fatalf("NextLine: %q %v, want %q %v", got, err, want, wantErr)
		}
	}
	url := "https://tagd.local/t?picc_data=EF963FF7828658A599F3041510671E88&cmac=94EED9EE65337086"
	send(url + "\r\n04A1B2C3D4E501\r\n")
	next(url, nil)
	next("04A1B2C3D4E501", nil)

	send("https://tagd.local/t?uid=04A1B2")
	short, cancelShort := context.WithTimeout(ctx, 250*time.Millisecond)
	if _, err := lines.NextLine(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("half a line: %v", err)
	}
	cancelShort()
	send("C3D4E501\r\n")
	next("https://tagd.local/t?uid=04A1B2C3D4E501", nil)

	send("https://tagd.local/" + strings.Repeat("x", 3000) + "\r\n" + "\x01\x02\xfe\xff\r\n" + "DEADBEEF\r\n")
	next("", ErrLineTooLong)
	next("", ErrBinaryLine)
	next("DEADBEEF", nil)

	ctxR, cancelR := context.WithTimeout(ctx, 10*time.Second)
	defer cancelR()
	if err := pair.Restart(ctxR); err != nil {
		t.Fatal(err)
	}
	if _, err := lines.NextLine(ctx); !errors.Is(err, device.ErrReaderAbsent) || !errors.Is(err, ErrDisconnected) {
		t.Fatalf("after the hang-up: %v", err)
	}
	far = openEnd(t, pair.SimPath)
	// The next call opens the host end again (discarding what waited in
	// it) and, with nothing to read, runs into its deadline.
	short, cancelShort = context.WithTimeout(ctx, 150*time.Millisecond)
	if _, err := lines.NextLine(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("reopening: %v", err)
	}
	cancelShort()
	send("04AABBCCDDEEFF\n")
	next("04AABBCCDDEEFF", nil)
	lines.Close()
	if _, err := lines.NextLine(ctx); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}

// fakeLinePort hands out chunks, then fails like a vanished line.
type fakeLinePort struct{ chunks [][]byte }

func (f *fakeLinePort) Read(b []byte) (int, error) {
	if len(f.chunks) == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(b, f.chunks[0])
	if f.chunks[0] = f.chunks[0][n:]; len(f.chunks[0]) == 0 {
		f.chunks = f.chunks[1:]
	}
	return n, nil
}
func (f *fakeLinePort) SetReadDeadline(time.Time) error { return nil }
func (f *fakeLinePort) Close() error                    { return nil }

// FuzzLineReader: any bytes, in any pieces, give the same lines; every
// line is printable, trimmed, at most MaxLineLen bytes and free of line
// ends; errors are only the per-line ones; and Lines over a port returns
// exactly what the splitter does, then the port failure.
func FuzzLineReader(f *testing.F) {
	f.Add([]byte("https://a.example/x\r\n04A1B2C3D4E501\n\rbin\x00\n"), uint8(3))
	f.Add([]byte(strings.Repeat("z", 2100)+"\nok\n"), uint8(200))
	f.Add([]byte("\xff\xfe\r\r\n\n é \t x \r"), uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, chunk uint8) {
		size := int(chunk)%64 + 1
		whole := splitAll(b, len(b)+1)
		pieces := splitAll(b, size)
		if len(whole) != len(pieces) {
			t.Fatalf("%d lines whole, %d in pieces of %d", len(whole), len(pieces), size)
		}
		for i, r := range whole {
			if r != pieces[i] {
				t.Fatalf("line %d: %v vs %v", i, r, pieces[i])
			}
			switch {
			case r.err != nil:
				if !errors.Is(r.err, ErrLineTooLong) && !errors.Is(r.err, ErrBinaryLine) || r.line != "" {
					t.Fatalf("line %d: %q %v", i, r.line, r.err)
				}
			case r.line == "" || len(r.line) > device.MaxLineLen || strings.ContainsAny(r.line, "\r\n\x00") ||
				strings.TrimSpace(r.line) != r.line || !printable([]byte(r.line)):
				t.Fatalf("line %d: %q", i, r.line)
			}
		}

		var chunks [][]byte
		for rest := b; len(rest) > 0; {
			n := min(size, len(rest))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		l := NewLines("fuzz", func() (LinePort, error) { return &fakeLinePort{chunks: chunks}, nil })
		defer l.Close()
		for i := 0; ; i++ {
			line, err := l.NextLine(context.Background())
			if errors.Is(err, device.ErrReaderAbsent) {
				if i != len(whole) {
					t.Fatalf("Lines gave %d lines, splitter %d", i, len(whole))
				}
				break
			}
			if i >= len(whole) || line != whole[i].line || !errors.Is(err, whole[i].err) {
				t.Fatalf("Lines line %d: %q %v", i, line, err)
			}
		}
	})
}

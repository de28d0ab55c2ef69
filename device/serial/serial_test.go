package serial

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"
)

// startPair starts a socat pty pair for the test, or skips it when socat
// is missing.
func startPair(t *testing.T) *PTYPair {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := StartPTYPair(ctx, t.TempDir())
	if errors.Is(err, ErrNoSocat) {
		t.Skip("socat is not installed (apt-get install socat): skipping the pty test")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	return p
}

// openEnd opens one end of the pair.
func openEnd(t *testing.T, path string) *Port {
	t.Helper()
	p, err := Open(path, 115200)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// readN reads exactly n bytes by deadline.
func readN(t *testing.T, p *Port, n int, deadline time.Time) []byte {
	t.Helper()
	p.SetReadDeadline(deadline)
	b := make([]byte, n)
	if _, err := io.ReadFull(p, b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSerialPort: bytes cross the pty pair both ways, read deadlines are
// exact (not tarm/serial's 100 ms steps), a deadline set during a Read
// ends it, and Close ends a blocked Read.
func TestSerialPort(t *testing.T) {
	pair := startPair(t)
	host, far := openEnd(t, pair.HostPath), openEnd(t, pair.SimPath)
	if host.Name() != pair.HostPath {
		t.Fatal(host.Name())
	}
	deadline := time.Now().Add(5 * time.Second)
	if _, err := host.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, far, 4, deadline); string(got) != "ping" {
		t.Fatalf("%q", got)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1024)
	go far.Write(big)
	if got := readN(t, host, len(big), deadline); !bytes.Equal(got, big) {
		t.Fatal("16 KiB garbled")
	}

	start := time.Now()
	host.SetReadDeadline(start.Add(30 * time.Millisecond))
	if n, err := host.Read(make([]byte, 8)); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("idle read: %d %v", n, err)
	}
	if d := time.Since(start); d < 30*time.Millisecond || d > 90*time.Millisecond {
		t.Logf("30 ms deadline took %v (loaded machine?)", d)
	}

	host.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, err := host.Read(make([]byte, 8))
		done <- err
	}()
	host.SetReadDeadline(time.Now())
	if err := <-done; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("deadline set during Read: %v", err)
	}

	host.SetReadDeadline(time.Time{})
	go func() {
		_, err := host.Read(make([]byte, 8))
		done <- err
	}()
	start = time.Now()
	if err := host.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("Read after Close: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close took %v", d)
	}
	if _, err := host.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}

// TestSerialHangup: when socat goes away, the held ends report
// ErrDisconnected on Read and on Write, and the pair comes back on the
// same paths after a restart.
func TestSerialHangup(t *testing.T) {
	pair := startPair(t)
	host := openEnd(t, pair.HostPath)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pair.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	host.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := host.Read(make([]byte, 8)); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("read after hang-up: %v", err)
	}
	if _, err := host.Write([]byte("x")); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("write after hang-up: %v", err)
	}
	host = openEnd(t, pair.HostPath)
	far := openEnd(t, pair.SimPath)
	if _, err := far.Write([]byte("back")); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, host, 4, time.Now().Add(5*time.Second)); string(got) != "back" {
		t.Fatalf("%q", got)
	}
	if _, err := Open(pair.HostPath, 250000); err == nil {
		t.Fatal("odd baud rate accepted")
	}
}

// fakeRaw is a line for the pump: it hands out chunks, then answers like
// a hung-up pty, (0, EOF) at once, forever.
type fakeRaw struct {
	chunks chan []byte
	werr   error
}

func (f *fakeRaw) Read(b []byte) (int, error) {
	c, ok := <-f.chunks
	if !ok {
		return 0, io.EOF
	}
	return copy(b, c), nil
}
func (f *fakeRaw) Write(b []byte) (int, error) {
	if f.werr != nil {
		return 0, f.werr
	}
	return len(b), nil
}
func (f *fakeRaw) Close() error { return nil }

// TestSerialPumpDisconnect: data received before a hang-up is still
// read, then the hang-up is ErrDisconnected; a write error is too.
func TestSerialPumpDisconnect(t *testing.T) {
	raw := &fakeRaw{chunks: make(chan []byte, 2)}
	raw.chunks <- []byte("last words")
	close(raw.chunks)
	p := newPort("fake", raw)
	defer p.Close()
	p.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(p)
	if string(b) != "last words" || !errors.Is(err, ErrDisconnected) {
		t.Fatalf("%q %v", b, err)
	}

	raw2 := &fakeRaw{chunks: make(chan []byte), werr: errors.New("input/output error")}
	p2 := newPort("fake2", raw2)
	if _, err := p2.Write([]byte("x")); !errors.Is(err, ErrDisconnected) {
		t.Fatal(err)
	}
	if _, err := p2.Read(make([]byte, 1)); !errors.Is(err, ErrDisconnected) {
		t.Fatal(err)
	}
	close(raw2.chunks)
	p2.Close()
}

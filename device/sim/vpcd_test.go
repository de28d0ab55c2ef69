//go:build linux

package sim_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd/device/sim"
)

// recCard is an APDUHandler that records what it is asked.
type recCard struct {
	mu     sync.Mutex
	events []string
	apdu   func(c []byte) []byte // nil: answer 90 00
}

var vpcdTestATR = []byte{0x3B, 0x81, 0x80, 0x01, 0x80, 0x80}

func (c *recCard) log(e string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, e)
}

func (c *recCard) Events() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.events)
}

func (c *recCard) Power(on bool) {
	if on {
		c.log("on")
	} else {
		c.log("off")
	}
}

func (c *recCard) ATR() []byte { c.log("atr"); return vpcdTestATR }

func (c *recCard) UID() []byte { return []byte{0x04, 1, 2, 3, 4, 5, 6} }

func (c *recCard) APDU(capdu []byte) []byte {
	c.log("apdu " + hex.EncodeToString(capdu))
	if c.apdu != nil {
		return c.apdu(capdu)
	}
	return []byte{0x90, 0x00}
}

// fakeVPCD is the vpcd side of one card connection.
type fakeVPCD struct {
	t    *testing.T
	conn *net.TCPConn
}

// startFakeVPCD listens on a loopback port, connects card to it and
// returns both ends.
func startFakeVPCD(t *testing.T, card sim.APDUHandler) (*fakeVPCD, *sim.VPCDConn) {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := sim.ConnectVPCD(ctx, ln.Addr().String(), card)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	// The kernel completed the handshake before ConnectVPCD returned.
	conn, err := ln.AcceptTCP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// A guard against a hung test, not a synchronisation.
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	return &fakeVPCD{t: t, conn: conn}, v
}

// send writes one framed message; split sends the length and the payload
// in two writes, as Debian 12's vpcd does.
func (f *fakeVPCD) send(payload []byte, split bool) {
	f.t.Helper()
	var hdr [2]byte
	binary.BigEndian.PutUint16(hdr[:], uint16(len(payload)))
	if split {
		if _, err := f.conn.Write(hdr[:]); err != nil {
			f.t.Fatal(err)
		}
		if _, err := f.conn.Write(payload); err != nil {
			f.t.Fatal(err)
		}
		return
	}
	if _, err := f.conn.Write(append(hdr[:], payload...)); err != nil {
		f.t.Fatal(err)
	}
}

// recv reads one framed message.
func (f *fakeVPCD) recv() ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(f.conn, hdr[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(hdr[:]))
	_, err := io.ReadFull(f.conn, b)
	return b, err
}

func (f *fakeVPCD) mustRecv() []byte {
	f.t.Helper()
	b, err := f.recv()
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

func TestVPCD_Protocol(t *testing.T) {
	card := &recCard{apdu: func(c []byte) []byte {
		if c[1] == 0xCA {
			return []byte{0x04, 1, 2, 3, 4, 5, 6, 0x90, 0x00}
		}
		// Echo the data with 90 00, to check that long frames go
		// through whole.
		return append(slices.Clone(c[5:]), 0x90, 0x00)
	}}
	f, v := startFakeVPCD(t, card)

	f.send([]byte{0x01}, false) // power on: no answer
	f.send([]byte{0x04}, true)  // get ATR
	if got := f.mustRecv(); !bytes.Equal(got, vpcdTestATR) {
		t.Fatalf("ATR = % X, want % X", got, vpcdTestATR)
	}
	f.send([]byte{0xFF, 0xCA, 0x00, 0x00, 0x00}, true)
	if got, want := f.mustRecv(), []byte{0x04, 1, 2, 3, 4, 5, 6, 0x90, 0x00}; !bytes.Equal(got, want) {
		t.Fatalf("GET UID = % X, want % X", got, want)
	}
	long := make([]byte, 5+600)
	copy(long, []byte{0x00, 0xD6, 0x00, 0x00, 0x00})
	for i := range long[5:] {
		long[5+i] = byte(i)
	}
	f.send(long, true)
	if got, want := f.mustRecv(), append(slices.Clone(long[5:]), 0x90, 0x00); !bytes.Equal(got, want) {
		t.Fatalf("long APDU answer: %d bytes, want %d", len(got), len(want))
	}
	f.send([]byte{0x02}, false) // reset: off, on; no answer
	f.send([]byte{0x00}, false) // power off: no answer
	f.send([]byte{0x04}, false) // the ATR answer orders the events above
	if got := f.mustRecv(); !bytes.Equal(got, vpcdTestATR) {
		t.Fatalf("ATR = % X, want % X", got, vpcdTestATR)
	}
	want := []string{"on", "atr", "apdu ffca000000", "apdu " + hex.EncodeToString(long), "off", "on", "off", "atr"}
	if got := card.Events(); !slices.Equal(got, want) {
		t.Fatalf("card saw %q, want %q", got, want)
	}
	if err := v.Err(); err != nil {
		t.Fatalf("Err while up = %v", err)
	}
}

func TestVPCD_CloseRemovesCard(t *testing.T) {
	card := &recCard{}
	f, v := startFakeVPCD(t, card)
	f.send([]byte{0x04}, false)
	f.mustRecv()
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-v.Done():
	default:
		t.Fatal("Done not closed after Close")
	}
	if err := v.Err(); err != nil {
		t.Fatalf("Err after Close = %v, want nil", err)
	}
	if _, err := f.recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("vpcd read after Close: %v, want EOF", err)
	}
	if got := card.Events(); got[len(got)-1] != "off" {
		t.Fatalf("card events %q: the last is not a power off", got)
	}
	if err := v.Close(); err != nil { // a second Close is harmless
		t.Fatal(err)
	}
}

func TestVPCD_Hangup(t *testing.T) {
	card := &recCard{}
	f, v := startFakeVPCD(t, card)
	f.conn.Close() // pcscd stopped
	<-v.Done()
	if err := v.Err(); !errors.Is(err, sim.ErrVPCDHangup) {
		t.Fatalf("Err = %v, want ErrVPCDHangup", err)
	}
	if got := card.Events(); !slices.Equal(got, []string{"off"}) {
		t.Fatalf("card events %q, want a power off", got)
	}
}

func TestVPCD_YankMidAPDU(t *testing.T) {
	card := &recCard{apdu: func(c []byte) []byte {
		if c[1] == 0xB0 {
			return nil // the card leaves before it answers
		}
		return []byte{0x90, 0x00}
	}}
	f, v := startFakeVPCD(t, card)
	f.send([]byte{0x00, 0xA4, 0x00, 0x0C, 0x02, 0xE1, 0x04}, true)
	if got := f.mustRecv(); !bytes.Equal(got, []byte{0x90, 0x00}) {
		t.Fatalf("SELECT = % X", got)
	}
	f.send([]byte{0x00, 0xB0, 0x00, 0x00, 0x02}, true)
	if b, err := f.recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("READ BINARY answered % X, %v; want EOF", b, err)
	}
	<-v.Done()
	if err := v.Err(); err != nil {
		t.Fatalf("Err = %v, want nil (the card side ended it)", err)
	}
}

func TestVPCD_DialError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := sim.ConnectVPCD(context.Background(), addr, &recCard{}); err == nil {
		t.Fatal("ConnectVPCD to a closed port succeeded")
	}
}

// TestVPCD_QuickAck checks the per-APDU round trip against a vpcd that,
// like Debian 12's, sends the length and the payload in two writes with
// Nagle on: without TCP_QUICKACK on the card's socket every APDU waits
// ~40 ms for a delayed ACK (research/readers.md §3.1).
func TestVPCD_QuickAck(t *testing.T) {
	f, _ := startFakeVPCD(t, &recCard{})
	if err := f.conn.SetNoDelay(false); err != nil {
		t.Fatal(err)
	}
	apdu := []byte{0x00, 0xB0, 0x00, 0x00, 0x10}
	const n = 50
	start := time.Now()
	for range n {
		f.send(apdu, true)
		f.mustRecv()
	}
	per := time.Since(start) / n
	t.Logf("vpcd round trip with split frames and Nagle: %v per APDU", per)
	if per > 15*time.Millisecond {
		t.Fatalf("%v per APDU: delayed ACKs are not suppressed", per)
	}
}

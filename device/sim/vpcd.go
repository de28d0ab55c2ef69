//go:build linux

package sim

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
)

// DefaultVPCDAddr is where vsmartcard's vpcd (the pcscd driver) waits for
// the card of its first slot, the reader "Virtual PCD 00 00". The second
// slot, "Virtual PCD 00 01", listens on port 35964.
const DefaultVPCDAddr = "127.0.0.1:35963"

// vpcd control messages (a 1-byte payload); see research/readers.md §3.1.
const (
	vpcdPowerOff = 0x00
	vpcdPowerOn  = 0x01
	vpcdReset    = 0x02
	vpcdGetATR   = 0x04
)

// ErrVPCDHangup is what Err reports when vpcd closed the connection
// (pcscd stopped or was killed).
var ErrVPCDHangup = errors.New("sim: vpcd closed the connection")

// VPCDConn is a virtual card in a vpcd reader slot: while the connection is
// up, pcscd sees the card as present, powers it, and passes it the
// C-APDUs that applications send (the reader's FF CA … pseudo-APDUs
// included, so the card answers those too). Close removes the card.
//
// The card's methods are called from one goroutine, the connection's, and
// never after Close has returned, so the same card may be put back with a
// new ConnectVPCD afterwards.
//
// vpcd's protocol: every message in either direction is a 2-byte
// big-endian length and a payload. A 1-byte payload from vpcd is a
// control: 00 power off, 01 power on, 02 reset, 04 get ATR (the only one
// answered, with the ATR). Anything else is a C-APDU, answered with the
// R-APDU.
type VPCDConn struct {
	conn *net.TCPConn
	raw  syscall.RawConn
	card APDUHandler

	done chan struct{} // closed when the serving goroutine has ended
	err  error         // why it ended; written before done is closed

	mu      sync.Mutex
	closing bool // Close was called: the end is not an error
}

// ConnectVPCD puts card into the vpcd reader slot listening at addr
// (DefaultVPCDAddr when ""): it dials vpcd, which is the card entering the
// field, and serves vpcd's requests on a goroutine until Close or until
// vpcd hangs up. ctx bounds the dial only.
//
// When the card's APDU method returns nil, the connection is closed
// without an answer: the card left the field in the middle of an
// exchange (vpcd then answers the application's SCardTransmit with
// success and an empty response, as research/readers.md §3.1 found).
func ConnectVPCD(ctx context.Context, addr string, card APDUHandler) (*VPCDConn, error) {
	if addr == "" {
		addr = DefaultVPCDAddr
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sim: connect to vpcd: %w", err)
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("sim: connect to vpcd: %T is not a TCP connection", c)
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("sim: connect to vpcd: %w", err)
	}
	v := &VPCDConn{conn: tc, raw: raw, card: card, done: make(chan struct{})}
	go v.serve()
	return v, nil
}

// Close removes the card: it closes the connection and returns when the
// card is no longer served (after its Power(false)). It returns nil, also
// when the connection had already ended.
func (v *VPCDConn) Close() error {
	v.mu.Lock()
	v.closing = true
	v.mu.Unlock()
	v.conn.Close()
	<-v.done
	return nil
}

// Done is closed when the connection has ended: after Close, after the
// card's APDU returned nil, or when vpcd hung up.
func (v *VPCDConn) Done() <-chan struct{} { return v.done }

// Err returns nil while the connection is up and after an end that the
// card side chose (Close, a nil R-APDU); after vpcd hung up it returns an
// error that wraps ErrVPCDHangup, and after a failed read or write the
// error of the connection.
func (v *VPCDConn) Err() error {
	select {
	case <-v.done:
		return v.err
	default:
		return nil
	}
}

// serve answers vpcd until the connection ends, then powers the card off.
func (v *VPCDConn) serve() {
	err := v.loop()
	v.mu.Lock()
	if v.closing {
		err = nil
	}
	v.mu.Unlock()
	v.conn.Close()
	v.card.Power(false)
	v.err = err
	close(v.done)
}

// loop reads and answers messages; it returns nil when the card ended the
// connection (a nil R-APDU).
func (v *VPCDConn) loop() error {
	var hdr [2]byte
	for {
		// Debian 12's vpcd sends the length and the payload in two
		// send() calls; with Nagle on its side, the payload waits for
		// our ACK of the length, which delayed ACK holds back ~40 ms.
		// TCP_QUICKACK makes the kernel ACK at once; it is not sticky,
		// so it is set again before every read.
		v.quickAck()
		if _, err := io.ReadFull(v.conn, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
				return fmt.Errorf("%w (%v)", ErrVPCDHangup, err)
			}
			return fmt.Errorf("sim: vpcd: read length: %w", err)
		}
		n := binary.BigEndian.Uint16(hdr[:])
		v.quickAck()
		msg := make([]byte, n)
		if _, err := io.ReadFull(v.conn, msg); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
				return fmt.Errorf("%w in a message (%v)", ErrVPCDHangup, err)
			}
			return fmt.Errorf("sim: vpcd: read message: %w", err)
		}
		var rsp []byte
		switch {
		case n == 0:
			continue
		case n == 1:
			switch msg[0] {
			case vpcdPowerOff:
				v.card.Power(false)
			case vpcdPowerOn:
				v.card.Power(true)
			case vpcdReset:
				v.card.Power(false)
				v.card.Power(true)
			case vpcdGetATR:
				rsp = v.card.ATR()
			}
			if msg[0] != vpcdGetATR {
				continue // the other controls have no answer
			}
		default:
			rsp = v.card.APDU(msg)
			if rsp == nil {
				return nil // the card left mid-exchange
			}
		}
		if len(rsp) > 0xFFFF {
			return fmt.Errorf("sim: vpcd: answer of %d bytes does not fit a frame", len(rsp))
		}
		// One write for length and payload, so that our side never
		// waits on Nagle.
		frame := make([]byte, 2+len(rsp))
		binary.BigEndian.PutUint16(frame, uint16(len(rsp)))
		copy(frame[2:], rsp)
		if _, err := v.conn.Write(frame); err != nil {
			return fmt.Errorf("sim: vpcd: write answer: %w", err)
		}
	}
}

// quickAck sets TCP_QUICKACK on the socket; errors (a closed socket) are
// ignored, the next read reports them.
func (v *VPCDConn) quickAck() {
	_ = v.raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}

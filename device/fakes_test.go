package device

import (
	"bytes"
	"context"
	"fmt"
)

// scriptCard is a Type 4 card that answers C-APDUs from a script: each
// step names the expected C-APDU (nil: any) and the R-APDU.
type scriptCard struct {
	steps []step
	sent  [][]byte
	fail  error // Transmit error for steps past the script
}

// step is one exchange of a scriptCard.
type step struct {
	want []byte
	resp []byte
}

func (c *scriptCard) Type() TagType { return Type4 }
func (c *scriptCard) UID() []byte   { return []byte{0x04, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06} }
func (c *scriptCard) ReadPage(context.Context, byte) ([]byte, error) {
	return nil, fmt.Errorf("not a Type 2 tag")
}

func (c *scriptCard) Transmit(_ context.Context, apdu []byte) ([]byte, error) {
	i := len(c.sent)
	c.sent = append(c.sent, append([]byte(nil), apdu...))
	if i >= len(c.steps) {
		if c.fail != nil {
			return nil, c.fail
		}
		return nil, fmt.Errorf("unexpected APDU % X", apdu)
	}
	s := c.steps[i]
	if s.want != nil && !bytes.Equal(s.want, apdu) {
		return nil, fmt.Errorf("APDU %d: % X, want % X", i, apdu, s.want)
	}
	return s.resp, nil
}

// t2Card is a Type 2 tag whose memory is mem (4-byte pages from page 0);
// a read past the end wraps around, as on an NTAG21x.
type t2Card struct {
	mem   []byte
	reads []byte // pages read
	err   error
}

func (c *t2Card) Type() TagType { return Type2 }
func (c *t2Card) UID() []byte   { return []byte{0x04, 0xAA, 0xBB, 0xCC, 0x11, 0x22, 0x33} }
func (c *t2Card) Transmit(context.Context, []byte) ([]byte, error) {
	return nil, fmt.Errorf("not a Type 4 tag")
}

func (c *t2Card) ReadPage(_ context.Context, n byte) ([]byte, error) {
	c.reads = append(c.reads, n)
	if c.err != nil {
		return nil, c.err
	}
	out := make([]byte, 16)
	for i := range out {
		if len(c.mem) > 0 {
			out[i] = c.mem[(int(n)*4+i)%len(c.mem)]
		}
	}
	return out, nil
}

// ntag213 returns the memory of an NTAG213 (45 pages, CC E1 10 12 00)
// whose data area from page 4 holds area.
func ntag213(area ...byte) []byte {
	mem := make([]byte, 45*4)
	copy(mem, []byte{0x04, 0xAA, 0xBB, 0x9F, 0xCC, 0x11, 0x22, 0x33, 0x44, 0x48, 0x00, 0x00, 0xE1, 0x10, 0x12, 0x00})
	copy(mem[16:16+144], area)
	return mem
}

// uriRecord returns a short NDEF URI record with MB and ME set.
func uriRecord(code byte, rest string) []byte {
	return append([]byte{0xD1, 0x01, byte(1 + len(rest)), 'U', code}, rest...)
}

// resp returns an R-APDU of data followed by a status word.
func resp(s uint16, data ...byte) []byte {
	return append(append([]byte(nil), data...), byte(s>>8), byte(s))
}

// factoryCC is the first 15 bytes of an NTAG 424 DNA's CC.
var factoryCC = []byte{0x00, 0x17, 0x20, 0x01, 0x00, 0x00, 0xFF, 0x04, 0x06, 0xE1, 0x04, 0x01, 0x00, 0x00, 0x00}

// type4Script returns the script of a good read of msg with the CC cc
// (chunks of chunk bytes).
func type4Script(cc []byte, msg []byte, chunk int) []step {
	s := []step{
		{[]byte{0x00, 0xA4, 0x04, 0x00, 0x07, 0xD2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01, 0x00}, resp(SWOK)},
		{[]byte{0x00, 0xA4, 0x00, 0x0C, 0x02, 0xE1, 0x03}, resp(SWOK)},
		{[]byte{0x00, 0xB0, 0x00, 0x00, 0x0F}, resp(SWOK, cc...)},
		{[]byte{0x00, 0xA4, 0x00, 0x0C, 0x02, cc[9], cc[10]}, resp(SWOK)},
		{[]byte{0x00, 0xB0, 0x00, 0x00, 0x02}, resp(SWOK, byte(len(msg)>>8), byte(len(msg)))},
	}
	for off := 0; off < len(msg); off += chunk {
		n := min(chunk, len(msg)-off)
		o := off + 2
		s = append(s, step{[]byte{0x00, 0xB0, byte(o >> 8), byte(o), byte(n)}, resp(SWOK, msg[off:off+n]...)})
	}
	return s
}

package pcsc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ebfe/scard"
	"github.com/tagd-nfc/tagd/device"
)

// Card is a tag on a PC/SC reader, connected exclusively for one tap.
// NextCard returns one; Release ends it. It implements device.Card.
type Card struct {
	r        *Reader
	sc       *scard.Context // the context it belongs to
	h        *scard.Card
	reader   string
	typ      device.TagType
	uid      []byte
	atr      []byte
	counter  uint32    // pcscd's event counter of the reader at the tap
	seen     time.Time // when the reader reported the tag
	released bool
}

var _ device.Card = (*Card)(nil)

// Type returns Type2 for the PC/SC Part 3 storage-card ATR of the
// Ultralight family (NTAG21x), else Type4.
func (c *Card) Type() device.TagType { return c.typ }

// UID returns the anticollision UID that the reader reported (GET DATA
// FF CA), or nil.
func (c *Card) UID() []byte { return bytes.Clone(c.uid) }

// ATR returns the ATR that pcscd built for the tag.
func (c *Card) ATR() []byte { return bytes.Clone(c.atr) }

// Reader returns the PC/SC name of the reader that holds the tag.
func (c *Card) Reader() string { return c.reader }

// Seen returns when NextCard saw the tag enter the field (Options.Now).
func (c *Card) Seen() time.Time { return c.seen }

// Transmit sends a C-APDU and returns the R-APDU (data ‖ SW1 SW2). The
// exchange itself cannot be cancelled (PC/SC has no way to); ctx is
// checked before it. An answer shorter than a status word (vpcd's answer
// when the tag left mid-exchange) and the PC/SC "card removed" codes are
// errors that wrap device.ErrCardLeft.
func (c *Card) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := c.r.enter(); err != nil {
		return nil, err
	}
	defer c.r.leave()
	return c.transmit(apdu)
}

// ReadPage reads the 16 bytes from page n of a Type 2 tag with the PC/SC
// Part 3 READ BINARY pseudo-APDU FF B0 00 n 10.
func (c *Card) ReadPage(ctx context.Context, n byte) ([]byte, error) {
	rsp, err := c.Transmit(ctx, []byte{0xFF, 0xB0, 0x00, n, 0x10})
	if err != nil {
		return nil, err
	}
	l := len(rsp)
	if sw := uint16(rsp[l-2])<<8 | uint16(rsp[l-1]); sw != device.SWOK {
		return nil, &device.SWError{SW: sw, Op: fmt.Sprintf("read page %d", n)}
	}
	if l-2 != 16 {
		return nil, fmt.Errorf("pcsc: read page %d: %d bytes, want 16", n, l-2)
	}
	return rsp[:16], nil
}

// transmit is Transmit without the checks of the Reader's state.
func (c *Card) transmit(apdu []byte) ([]byte, error) {
	if c.released {
		return nil, errors.New("pcsc: transmit: the card was released")
	}
	rsp, err := c.h.Transmit(apdu)
	if err != nil {
		return nil, c.r.failed(c.sc, scardError("transmit", err))
	}
	if len(rsp) < 2 {
		return nil, &Error{Op: "transmit", kind: device.ErrCardLeft,
			Text: fmt.Sprintf("the tag left during the exchange (%d-byte answer)", len(rsp))}
	}
	return rsp, nil
}

// storageRID is the PC/SC registered application provider ID in the ATR
// that PC/SC Part 3 readers build for storage cards.
var storageRID = []byte{0xA0, 0x00, 0x00, 0x03, 0x06}

// tagType decides the NFC Forum type from the ATR. PC/SC Part 3 readers
// show a storage card as 3B 8F 80 01 80 4F 0C A0 00 00 03 06 SS NN NN
// 00 00 00 00 TCK, where NN NN is the card name: 00 03 MIFARE Ultralight
// (NTAG21x answer like it) and 00 3A Ultralight C are Type 2 tags.
// Everything else, ISO 14443-4 cards such as the NTAG 424 DNA
// (3B 8n 80 01 <historical bytes> TCK) included, is taken for Type 4.
func tagType(atr []byte) device.TagType {
	if len(atr) >= 15 && atr[0] == 0x3B && atr[1]&0xF0 == 0x80 && atr[2] == 0x80 && atr[3] == 0x01 &&
		atr[4] == 0x80 && atr[5] == 0x4F && atr[6] == 0x0C && bytes.Equal(atr[7:12], storageRID) {
		switch uint16(atr[13])<<8 | uint16(atr[14]) {
		case 0x0003, 0x003A:
			return device.Type2
		}
	}
	return device.Type4
}

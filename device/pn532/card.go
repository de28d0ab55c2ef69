package pn532

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/tagd-nfc/tagd/device"
)

// Card is a tag a Device found: a device.Card whose exchanges go through
// InDataExchange. It is valid until the Device reinitialises or reopens
// its port; after that its methods return ErrStaleCard.
type Card struct {
	dev    *Device
	link   *Link
	gen    uint64
	target Target
	typ    device.TagType
}

// Type returns Type4 or Type2, from SEL_RES.
func (c *Card) Type() device.TagType { return c.typ }

// UID returns the NFCID from InListPassiveTarget.
func (c *Card) UID() []byte { return bytes.Clone(c.target.NFCID) }

// Target returns the InListPassiveTarget data (ATQA, SAK, UID, ATS).
func (c *Card) Target() Target { return c.target }

// Transmit sends a C-APDU to a Type 4 tag and returns the R-APDU (data,
// SW1 SW2). A tag that has left gives a Status error that matches
// device.ErrCardLeft, as does an answer shorter than a status word.
func (c *Card) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if c.typ != device.Type4 {
		return nil, fmt.Errorf("%w: Transmit to a Type %d tag", device.ErrTagType, c.typ)
	}
	var rsp []byte
	err := c.do(ctx, func(ctx context.Context, l *Link) (err error) {
		rsp, err = l.InDataExchange(ctx, c.target.Tg, apdu)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(rsp) < 2 {
		return nil, fmt.Errorf("%w: R-APDU % X", device.ErrCardLeft, rsp)
	}
	return rsp, nil
}

// ReadPage reads 16 bytes from page n of a Type 2 tag (READ 30 n).
func (c *Card) ReadPage(ctx context.Context, n byte) ([]byte, error) {
	if c.typ != device.Type2 {
		return nil, fmt.Errorf("%w: ReadPage on a Type %d tag", device.ErrTagType, c.typ)
	}
	var rsp []byte
	err := c.do(ctx, func(ctx context.Context, l *Link) (err error) {
		rsp, err = l.InDataExchange(ctx, c.target.Tg, []byte{0x30, n})
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(rsp) != 16 {
		return nil, fmt.Errorf("%w: READ %d gave %d bytes", ErrBadResponse, n, len(rsp))
	}
	return rsp, nil
}

// present checks whether the tag is still in the field: Diagnose for a
// Type 4 tag, a READ of page 0 for a Type 2 tag (a failed read means it
// left).
func (c *Card) present(ctx context.Context) (bool, error) {
	var ok bool
	err := c.do(ctx, func(ctx context.Context, l *Link) (err error) {
		if c.typ == device.Type4 {
			ok, err = l.PresenceCheck(ctx)
			return err
		}
		_, err = l.InDataExchange(ctx, c.target.Tg, []byte{0x30, 0x00})
		var st Status
		if errors.As(err, &st) {
			return nil
		}
		ok = err == nil
		return err
	})
	return ok, err
}

// do runs fn on the card's link, holding the Device's operation lock,
// after checking that the link is the one the card was found on.
func (c *Card) do(ctx context.Context, fn func(context.Context, *Link) error) error {
	d := c.dev
	d.op.Lock()
	defer d.op.Unlock()
	ctx, cancel := d.opContext(ctx)
	defer cancel()
	if d.closed.Err() != nil {
		return ErrClosed
	}
	d.mu.Lock()
	stale := d.link != c.link || d.gen != c.gen
	d.mu.Unlock()
	if stale {
		return ErrStaleCard
	}
	if err := fn(ctx, c.link); err != nil {
		return d.fail(c.link, err)
	}
	return nil
}

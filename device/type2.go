package device

import (
	"context"
	"fmt"
)

// Type 2 tag memory: 4-byte pages, READ returns 16 bytes (4 pages).
const (
	pageSize      = 4
	readSize      = 16
	ccPage        = 3
	dataFirstPage = 4
)

// ReadType2 reads the NDEF message of an NFC Forum Type 2 tag: the
// capability container in page 3 (E1, version 1.x, data area size, free
// read access), then the TLVs from page 4 up to the first NDEF Message
// TLV, reading 16-byte blocks only as far as needed and never past the
// data area the CC declares.
func ReadType2(ctx context.Context, card Card) ([]byte, error) {
	b, err := readPage(ctx, card, ccPage)
	if err != nil {
		return nil, err
	}
	cc, err := ParseType2CC(b[:pageSize])
	if err != nil {
		return nil, err
	}
	// Pages 4..6 came with the CC read.
	m := &t2mem{ctx: ctx, card: card, buf: append(make([]byte, 0, cc.DataSize+readSize), b[pageSize:]...)}
	return findNDEFTLV(m.get, cc.DataSize)
}

// t2mem is a Type 2 data area read lazily from page 4 on.
type t2mem struct {
	ctx  context.Context
	card Card
	buf  []byte // the data area from page 4, as far as read
}

// get returns n bytes at off of the data area, reading pages as needed.
func (m *t2mem) get(off, n int) ([]byte, error) {
	for len(m.buf) < off+n {
		page := dataFirstPage + len(m.buf)/pageSize
		if page > 0xFF {
			return nil, fmt.Errorf("%w: data area beyond page 255", ErrTLV)
		}
		b, err := readPage(m.ctx, m.card, byte(page))
		if err != nil {
			return nil, err
		}
		m.buf = append(m.buf, b...)
	}
	return m.buf[off : off+n], nil
}

// readPage reads the 16 bytes from page n.
func readPage(ctx context.Context, card Card, n byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := card.ReadPage(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("device: read page %d: %w", n, err)
	}
	if len(b) < readSize {
		return nil, fmt.Errorf("device: read page %d: %d bytes, want %d", n, len(b), readSize)
	}
	return b[:readSize:readSize], nil
}

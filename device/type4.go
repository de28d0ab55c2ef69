package device

import (
	"context"
	"fmt"
)

// ndefAID is the NDEF Tag Application name (NFC Forum Type 4 Tag).
var ndefAID = []byte{0xD2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01}

// CCFileID is the file identifier of a Type 4 capability container.
const CCFileID = 0xE103

// maxChunk caps a READ BINARY's Le below MLe, which also keeps PN532
// frames short.
const maxChunk = 0xF0

// maxReadBinaryOffset is the largest offset READ BINARY (B0) can address
// in P1 P2 (bit 15 selects a short file ID).
const maxReadBinaryOffset = 0x7FFF

// ReadType4 reads the NDEF message of an NFC Forum Type 4 tag: SELECT the
// NDEF application, SELECT and read the capability container, SELECT the
// NDEF file the CC names, then read NLEN and the message in chunks of at
// most min(MLe, 0xF0) bytes. The NLEN read and the chunks are one run of
// READ BINARY commands with nothing in between, because an NTAG 424 DNA
// moves its SDM counter (and renews the SUN message) on the first read
// after any other command; ReadType4 reads the file once per call.
//
// A status word other than 90 00 is a *SWError naming the step; an
// answer shorter than a status word is ErrCardLeft.
func ReadType4(ctx context.Context, card Card) ([]byte, error) {
	sel := []byte{0x00, 0xA4, 0x04, 0x00, byte(len(ndefAID))}
	sel = append(append(sel, ndefAID...), 0x00)
	if _, err := transmit(ctx, card, "select NDEF application", sel, 0); err != nil {
		return nil, err
	}
	if err := selectFile(ctx, card, "select capability container", CCFileID); err != nil {
		return nil, err
	}
	b, err := readBinary(ctx, card, "read capability container", 0, CCSize)
	if err != nil {
		return nil, err
	}
	cc, err := ParseCC(b)
	if err != nil {
		return nil, err
	}
	if err := selectFile(ctx, card, "select NDEF file", cc.FileID); err != nil {
		return nil, err
	}
	// From here on only READ BINARY of the NDEF file, in one pass.
	b, err = readBinary(ctx, card, "read NLEN", 0, 2)
	if err != nil {
		return nil, err
	}
	nlen := int(be16(b))
	if nlen == 0 {
		return nil, ErrNoNDEF
	}
	if nlen > int(cc.MaxSize)-2 {
		return nil, fmt.Errorf("device: NLEN %d exceeds the NDEF file size %d less 2", nlen, cc.MaxSize)
	}
	chunk := min(int(cc.MLe), maxChunk)
	msg := make([]byte, 0, nlen)
	for len(msg) < nlen {
		off := 2 + len(msg)
		if off > maxReadBinaryOffset {
			return nil, fmt.Errorf("device: NDEF offset %d beyond READ BINARY's range", off)
		}
		b, err := readBinary(ctx, card, "read NDEF message", off, min(chunk, nlen-len(msg)))
		if err != nil {
			return nil, err
		}
		msg = append(msg, b...)
	}
	return msg, nil
}

// selectFile sends SELECT by file identifier, no FCI (P1=00 P2=0C).
func selectFile(ctx context.Context, card Card, op string, id uint16) error {
	_, err := transmit(ctx, card, op, []byte{0x00, 0xA4, 0x00, 0x0C, 0x02, byte(id >> 8), byte(id)}, 0)
	return err
}

// readBinary reads n (1..255) bytes at off of the selected file. The
// reads stay inside the file, so a tag answers exactly n bytes; fewer is
// an error too (a card dribbling out bytes would stall the reader).
func readBinary(ctx context.Context, card Card, op string, off, n int) ([]byte, error) {
	data, err := transmit(ctx, card, op, []byte{0x00, 0xB0, byte(off >> 8), byte(off), byte(n)}, n)
	if err != nil {
		return nil, err
	}
	if len(data) != n {
		return nil, fmt.Errorf("device: %s: %d bytes for Le %d", op, len(data), n)
	}
	return data, nil
}

// transmit sends one C-APDU and splits the answer into data and status
// word; maxData bounds the data a good answer may carry.
func transmit(ctx context.Context, card Card, op string, capdu []byte, maxData int) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r, err := card.Transmit(ctx, capdu)
	if err != nil {
		return nil, fmt.Errorf("device: %s: %w", op, err)
	}
	if len(r) < 2 {
		return nil, fmt.Errorf("device: %s: %w", op, ErrCardLeft)
	}
	if sw := be16(r[len(r)-2:]); sw != SWOK {
		return nil, &SWError{SW: sw, Op: op}
	}
	data := r[:len(r)-2]
	if len(data) > maxData {
		return nil, fmt.Errorf("device: %s: %d unexpected data bytes", op, len(data))
	}
	return data, nil
}

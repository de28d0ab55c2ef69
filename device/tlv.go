package device

import (
	"errors"
	"fmt"
)

// Type 2 tag TLV types (NFC Forum Type 2 Tag, §2.3).
const (
	tlvNull       = 0x00
	tlvLock       = 0x01 // Lock Control
	tlvMemory     = 0x02 // Memory Control
	tlvNDEF       = 0x03 // NDEF Message
	tlvTerminator = 0xFE
)

// ErrTLV: a TLV of a Type 2 tag's data area is malformed.
var ErrTLV = errors.New("device: malformed Type 2 TLV")

// byteSource returns n bytes at offset off of a data area; the caller
// keeps off+n within the area.
type byteSource func(off, n int) ([]byte, error)

// FindNDEFTLV returns the value of the first NDEF Message TLV (03) of a
// Type 2 data area (the bytes from page 4): NULL TLVs (00) are skipped,
// other TLVs (Lock Control 01, Memory Control 02, proprietary) are
// skipped by their length, and a Terminator (FE) or the end of the area
// before an NDEF TLV is ErrNoNDEF, as is an NDEF TLV of length 0.
func FindNDEFTLV(area []byte) ([]byte, error) {
	return findNDEFTLV(func(off, n int) ([]byte, error) { return area[off : off+n], nil }, len(area))
}

// findNDEFTLV is FindNDEFTLV over a lazily read area of size bytes.
func findNDEFTLV(get byteSource, size int) ([]byte, error) {
	for off := 0; off < size; {
		b, err := get(off, 1)
		if err != nil {
			return nil, err
		}
		t := b[0]
		switch t {
		case tlvNull:
			off++
			continue
		case tlvTerminator:
			return nil, ErrNoNDEF
		}
		if off+2 > size {
			return nil, fmt.Errorf("%w: TLV %02X at %d: no room for the length", ErrTLV, t, off)
		}
		if b, err = get(off+1, 1); err != nil {
			return nil, err
		}
		l, hdr := int(b[0]), 2
		if l == 0xFF {
			if off+4 > size {
				return nil, fmt.Errorf("%w: TLV %02X at %d: no room for the 3-byte length", ErrTLV, t, off)
			}
			if b, err = get(off+2, 2); err != nil {
				return nil, err
			}
			l, hdr = int(be16(b)), 4
			if l == 0xFFFF {
				return nil, fmt.Errorf("%w: TLV %02X at %d: reserved length FFFF", ErrTLV, t, off)
			}
		}
		start := off + hdr
		if l > size-start {
			return nil, fmt.Errorf("%w: TLV %02X at %d: length %d runs past the data area (%d bytes)", ErrTLV, t, off, l, size)
		}
		if t == tlvNDEF {
			if l == 0 {
				return nil, ErrNoNDEF
			}
			v, err := get(start, l)
			if err != nil {
				return nil, err
			}
			return append([]byte(nil), v...), nil
		}
		off = start + l
	}
	return nil, ErrNoNDEF
}

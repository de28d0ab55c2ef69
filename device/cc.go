package device

import (
	"errors"
	"fmt"
)

// ErrCC: the capability container is malformed or describes a tag tagd
// cannot read; a *CCError wraps it.
var ErrCC = errors.New("capability container")

// CCError is a capability container that tagd cannot use.
type CCError struct {
	Field  string // "CCLEN", "mapping version", "MLe", "NDEF file control TLV", …
	Detail string
}

// Error returns "device: capability container: FIELD: DETAIL".
func (e *CCError) Error() string {
	return fmt.Sprintf("device: capability container: %s: %s", e.Field, e.Detail)
}

// Unwrap returns ErrCC.
func (e *CCError) Unwrap() error { return ErrCC }

// ccErr builds a *CCError.
func ccErr(field, format string, a ...any) error {
	return &CCError{Field: field, Detail: fmt.Sprintf(format, a...)}
}

// CCSize is how many bytes of a Type 4 CC file ReadType4 reads: CCLEN,
// the mapping version, MLe, MLc and the NDEF File Control TLV.
const CCSize = 15

// CC is the capability container of a Type 4 tag (file E103).
type CC struct {
	Len         uint16 // CCLEN, the size of the CC file in use
	Version     byte   // mapping version, 0x20 for T4T 2.0
	MLe         uint16 // largest R-APDU data a READ BINARY may ask for
	MLc         uint16 // largest C-APDU data
	FileID      uint16 // NDEF file identifier, E104 on an NTAG 424 DNA
	MaxSize     uint16 // NDEF file size, NLEN included
	ReadAccess  byte   // 00: free
	WriteAccess byte   // 00: free, FF: never
}

// ParseCC parses the first 15 bytes of a Type 4 capability container
// (CCLEN, mapping version, MLe, MLc, NDEF File Control TLV 04 06) and
// checks that the NDEF file can be read without authentication.
func ParseCC(b []byte) (CC, error) {
	var c CC
	if len(b) < CCSize {
		return c, ccErr("CCLEN", "%d bytes, want %d", len(b), CCSize)
	}
	c.Len = be16(b[0:])
	c.Version = b[2]
	c.MLe = be16(b[3:])
	c.MLc = be16(b[5:])
	switch {
	case c.Len < CCSize || c.Len == 0xFFFF:
		return c, ccErr("CCLEN", "%04X", c.Len)
	case c.Version>>4 < 1 || c.Version>>4 > 3:
		return c, ccErr("mapping version", "%d.%d not supported", c.Version>>4, c.Version&0x0F)
	case c.MLe < 0x000F:
		return c, ccErr("MLe", "%d, at least 15", c.MLe)
	case c.MLc == 0:
		return c, ccErr("MLc", "0")
	case b[7] != 0x04 || b[8] != 0x06:
		return c, ccErr("NDEF file control TLV", "T=%02X L=%02X, want 04 06", b[7], b[8])
	}
	c.FileID = be16(b[9:])
	c.MaxSize = be16(b[11:])
	c.ReadAccess, c.WriteAccess = b[13], b[14]
	switch c.FileID {
	case 0x0000, 0xE102, 0xE103, 0x3F00, 0x3FFF, 0xFFFF:
		return c, ccErr("NDEF file ID", "%04X is reserved", c.FileID)
	}
	switch {
	case c.MaxSize < 3 || c.MaxSize == 0xFFFF:
		return c, ccErr("NDEF file size", "%d", c.MaxSize)
	case c.ReadAccess != 0x00:
		return c, ccErr("NDEF read access", "%02X, not free (00)", c.ReadAccess)
	}
	return c, nil
}

// Type2CC is the capability container of a Type 2 tag (page 3).
type Type2CC struct {
	Version  byte // mapping version, 0x10 for 1.0
	DataSize int  // bytes of the data area from page 4 (size byte × 8)
	Access   byte // high nibble read access (0: free), low nibble write
}

// ParseType2CC parses page 3 of a Type 2 tag: E1, version, size/8, access.
func ParseType2CC(b []byte) (Type2CC, error) {
	var c Type2CC
	if len(b) < 4 {
		return c, ccErr("page 3", "%d bytes, want 4", len(b))
	}
	if b[0] != 0xE1 {
		return c, ccErr("magic", "%02X, want E1 (no NDEF formatted tag)", b[0])
	}
	c.Version, c.DataSize, c.Access = b[1], int(b[2])*8, b[3]
	switch {
	case c.Version>>4 != 1:
		return c, ccErr("mapping version", "%d.%d not supported", c.Version>>4, c.Version&0x0F)
	case c.DataSize == 0:
		return c, ccErr("data area size", "0")
	case c.Access>>4 != 0:
		return c, ccErr("read access", "%X, not free (0)", c.Access>>4)
	}
	return c, nil
}

// be16 reads a big-endian uint16.
func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

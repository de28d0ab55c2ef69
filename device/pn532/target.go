package pn532

import (
	"bytes"
	"fmt"

	"github.com/tagd-nfc/tagd/device"
)

// SEL_RES (SAK) values that decide how a target is read.
const (
	// SAKISO14443_4 is the SEL_RES bit of an ISO 14443-4 target (NTAG 424
	// DNA, DESFire): APDUs through InDataExchange.
	SAKISO14443_4 byte = 0x20
	// SAKType2 is the SEL_RES of an NFC Forum Type 2 tag (NTAG21x,
	// Ultralight): READ 30 <page> through InDataExchange.
	SAKType2 byte = 0x00
)

// Target is one ISO 14443-A target from InListPassiveTarget.
type Target struct {
	Tg      byte    // the PN532's logical number for the target
	SENSRES [2]byte // ATQA, as the PN532 reports it
	SELRES  byte    // SAK
	NFCID   []byte  // the anticollision UID (4, 7 or 10 bytes)
	ATS     []byte  // the answer to select, length byte first (ISO 14443-4 only)
}

// Type says how to read the target: Type4 when SEL_RES has the ISO
// 14443-4 bit, Type2 when SEL_RES is 00, otherwise false.
func (t Target) Type() (device.TagType, bool) {
	switch {
	case t.SELRES&SAKISO14443_4 != 0:
		return device.Type4, true
	case t.SELRES == SAKType2:
		return device.Type2, true
	}
	return 0, false
}

// String formats the target for logs.
func (t Target) String() string {
	return fmt.Sprintf("Tg %d ATQA %02X%02X SAK %02X UID %X ATS %X", t.Tg, t.SENSRES[0], t.SENSRES[1], t.SELRES, t.NFCID, t.ATS)
}

// ParseTarget parses InListPassiveTarget's response data for 106 kbps
// type A: NbTg [Tg SENS_RES(2) SEL_RES NFCIDLength NFCID… ATS…]. It
// returns nil when NbTg is 0, and only the first target otherwise. The
// ATS is taken only for an ISO 14443-4 target, bounded by its length
// byte.
func ParseTarget(rsp []byte) (*Target, error) {
	if len(rsp) < 1 {
		return nil, fmt.Errorf("%w: InListPassiveTarget without NbTg", ErrBadResponse)
	}
	if rsp[0] == 0 {
		return nil, nil
	}
	p := rsp[1:]
	if len(p) < 5 {
		return nil, fmt.Errorf("%w: target data % X", ErrBadResponse, p)
	}
	t := &Target{Tg: p[0], SENSRES: [2]byte{p[1], p[2]}, SELRES: p[3]}
	n := int(p[4])
	p = p[5:]
	if n == 0 || n > 10 || len(p) < n {
		return nil, fmt.Errorf("%w: NFCID length %d with %d bytes left", ErrBadResponse, n, len(p))
	}
	t.NFCID = bytes.Clone(p[:n])
	p = p[n:]
	if t.SELRES&SAKISO14443_4 != 0 && len(p) > 0 {
		l := int(p[0])
		if l < 1 || l > len(p) {
			return nil, fmt.Errorf("%w: ATS length %d with %d bytes left", ErrBadResponse, l, len(p))
		}
		t.ATS = bytes.Clone(p[:l])
	}
	return t, nil
}

// AppendTarget appends the response data of InListPassiveTarget for t
// (NbTg 1 and the target) to dst; the simulator answers with it.
func AppendTarget(dst []byte, t Target) []byte {
	dst = append(dst, 1, t.Tg, t.SENSRES[0], t.SENSRES[1], t.SELRES, byte(len(t.NFCID)))
	dst = append(dst, t.NFCID...)
	return append(dst, t.ATS...)
}

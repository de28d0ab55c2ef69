package device

import (
	"errors"
	"fmt"
)

// ISO 7816-4 status words that a Type 4 tag (or the reader, for its own
// pseudo-APDUs) answers; see research/readers.md §1.1.
const (
	SWOK               uint16 = 0x9000 // success
	SWEndOfFile        uint16 = 0x6282 // end of file reached before Le bytes
	SWReaderFailed     uint16 = 0x6300 // reader pseudo-APDU failed (no tag answer)
	SWWrongLength      uint16 = 0x6700 // wrong length (Lc or Le)
	SWSecurity         uint16 = 0x6982 // security status not satisfied (read access not free)
	SWNoEFSelected     uint16 = 0x6986 // command not allowed: no EF selected
	SWFuncNotSupported uint16 = 0x6A81 // reader pseudo-APDU not supported
	SWNotFound         uint16 = 0x6A82 // application or file not found
	SWWrongP1P2        uint16 = 0x6A86 // incorrect P1 P2
	SWOffsetBeyondFile uint16 = 0x6B00 // offset beyond the end of the file
	SWINSNotSupported  uint16 = 0x6D00 // instruction not supported
	SWCLANotSupported  uint16 = 0x6E00 // class not supported
)

// swText explains the status words of research/readers.md §1.1.
var swText = map[uint16]string{
	SWEndOfFile:        "end of file reached before the requested length",
	SWReaderFailed:     "the reader's operation failed (no answer from the tag)",
	SWWrongLength:      "wrong length",
	SWSecurity:         "security status not satisfied (the file is not freely readable)",
	SWNoEFSelected:     "no file selected",
	SWFuncNotSupported: "function not supported by the reader",
	SWNotFound:         "application or file not found (not an NFC Forum Type 4 tag?)",
	SWWrongP1P2:        "wrong parameters P1 P2",
	SWOffsetBeyondFile: "offset beyond the end of the file",
	SWINSNotSupported:  "instruction not supported",
	SWCLANotSupported:  "class not supported",
}

// SWError is a status word other than 90 00 in answer to a C-APDU. Op
// names the step ("select NDEF application", "read NDEF file", …).
// errors.Is(err, &SWError{SW: x}) matches any SWError with status word x.
type SWError struct {
	SW uint16
	Op string
}

// Error returns "device: OP: status XXXX (meaning)".
func (e *SWError) Error() string {
	text, ok := swText[e.SW]
	if !ok {
		switch {
		case e.SW>>8 == 0x91:
			text = "native DESFire status (unexpected for an ISO command)"
		case e.SW>>8 == 0x6C:
			text = fmt.Sprintf("wrong Le, %d bytes available", e.SW&0xFF)
		case e.SW>>8 == 0x61:
			text = fmt.Sprintf("%d more bytes available (GET RESPONSE not supported)", e.SW&0xFF)
		default:
			text = "unexpected status word"
		}
	}
	return fmt.Sprintf("device: %s: status %04X (%s)", e.Op, e.SW, text)
}

// Is reports whether target is an *SWError with the same status word and
// no Op, or the same Op.
func (e *SWError) Is(target error) bool {
	t, ok := target.(*SWError)
	return ok && t.SW == e.SW && (t.Op == "" || t.Op == e.Op)
}

// Errors of a read.
var (
	// ErrCardLeft: the R-APDU is shorter than a status word, which is how
	// vpcd (and some readers) answer when the card leaves mid-exchange.
	ErrCardLeft = errors.New("device: card left during the exchange")
	// ErrNoNDEF: the tag holds no NDEF message (NLEN 0, no NDEF TLV, an
	// empty data area).
	ErrNoNDEF = errors.New("device: the tag holds no NDEF message")
	// ErrNoURI: the NDEF message holds no URI record.
	ErrNoURI = errors.New("device: no URI record in the NDEF message")
	// ErrTagType: the card is neither a Type 4 nor a Type 2 tag.
	ErrTagType = errors.New("device: unsupported tag type")
	// ErrReaderAbsent is what a driver wraps when the reader itself is
	// missing (unplugged, pcscd gone, serial port vanished); the loop then
	// reports the state "absent" rather than "error".
	ErrReaderAbsent = errors.New("device: reader absent")
)

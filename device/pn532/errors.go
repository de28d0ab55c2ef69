package pn532

import (
	"errors"
	"fmt"

	"github.com/tagd-nfc/tagd/device"
)

// Frame decoding errors.
var (
	// ErrTruncated: the bytes end inside a frame.
	ErrTruncated = errors.New("pn532: truncated frame")
	// ErrBadLCS: LEN + LCS is not 0 mod 256.
	ErrBadLCS = errors.New("pn532: bad length checksum (LCS)")
	// ErrBadDCS: TFI + data + DCS is not 0 mod 256.
	ErrBadDCS = errors.New("pn532: bad data checksum (DCS)")
	// ErrBadTFI: the frame identifier is neither D4, D5 nor an error frame.
	ErrBadTFI = errors.New("pn532: bad frame identifier (TFI)")
	// ErrBadLength: a frame with LEN 0 that is not an ACK.
	ErrBadLength = errors.New("pn532: frame length 0")
	// ErrFrameTooLong: more than 265 bytes (TFI + 264).
	ErrFrameTooLong = errors.New("pn532: frame too long")
)

// Protocol errors.
var (
	// ErrTimeout: the PN532 did not acknowledge or answer in time. The
	// command was aborted with an ACK.
	ErrTimeout = errors.New("pn532: timeout")
	// ErrNoACK: no ACK came after the command frame (wraps ErrTimeout).
	ErrNoACK = fmt.Errorf("%w waiting for the ACK", ErrTimeout)
	// ErrNACK: the PN532 kept answering the command with NACK.
	ErrNACK = errors.New("pn532: command refused with NACK")
	// ErrCorrupt: the response kept arriving damaged, NACKs did not help.
	ErrCorrupt = errors.New("pn532: response corrupted")
	// ErrSyntax: the PN532 answered with the application error frame.
	ErrSyntax = errors.New("pn532: application error frame (syntax error)")
	// ErrBadResponse: a response too short or inconsistent to parse.
	ErrBadResponse = errors.New("pn532: malformed response")
	// ErrPort: the serial port failed (peer vanished, I/O error); the
	// Device closes it and reopens it on the next NextCard.
	ErrPort = errors.New("pn532: serial port failed")
	// ErrClosed: the Device was closed.
	ErrClosed = errors.New("pn532: closed")
	// ErrStaleCard: the card belongs to a connection that has since been
	// reset or reopened.
	ErrStaleCard = errors.New("pn532: card from an earlier connection")
	// ErrTooLong: a C-APDU or response that does not fit the PN532.
	ErrTooLong = errors.New("pn532: data too long")
)

// Status is the status byte of InDataExchange (and of the other commands
// that report one), low 6 bits: 0 is success, the rest are errors. The
// named values are the ones a tag read meets. Statuses that mean the tag
// has left (Gone) match device.ErrCardLeft with errors.Is.
type Status byte

// Status codes (PN532 user manual, table "Error code list").
const (
	StatusOK            Status = 0x00 // success
	StatusTimeout       Status = 0x01 // the target did not answer (it left)
	StatusCRC           Status = 0x02 // CRC error
	StatusParity        Status = 0x03 // parity error
	StatusRFField       Status = 0x0A // RF field not switched on in time
	StatusRFProtocol    Status = 0x0B // RF protocol error
	StatusInvalidFrame  Status = 0x13 // invalid received frame
	StatusNotAcceptable Status = 0x27 // command not acceptable in this context
	StatusReleased      Status = 0x29 // target released by the initiator
	StatusCardGone      Status = 0x2B // the card has disappeared
)

// statusText names the status codes.
var statusText = map[Status]string{
	StatusTimeout:       "target timeout",
	StatusCRC:           "CRC error",
	StatusParity:        "parity error",
	0x04:                "erroneous bit count in anticollision",
	0x05:                "framing error",
	0x06:                "abnormal bit collision",
	0x07:                "communication buffer too small",
	0x09:                "RF buffer overflow",
	StatusRFField:       "RF field not switched on in time",
	StatusRFProtocol:    "RF protocol error",
	0x0D:                "overheating",
	0x0E:                "internal buffer overflow",
	0x10:                "invalid parameter",
	0x12:                "DEP command not supported",
	StatusInvalidFrame:  "invalid received frame",
	0x14:                "MIFARE authentication error",
	0x23:                "wrong UID check byte",
	0x25:                "invalid device state",
	0x26:                "operation not allowed",
	StatusNotAcceptable: "command not acceptable in this context",
	StatusReleased:      "target released",
	0x2A:                "card ID mismatch",
	StatusCardGone:      "card disappeared",
	0x2C:                "NFCID3 mismatch",
	0x2D:                "over-current",
	0x2E:                "NAD missing",
}

// Error describes the status.
func (s Status) Error() string {
	if t, ok := statusText[s]; ok {
		return fmt.Sprintf("pn532: status %02X (%s)", byte(s), t)
	}
	return fmt.Sprintf("pn532: status %02X", byte(s))
}

// Gone reports whether the status means the tag is no longer there.
func (s Status) Gone() bool {
	return s == StatusTimeout || s == StatusReleased || s == StatusCardGone
}

// Is makes errors.Is(s, device.ErrCardLeft) true when the tag has left.
func (s Status) Is(target error) bool {
	return target == device.ErrCardLeft && s.Gone()
}

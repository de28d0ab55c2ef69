// Package device turns taps on an NFC reader into tag URLs: the reader
// loop (reconnect with back-off, one read per tag presence), NDEF reading
// for NFC Forum Type 4 (ISO 7816-4 APDUs) and Type 2 tags (16-byte page
// reads), NDEF and URI record parsing, and the small driver interface the
// loop consumes. The drivers live in device/pcsc (PC/SC), device/pn532
// with device/serial (a PN532 on a UART, or a line reader), and
// device/sim (a simulated reader and virtual NTAG 424 DNA).
package device

import (
	"context"
	"time"
)

// TagType is the NFC Forum type of a tag in the field.
type TagType uint8

// Tag types.
const (
	Type4 TagType = 4 // ISO 14443-4, ISO 7816-4 APDUs (NTAG 424 DNA, DESFire)
	Type2 TagType = 2 // 4-byte pages, READ returns 16 bytes (NTAG21x, Ultralight)
)

// Card is a tag in a reader's field, for one tap.
type Card interface {
	// Type says how to read the tag.
	Type() TagType
	// UID is the anticollision UID, when the reader reports it (else nil).
	UID() []byte
	// Transmit sends a C-APDU to a Type 4 tag and returns the R-APDU
	// (data followed by SW1 SW2).
	Transmit(ctx context.Context, apdu []byte) ([]byte, error)
	// ReadPage reads 16 bytes starting at page n of a Type 2 tag.
	ReadPage(ctx context.Context, n byte) ([]byte, error)
}

// Driver is a reader that presents cards.
type Driver interface {
	// Name names the reader (for logs, scan sources and the kiosk).
	Name() string
	// NextCard blocks until a tag enters the field and returns it, or
	// returns an error: the loop reports it, backs off and calls again, so
	// the driver re-establishes its connection (pcscd restarted, reader
	// re-plugged, serial port back) on the next call.
	NextCard(ctx context.Context) (Card, error)
	// Release ends the tap: it waits until the tag has left the field (so
	// that a tag left on the reader is read once), then frees the card.
	Release(ctx context.Context, c Card) error
	// Close releases the reader; a blocked NextCard returns.
	Close() error
}

// LineSource is a reader that sends one URL or UID per line (a
// keyboard-wedge style serial reader or a microcontroller bridge).
type LineSource interface {
	Name() string
	// NextLine blocks until a whole line arrives.
	NextLine(ctx context.Context) (string, error)
	Close() error
}

// Tap is one read: the tag's NDEF URL (or, from a line reader, a line
// that holds a URL or a UID).
type Tap struct {
	Reader string
	URL    string // the URI of the first URI record, "" if none
	UID    string // uppercase hex, when known
	Time   time.Time
}

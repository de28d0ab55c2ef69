package pcsc

import (
	"errors"
	"fmt"

	"github.com/ebfe/scard"
	"github.com/tagd-nfc/tagd/device"
)

// ErrClosed is returned by a Reader's methods after Close.
var ErrClosed = errors.New("pcsc: reader closed")

// Error is a failure of the PC/SC stack, in plain words: Error() reads
// like "pcsc: wait for a tag: pcscd is not running (SCARD_E_NO_SERVICE)",
// which is what the kiosk shows as the reader's status detail.
//
// errors.Is(err, device.ErrReaderAbsent) holds when pcscd or the reader is
// gone (the device loop then reports the reader absent), and
// errors.Is(err, device.ErrCardLeft) when the tag left during the
// exchange.
type Error struct {
	// Op is what the Reader was doing: "establish context", "list
	// readers", "wait for a tag", "connect", "transmit", …
	Op string
	// Code is the PC/SC return code (SCARD_E_…, SCARD_F_…, SCARD_W_…),
	// 0 when the failure did not come from PC/SC.
	Code uint32
	// Text says what went wrong in plain words.
	Text string

	kind error // device.ErrReaderAbsent, device.ErrCardLeft or nil
}

// Error returns "pcsc: OP: TEXT (SCARD_NAME)".
func (e *Error) Error() string {
	s := "pcsc: " + e.Op + ": " + e.Text
	if e.Code != 0 {
		s += " (" + codeName(scard.Error(e.Code)) + ")"
	}
	return s
}

// Unwrap returns the scard.Error and the device error the failure
// stands for.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Code != 0 {
		errs = append(errs, scard.Error(e.Code))
	}
	if e.kind != nil {
		errs = append(errs, e.kind)
	}
	return errs
}

// scardError turns an error from the scard package into an *Error naming
// op; other errors are wrapped as they are.
func scardError(op string, err error) error {
	var code scard.Error
	if !errors.As(err, &code) {
		return fmt.Errorf("pcsc: %s: %w", op, err)
	}
	w := words[code]
	text := w.text
	if text == "" {
		text = code.Error() // pcsc_stringify_error, e.g. "scard: Internal error."
	}
	return &Error{Op: op, Code: uint32(code), Text: text, kind: w.kind}
}

// serviceLost reports whether err means that the PC/SC context is dead
// (pcscd stopped, was killed or restarted): the context must be released
// and established again. libpcsclite 1.9.9 reports a connection that pcscd
// reset as SCARD_W_SECURITY_VIOLATION (its answer to a polkit refusal);
// a pcscd killed while a client waits resets it too, so that code is
// counted here (and SCARD_F_COMM_ERROR is what a plainly closed one
// gives).
func serviceLost(err error) bool {
	return errors.Is(err, scard.ErrNoService) || errors.Is(err, scard.ErrServiceStopped) ||
		errors.Is(err, scard.ErrCommError) || errors.Is(err, scard.ErrInvalidHandle) ||
		errors.Is(err, scard.ErrShutdown) || errors.Is(err, scard.ErrSecurityViolation)
}

// readerLost reports whether err means that the reader is gone
// (unplugged): the reader list must be read again.
func readerLost(err error) bool {
	return errors.Is(err, scard.ErrUnknownReader) || errors.Is(err, scard.ErrReaderUnavailable) ||
		errors.Is(err, scard.ErrNoReadersAvailable)
}

// cardLost reports whether err means that the tag is no longer there (or
// not yet answering).
func cardLost(err error) bool {
	return errors.Is(err, scard.ErrRemovedCard) || errors.Is(err, scard.ErrResetCard) ||
		errors.Is(err, scard.ErrNoSmartcard) || errors.Is(err, scard.ErrUnresponsiveCard) ||
		errors.Is(err, scard.ErrUnpoweredCard)
}

type word struct {
	name string
	text string
	kind error
}

// words names the PC/SC return codes that a reader loop meets
// (research/readers.md §1.5) and says what they mean for a tag reader.
var words = map[scard.Error]word{
	scard.ErrNoService:          {"SCARD_E_NO_SERVICE", "pcscd is not running", device.ErrReaderAbsent},
	scard.ErrServiceStopped:     {"SCARD_E_SERVICE_STOPPED", "pcscd stopped", device.ErrReaderAbsent},
	scard.ErrCommError:          {"SCARD_F_COMM_ERROR", "lost the connection to pcscd (killed or restarted?)", device.ErrReaderAbsent},
	scard.ErrInvalidHandle:      {"SCARD_E_INVALID_HANDLE", "the PC/SC handle is no longer valid (pcscd restarted?)", device.ErrReaderAbsent},
	scard.ErrShutdown:           {"SCARD_P_SHUTDOWN", "pcscd is shutting down", device.ErrReaderAbsent},
	scard.ErrSecurityViolation:  {"SCARD_W_SECURITY_VIOLATION", "pcscd reset the connection (killed, or access denied by polkit)", device.ErrReaderAbsent},
	scard.ErrNoReadersAvailable: {"SCARD_E_NO_READERS_AVAILABLE", "no reader is connected", device.ErrReaderAbsent},
	scard.ErrUnknownReader:      {"SCARD_E_UNKNOWN_READER", "the reader is gone (unplugged?)", device.ErrReaderAbsent},
	scard.ErrReaderUnavailable:  {"SCARD_E_READER_UNAVAILABLE", "the reader is unavailable (unplugged?)", device.ErrReaderAbsent},
	scard.ErrRemovedCard:        {"SCARD_W_REMOVED_CARD", "the tag left the reader", device.ErrCardLeft},
	scard.ErrResetCard:          {"SCARD_W_RESET_CARD", "the tag was reset", device.ErrCardLeft},
	scard.ErrNoSmartcard:        {"SCARD_E_NO_SMARTCARD", "no tag on the reader", device.ErrCardLeft},
	scard.ErrUnresponsiveCard:   {"SCARD_W_UNRESPONSIVE_CARD", "the tag does not answer", device.ErrCardLeft},
	scard.ErrUnpoweredCard:      {"SCARD_W_UNPOWERED_CARD", "the tag is not powered", device.ErrCardLeft},
	scard.ErrSharingViolation:   {"SCARD_E_SHARING_VIOLATION", "another program is using the reader (stop it, or run one tagd only)", nil},
	scard.ErrTimeout:            {"SCARD_E_TIMEOUT", "timed out", nil},
	scard.ErrCancelled:          {"SCARD_E_CANCELLED", "cancelled", nil},
	scard.ErrNotTransacted:      {"SCARD_E_NOT_TRANSACTED", "the reader did not complete the exchange", nil},
	scard.ErrProtoMismatch:      {"SCARD_E_PROTO_MISMATCH", "the tag does not speak the requested protocol", nil},
	scard.ErrUnsupportedCard:    {"SCARD_W_UNSUPPORTED_CARD", "the tag is not supported", nil},
	scard.ErrCardUnsupported:    {"SCARD_E_CARD_UNSUPPORTED", "the tag is not supported", nil},
	scard.ErrInsufficientBuffer: {"SCARD_E_INSUFFICIENT_BUFFER", "the answer is too long", nil},
	scard.ErrInvalidParameter:   {"SCARD_E_INVALID_PARAMETER", "invalid parameter", nil},
	scard.ErrInvalidValue:       {"SCARD_E_INVALID_VALUE", "invalid value", nil},
	scard.ErrNoMemory:           {"SCARD_E_NO_MEMORY", "out of memory", nil},
	scard.ErrInternalError:      {"SCARD_F_INTERNAL_ERROR", "internal PC/SC error", nil},
	scard.ErrUnknownError:       {"SCARD_F_UNKNOWN_ERROR", "unknown PC/SC error", nil},
	scard.ErrServerTooBusy:      {"SCARD_E_SERVER_TOO_BUSY", "pcscd is too busy", nil},
	scard.ErrUnexpected:         {"SCARD_E_UNEXPECTED", "unexpected PC/SC failure", nil},
}

// codeName returns the SCARD_… name of a return code, or its hex value.
func codeName(code scard.Error) string {
	if w, ok := words[code]; ok {
		return w.name
	}
	return fmt.Sprintf("0x%08X", uint32(code))
}

package tagd

import (
	"errors"
	"fmt"
)

// Code is a machine-readable error code. Every error the appliance reports
// carries one; adapters translate codes to their transport (HTTP statuses,
// exit codes, kiosk verdicts) in exactly one place each.
type Code string

// Verdict reasons: why a tap or a SUN message was not accepted. The strings
// are part of the public contract (JSON output, scan log, vectors).
const (
	// CodeMACMismatch: the SDMMAC does not match the MAC computed with the
	// tag's file key over the MAC input.
	CodeMACMismatch Code = "mac_mismatch"
	// CodePICCInvalid: the encrypted PICCData did not decrypt to a valid
	// PICCDataTag under the meta key.
	CodePICCInvalid Code = "picc_invalid"
	// CodeReplay: the counter is not greater than the last accepted one.
	CodeReplay Code = "replay"
	// CodeBadParam: a parameter is missing, of the wrong length or not hex.
	CodeBadParam Code = "bad_param"
	// CodeModeNotAllowed: the message uses a mode (AES or LRP) that the
	// profile does not allow.
	CodeModeNotAllowed Code = "mode_not_allowed"
	// CodeUnknownTag: no tag in the store matches the message.
	CodeUnknownTag Code = "unknown_tag"
)

// General codes for everything that is not a verdict.
const (
	// CodeInvalid: the request or input is malformed.
	CodeInvalid Code = "invalid"
	// CodeNotFound: the named object does not exist.
	CodeNotFound Code = "not_found"
	// CodeConflict: the change conflicts with existing state.
	CodeConflict Code = "conflict"
	// CodeInternal: a fault inside the appliance; details are logged, not shown.
	CodeInternal Code = "internal"
)

// VerdictCodes returns the verdict reasons in a stable order.
func VerdictCodes() []Code {
	return []Code{CodeMACMismatch, CodePICCInvalid, CodeReplay, CodeBadParam, CodeModeNotAllowed, CodeUnknownTag}
}

// Error is an error with a code and a message that is safe to show to the
// caller: it never contains key material or secrets.
type Error struct {
	Code    Code
	Message string
	// Field names the input or object concerned, if any (for CodeNotFound:
	// "aid", "xuid", "cuid", "uid", …).
	Field string
}

// Error implements the error interface.
func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFound returns a CodeNotFound error for the named kind of object.
func NotFound(field, format string, args ...any) *Error {
	return &Error{Code: CodeNotFound, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err: the Code of an *Error in its chain, the
// value of an ErrorCode() string method (as the sun package's errors have),
// CodeInternal for any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var c interface{ ErrorCode() string }
	if errors.As(err, &c) {
		return Code(c.ErrorCode())
	}
	return CodeInternal
}

package sun

import "fmt"

// Verdict codes. They are the same strings as the tagd package's verdict
// reasons and the `error` values of the test vectors.
const (
	CodeMACMismatch    = "mac_mismatch"
	CodePICCInvalid    = "picc_invalid"
	CodeReplay         = "replay"
	CodeBadParam       = "bad_param"
	CodeModeNotAllowed = "mode_not_allowed"
)

// Steps of a verification, named in errors so that an operator can see
// where a check stopped.
const (
	StepParse   = "parse"
	StepPICC    = "picc"
	StepKey     = "key"
	StepMAC     = "mac"
	StepFile    = "file"
	StepCounter = "counter"
)

// Error is a failed verification: a verdict code, the step that failed, a
// short message and a hint for the operator. None of its fields ever holds
// key material.
type Error struct {
	Code    string // one of the Code constants
	Step    string // one of the Step constants
	Field   string // the parameter or flag concerned, if any
	Message string // what was wrong
	Hint    string // the likely cause, in the operator's terms
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// ErrorCode returns the verdict code, so that callers can classify the
// error without importing this package.
func (e *Error) ErrorCode() string { return e.Code }

// badParam returns a bad_param error for a field.
func badParam(field, hint, format string, args ...any) *Error {
	return &Error{Code: CodeBadParam, Step: StepParse, Field: field, Message: fmt.Sprintf(format, args...), Hint: hint}
}

// errKeyLength reports a key of the wrong length without showing it.
func errKeyLength(n int) *Error {
	return &Error{Code: CodeBadParam, Step: StepKey, Field: "key", Message: fmt.Sprintf("key is %d bytes; AES keys are 16 bytes (32 hex characters)", n)}
}

package httpapi

import (
	"errors"
	"net/http"
	"slices"

	"github.com/tagd-nfc/tagd"
)

// statusOf is the one translation of tagd error codes to HTTP statuses,
// for the appliance API under /api/v1. (The Response API, /v1/t, answers
// 200 whatever the outcome, as ixkio does.) A code it does not know is a
// fault: 500.
func statusOf(code tagd.Code) int {
	switch code {
	case tagd.CodeInvalid:
		return http.StatusBadRequest
	case tagd.CodeNotFound:
		return http.StatusNotFound
	case tagd.CodeConflict:
		return http.StatusConflict
	case tagd.CodeInternal:
		return http.StatusInternalServerError
	case CodeMissingAPIKey: // API-key errors (auth.go, SPEC §7)
		return http.StatusBadRequest
	case CodeInvalidAPIKey, CodeSecretRequired, CodeInvalidSecret, CodeAPIKeyDisabled, CodeAPIKeyExpired, CodeCompanyAPIDisabled:
		return http.StatusUnauthorized
	case CodeIPNotAuthorized, CodeInsufficientScope:
		return http.StatusForbidden
	case CodeRateLimited:
		return http.StatusTooManyRequests
	}
	if slices.Contains(tagd.VerdictCodes(), code) {
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// internalMessage replaces the message of internal errors: their details
// go to the log, not to the caller.
const internalMessage = "internal error"

// writeError answers an appliance API request with err's status and
// {"Code":"…","Message":"…"}. Errors without a code are internal: they are
// logged and the caller sees only "internal error".
func (s *Server) writeError(w http.ResponseWriter, err error) {
	code := tagd.ErrorCode(err)
	if code == "" { // a nil error here is a bug in the caller
		code = tagd.CodeInternal
	}
	msg := internalMessage
	if code == tagd.CodeInternal {
		s.logger().Error("internal error", "err", err)
	} else {
		var e *tagd.Error
		if errors.As(err, &e) {
			msg = e.Message
		} else {
			msg = err.Error()
		}
	}
	writeCodeMessage(w, statusOf(code), code, msg)
}

// writeCodeMessage writes the appliance API's error body with a status.
// Besides writeError, only transport-level refusals (405, 414) use it
// directly: their status comes from HTTP, not from a code.
func writeCodeMessage(w http.ResponseWriter, status int, code tagd.Code, msg string) {
	b := make([]byte, 0, 32+len(code)+len(msg))
	b = append(b, `{"Code":`...)
	b = appendString(b, string(code))
	b = append(b, `,"Message":`...)
	b = appendString(b, msg)
	b = append(b, '}')
	writeJSON(w, status, b)
}

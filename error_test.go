package tagd_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/sun"
)

// TestErrorCode checks the code extraction for each kind of error.
func TestErrorCode(t *testing.T) {
	wrapped := fmt.Errorf("lookup: %w", tagd.Errorf(tagd.CodeNotFound, "tag %q", "x"))
	for _, tc := range []struct {
		err  error
		want tagd.Code
	}{
		{nil, ""},
		{errors.New("disk on fire"), tagd.CodeInternal},
		{wrapped, tagd.CodeNotFound},
		{&sun.Error{Code: sun.CodeReplay}, tagd.CodeReplay},
		{fmt.Errorf("tap: %w", &sun.Error{Code: sun.CodeMACMismatch}), tagd.CodeMACMismatch},
	} {
		if got := tagd.ErrorCode(tc.err); got != tc.want {
			t.Errorf("ErrorCode(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// TestSunCodesAreVerdicts checks that every code the sun package returns
// is one of the appliance's verdict reasons, spelled the same.
func TestSunCodesAreVerdicts(t *testing.T) {
	known := map[tagd.Code]bool{}
	for _, c := range tagd.VerdictCodes() {
		known[c] = true
	}
	for _, c := range []string{sun.CodeMACMismatch, sun.CodePICCInvalid, sun.CodeReplay, sun.CodeBadParam, sun.CodeModeNotAllowed} {
		if !known[tagd.Code(c)] {
			t.Errorf("sun code %q is not a tagd verdict code", c)
		}
	}
	if len(known) != 6 || !known["unknown_tag"] {
		t.Errorf("verdict codes %v, want the six of SPEC §4", tagd.VerdictCodes())
	}
}

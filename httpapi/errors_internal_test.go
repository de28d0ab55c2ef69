package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tagd-nfc/tagd"
)

func TestStatusOf(t *testing.T) {
	for _, tt := range []struct {
		code tagd.Code
		want int
	}{
		{tagd.CodeInvalid, 400},
		{tagd.CodeNotFound, 404},
		{tagd.CodeConflict, 409},
		{tagd.CodeInternal, 500},
		{tagd.CodeMACMismatch, 422},
		{tagd.CodePICCInvalid, 422},
		{tagd.CodeReplay, 422},
		{tagd.CodeBadParam, 422},
		{tagd.CodeModeNotAllowed, 422},
		{tagd.CodeUnknownTag, 422},
		{"", 500},
		{"no_such_code", 500},
	} {
		if got := statusOf(tt.code); got != tt.want {
			t.Errorf("statusOf(%q) = %d, want %d", tt.code, got, tt.want)
		}
	}
	// Every verdict code, including any added later, is a 422.
	for _, c := range tagd.VerdictCodes() {
		if got := statusOf(c); got != http.StatusUnprocessableEntity {
			t.Errorf("statusOf(%q) = %d, want 422", c, got)
		}
	}
}

// codedErr is an error with an ErrorCode method, as the sun package's
// errors have.
type codedErr struct{ code, msg string }

func (e *codedErr) Error() string     { return e.code + ": " + e.msg }
func (e *codedErr) ErrorCode() string { return e.code }

func TestServer_writeError(t *testing.T) {
	for _, tt := range []struct {
		name   string
		err    error
		status int
		body   string
		logged bool
	}{
		{"Invalid", tagd.Errorf(tagd.CodeInvalid, "name %q is too long", "x<y"), 400,
			`{"Code":"invalid","Message":"name \"x\u003cy\" is too long"}`, false},
		{"NotFound", tagd.NotFound("xuid", "no tag q8w3sbcz"), 404, `{"Code":"not_found","Message":"no tag q8w3sbcz"}`, false},
		{"Wrapped", fmt.Errorf("import: %w", tagd.Errorf(tagd.CodeConflict, "XUID exists")), 409,
			`{"Code":"conflict","Message":"XUID exists"}`, false},
		{"Verdict", &codedErr{"mac_mismatch", "cmac does not verify"}, 422,
			`{"Code":"mac_mismatch","Message":"mac_mismatch: cmac does not verify"}`, false},
		{"Unknown", tagd.Errorf("brand_new", "something"), 500, `{"Code":"brand_new","Message":"something"}`, false},
		{"Internal", tagd.Errorf(tagd.CodeInternal, "bolt: page 7 corrupt"), 500,
			`{"Code":"internal","Message":"internal error"}`, true},
		{"Plain", errors.New("open /var/lib/tagd/tagd.db: permission denied"), 500,
			`{"Code":"internal","Message":"internal error"}`, true},
		{"Nil", nil, 500, `{"Code":"internal","Message":"internal error"}`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			s := &Server{Logger: slog.New(slog.NewTextHandler(&log, nil))}
			w := httptest.NewRecorder()
			s.writeError(w, tt.err)
			if w.Code != tt.status || w.Body.String() != tt.body {
				t.Fatalf("%d %s, want %d %s", w.Code, w.Body, tt.status, tt.body)
			}
			if got := w.Header().Get("Content-Type"); got != "application/json" {
				t.Fatalf("Content-Type %q", got)
			}
			if got := log.Len() > 0; got != tt.logged {
				t.Fatalf("logged %v, want %v: %s", got, tt.logged, log.String())
			}
			if tt.logged && tt.err != nil && !strings.Contains(log.String(), tt.err.Error()) {
				t.Fatalf("log lacks the error: %s", log.String())
			}
		})
	}
}

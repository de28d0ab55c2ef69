package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/internal/testclock"
)

// docsAPI is the API reference whose curl examples TestAPIDocExamples runs.
const docsAPI = "../../docs/API.md"

// docsClosedAID is the account, made for the examples, whose API access
// is turned off.
const docsClosedAID = "closed"

// minAPIDocExamples guards against a change of format that would make the
// parser silently find nothing to run.
const minAPIDocExamples = 30

// wildMatch reports whether got matches pattern, where each "…" in pattern
// stands for any run of characters other than a newline, and everything
// else must match exactly.
func wildMatch(pattern, got string) bool {
	parts := strings.Split(pattern, "…")
	if len(parts) == 1 {
		return pattern == got
	}
	if !strings.HasPrefix(got, parts[0]) {
		return false
	}
	got = got[len(parts[0]):]
	for i, p := range parts[1:] {
		last := i == len(parts)-2
		if last {
			if !strings.HasSuffix(got, p) {
				return false
			}
			return !strings.Contains(got[:len(got)-len(p)], "\n")
		}
		k := strings.Index(got, p)
		if k < 0 || strings.Contains(got[:k], "\n") {
			return false
		}
		got = got[k+len(p):]
	}
	return true
}

func TestWildMatch(t *testing.T) {
	for _, tc := range []struct {
		pat, got string
		want     bool
	}{
		{"abc", "abc", true},
		{"abc", "abd", false},
		{`{"id":"…"}`, `{"id":"x1"}`, true},
		{`{"id":"…"}`, `{"id":"x1"}!`, false},
		{`a…b…c`, `aXXbYYc`, true},
		{`a…c`, "a\nc", false},
		{`a…`, "a12", true},
		{`…`, "", true},
	} {
		if got := wildMatch(tc.pat, tc.got); got != tc.want {
			t.Errorf("wildMatch(%q, %q) = %v", tc.pat, tc.got, got)
		}
	}
}

// TestAPIDocExamples runs every curl example of docs/API.md, in order,
// against an appliance on the demo data with HTTPS on the loopback, an
// admin API key made with `tagd apikey create` and the keys of the
// API-key error examples (expired, of an account with API access off,
// restricted to other addresses), and compares curl's stdout with the
// documented output ("…" matches anything within a line).
func TestAPIDocExamples(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed: the docs/API.md examples need the curl binary")
	}
	b, err := os.ReadFile(docsAPI)
	if err != nil {
		t.Fatal(err)
	}
	examples, err := parseDocExamples(string(b), "curl")
	if err != nil {
		t.Fatalf("%s: %v", docsAPI, err)
	}
	if len(examples) < minAPIDocExamples {
		t.Fatalf("%s: found %d examples, want at least %d; is the ```sh / \"$ curl\" format intact?", docsAPI, len(examples), minAPIDocExamples)
	}
	dir := t.TempDir()
	// Besides the demo data: an account with API access turned off, for
	// COMPANY_API_DISABLED.
	db := prepareData(t, dir)
	if err := db.CreateAccount(context.Background(), tagd.Account{AID: docsClosedAID, Name: "Closed", APIDisabled: true}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// The appliance runs on a clock that stands still during an example
	// and moves one minute before each (clock.Add below): every key's
	// bucket is full at the start of an example and empties only within
	// it, so that RATE_LIMITED and its Retry-After are the same on every
	// run. The config gives each key a burst of 3 requests.
	clock := testclock.New(time.Now().Truncate(time.Second))
	cfg := filepath.Join(t.TempDir(), "tagd.json")
	if err := os.WriteFile(cfg, []byte(`{"api_key_burst":3}`), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startApplianceAt(t, dir, clock.Now, "--demo", "--https", "127.0.0.1:0", "--config", cfg)
	if a.tlsBase == "" {
		t.Fatal("no HTTPS listener")
	}
	key := createKey(t, dir, "--name", "docs", "--scope", "admin")
	// valid now, expired from the first example on
	expired := createKey(t, dir, "--name", "expiring", "--expires", clock.Now().Add(30*time.Second).Format(time.RFC3339))
	closed := createKey(t, dir, "--name", "closed", "--account", docsClosedAID)
	fenced := createKey(t, dir, "--name", "fenced", "--allow-ip", "192.0.2.0/24")
	vars := []struct{ name, val string }{ // ${NAME} first, then longest names first
		{"${TAGD_LAN}", a.tlsBase},
		{"${TAGD}", a.base},
		{"${EXPIRED_KEY}", expired.Key},
		{"${CLOSED_KEY}", closed.Key},
		{"${FENCED_KEY}", fenced.Key},
		{"${KEY_ID}", key.ID},
		{"${KEY}", key.Key},
		{"${SOCK}", filepath.Join(dir, sockFile)},
		{"${CA}", filepath.Join(dir, certFile)},
		{"$TAGD_LAN", a.tlsBase},
		{"$TAGD", a.base},
		{"$EXPIRED_KEY", expired.Key},
		{"$CLOSED_KEY", closed.Key},
		{"$FENCED_KEY", fenced.Key},
		{"$KEY_ID", key.ID},
		{"$KEY", key.Key},
		{"$SOCK", filepath.Join(dir, sockFile)},
		{"$CA", filepath.Join(dir, certFile)},
	}
	// TAGD_APIDOC_RECORD=FILE writes what curl printed, by line of the
	// document, to FILE (JSON), for updating the document.
	record := os.Getenv("TAGD_APIDOC_RECORD")
	recorded := map[int]string{}
	if record != "" {
		defer func() {
			b, _ := json.Marshal(recorded)
			if err := os.WriteFile(record, b, 0o644); err != nil {
				t.Error(err)
			}
		}()
	}
	for _, ex := range examples {
		clock.Add(time.Minute)
		cmd := ex.cmd
		for _, v := range vars {
			cmd = strings.ReplaceAll(cmd, v.name, v.val)
		}
		args, err := splitShell(cmd)
		if err != nil {
			t.Fatalf("%s:%d: %v\n%s", docsAPI, ex.line, err, ex.cmd)
		}
		if len(args) < 2 || args[0] != "curl" || args[1] != "-s" {
			t.Fatalf("%s:%d: examples must start with \"curl -s\": %s", docsAPI, ex.line, ex.cmd)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		c := exec.CommandContext(ctx, curl, args[1:]...)
		c.Dir = dir
		var stdout, stderr bytes.Buffer
		c.Stdout, c.Stderr = &stdout, &stderr
		runErr := c.Run()
		cancel()
		// Header dumps (-D -) end their lines with CRLF; the document
		// shows them with plain newlines.
		got := strings.TrimRight(strings.ReplaceAll(stdout.String(), "\r\n", "\n"), "\n")
		want := strings.TrimRight(ex.want, "\n")
		if record != "" {
			recorded[ex.line] = got
		}
		if !wildMatch(want, got) {
			t.Errorf("%s:%d: $ %s\n(curl: %v, stderr %q)\ngot:\n%s\nwant:\n%s", docsAPI, ex.line, ex.cmd, runErr, stderr.String(), got, want)
		}
	}
}

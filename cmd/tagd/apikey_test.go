package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/httpapi"
	"github.com/tagd-nfc/tagd/internal/syncbuf"
	"github.com/tagd-nfc/tagd/internal/testclock"
)

// startApplianceAt runs `tagd run` on dir with loopback listeners on free
// ports, no reader (unless args name one) and the clock now (the real one
// when nil), and stops it when the test ends.
func startApplianceAt(t *testing.T, dir string, now func() time.Time, args ...string) *appliance {
	t.Helper()
	a := &appliance{dir: dir, stdout: &syncbuf.Buffer{}, logs: &syncbuf.Buffer{}}
	ready := make(chan struct{})
	m := &Main{Stdout: a.stdout, Stderr: a.logs, Ready: ready}
	all := append([]string{"run", "--data", dir, "--http", "127.0.0.1:0", "--https", "", "--reader", "none"}, args...)
	if err := m.ParseFlags(all); err != nil {
		t.Fatal(err)
	}
	rc := m.cmd.(*runCmd)
	if now != nil {
		rc.now = now
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- m.Run(ctx) }()
	select {
	case <-ready:
	case err := <-errc:
		cancel()
		t.Fatalf("tagd run: %v\n%s", err, a.logs.String())
	}
	a.events = rc.events
	a.base = "http://" + rc.httpAddr
	if rc.httpsAddr != "" {
		a.tlsBase = "https://" + rc.httpsAddr
	}
	var once sync.Once
	a.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("tagd run ended with %v", err)
			}
			m.Close()
		})
	}
	t.Cleanup(a.stop)
	return a
}

// trusting returns an HTTPS client that trusts only the certificate
// `tagd init` wrote to dir.
func trusting(t *testing.T, dir string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(dir, certFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("no certificate in tls.crt")
	}
	cl := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}, Timeout: 30 * time.Second}
	t.Cleanup(cl.CloseIdleConnections)
	return cl
}

// keyAnswer is an HTTP answer.
type keyAnswer struct {
	status int
	header http.Header
	body   string
}

// call sends GET url with the header pairs.
func call(t *testing.T, cl *http.Client, url string, hdr ...string) keyAnswer {
	t.Helper()
	return request(t, cl, "GET", url, "", hdr...)
}

// request sends method url with body (none when "") and the header
// name/value pairs hdr, and returns the answer.
func request(t *testing.T, cl *http.Client, method, url, body string, hdr ...string) keyAnswer {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return keyAnswer{resp.StatusCode, resp.Header, string(b)}
}

// wantKeyError fails unless ans is the SPEC §7 error: its status, a body
// of exactly Code and a non-empty Message, JSON, and Retry-After exactly
// on 429.
func wantKeyError(t *testing.T, ans keyAnswer, status int, code tagd.Code) {
	t.Helper()
	if ans.status != status {
		t.Fatalf("status %d, want %d %s: %s", ans.status, status, code, ans.body)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(ans.body), &body); err != nil {
		t.Fatalf("body %q: %v", ans.body, err)
	}
	if msg, _ := body["Message"].(string); len(body) != 2 || body["Code"] != string(code) || msg == "" {
		t.Fatalf("body %s, want {\"Code\":%q,\"Message\":\"…\"}", ans.body, code)
	}
	if ct := ans.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	if ra := ans.header.Get("Retry-After"); (status == 429) != (ra != "") {
		t.Fatalf("Retry-After %q on %d", ra, status)
	}
}

// createKey runs `tagd apikey create ... --json` and returns its output.
func createKey(t *testing.T, dir string, args ...string) createdKey {
	t.Helper()
	out, errOut, code := runMain(append([]string{"apikey", "create", "--data", dir, "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("apikey create %q: exit %d: %s", args, code, errOut)
	}
	var k createdKey
	if err := json.Unmarshal([]byte(out), &k); err != nil || k.ID == "" || !strings.HasPrefix(k.Key, k.ID+".") {
		t.Fatalf("apikey create output %q: %v", out, err)
	}
	return k
}

// secretOf returns the secret part of a key.
func secretOf(key string) string {
	_, s, _ := strings.Cut(key, ".")
	return s
}

// TestAPIKeysOverHTTPS has one row per SPEC §7 error, through real HTTPS
// with the certificate `tagd init` generated, keys made with `tagd apikey`
// over the admin socket, and the appliance on an injected clock. It also
// checks both headers, scopes, the IPv4 and CIDR allow-list, the expiry
// boundary, the purge of old expired keys at start, last-used, and that
// no secret appears in any log, answer or listing.
func TestAPIKeysOverHTTPS(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	t0 := time.Now().Truncate(time.Second)
	clock := testclock.New(t0)
	adminKey, err := initData(ctx, dir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	// an account with API access off, and two old expired keys: one past
	// the week of grace (purged at start), one within it (kept)
	d, _ := openData(dir)
	db, err := d.openStore(time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAccount(ctx, tagd.Account{AID: "shut", Name: "Shut", APIDisabled: true}); err != nil {
		t.Fatal(err)
	}
	_, old, _ := newAPIKey("old", []string{tagd.ScopePublic}, t0.Add(-30*24*time.Hour))
	old.Expires = t0.Add(-8 * 24 * time.Hour)
	recentKey, recent, _ := newAPIKey("recent", []string{tagd.ScopePublic}, t0.Add(-30*24*time.Hour))
	recent.Expires = t0.Add(-6 * 24 * time.Hour)
	for _, k := range []tagd.APIKey{old, recent} {
		if err := db.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	cfg := filepath.Join(t.TempDir(), "tagd.json")
	if err := os.WriteFile(cfg, []byte(`{"api_key_rate":0.5,"api_key_burst":3,"api_keys_per_account":20}`), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startApplianceAt(t, dir, clock.Now, "--https", "127.0.0.1:0", "--config", cfg)
	cl := trusting(t, dir)

	var cliOut strings.Builder // every CLI output but the create answers, which show the key once
	list := func() []httpapi.KeyInfo {
		out, errOut, code := runMain("apikey", "list", "--data", dir, "--json")
		if code != 0 {
			t.Fatalf("apikey list: %s", errOut)
		}
		cliOut.WriteString(out)
		var l []httpapi.KeyInfo
		if err := json.Unmarshal([]byte(out), &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	ids := map[string]bool{}
	for _, k := range list() {
		ids[k.ID] = true
	}
	if ids[old.ID] || !ids[recent.ID] || len(ids) != 2 {
		t.Fatalf("after start, keys %v: want the admin key and %s, not %s (purged)", ids, recent.ID, old.ID)
	}
	if !strings.Contains(a.logs.String(), "purged API keys") || !strings.Contains(a.logs.String(), old.ID) {
		t.Errorf("the purge is not logged: %s", a.logs)
	}

	exp := t0.Add(time.Hour)
	public := createKey(t, dir, "--name", "till 1", "--scope", "public", "--description", "POS till")
	private := createKey(t, dir, "--name", "backoffice", "--scope", "private")
	syncKey := createKey(t, dir, "--name", "hub", "--scope", "sync")
	disabled := createKey(t, dir, "--name", "off")
	expiring := createKey(t, dir, "--name", "temp", "--expires", exp.Format(time.RFC3339))
	dated := createKey(t, dir, "--name", "dated", "--expires", "2099-01-31")
	shut := createKey(t, dir, "--name", "shut", "--account", "shut")
	elsewhere := createKey(t, dir, "--name", "elsewhere", "--allow-ip", "10.0.0.0/8", "--allow-ip", "192.168.1.7")
	exact := createKey(t, dir, "--name", "exact", "--allow-ip", "127.0.0.1")
	cidr := createKey(t, dir, "--name", "cidr", "--allow-ip", "10.0.0.0/8,127.0.0.0/8")
	v6only := createKey(t, dir, "--name", "v6only", "--allow-ip", "::1")
	limited := createKey(t, dir, "--name", "limited")
	keys := []createdKey{public, private, syncKey, disabled, expiring, dated, shut, elsewhere, exact, cidr, v6only, limited}
	out, errOut, code := runMain("apikey", "disable", "--data", dir, disabled.ID)
	if code != 0 || !strings.Contains(out, "disabled API key "+disabled.ID) {
		t.Fatalf("apikey disable: %d %s %s", code, out, errOut)
	}
	cliOut.WriteString(out + errOut)
	if dated.Expires == nil || !dated.Expires.Equal(time.Date(2099, 1, 31, 0, 0, 0, 0, time.Local)) {
		t.Fatalf("--expires 2099-01-31 stored as %v", dated.Expires)
	}

	identity := a.tlsBase + "/api/v1/identity"
	adminOnly := a.tlsBase + "/api/v1/apikeys"
	var answers strings.Builder
	get := func(url string, hdr ...string) keyAnswer {
		ans := call(t, cl, url, hdr...)
		answers.WriteString(ans.body)
		return ans
	}
	// the rate-limited key spends its burst of 3 first
	for i := range 3 {
		if ans := get(identity, "X-Api-Key", limited.Key); ans.status != 200 {
			t.Fatalf("request %d of the limited key: %+v", i, ans)
		}
	}
	// one row per SPEC §7 error
	for _, tt := range []struct {
		name   string
		url    string
		hdr    []string
		status int
		code   tagd.Code
		retry  string
	}{
		{"MISSING_API_KEY", identity, nil, 400, httpapi.CodeMissingAPIKey, ""},
		{"INVALID_API_KEY", identity, []string{"X-Api-Key", "tagd_aaaaaaaaaaaaaaaa." + secretOf(public.Key)}, 401, httpapi.CodeInvalidAPIKey, ""},
		{"SECRET_REQUIRED", identity, []string{"X-Api-Key", public.ID}, 401, httpapi.CodeSecretRequired, ""},
		{"INVALID_SECRET", identity, []string{"Authorization", "Bearer " + public.ID + "." + secretOf(private.Key)}, 401, httpapi.CodeInvalidSecret, ""},
		{"API_KEY_DISABLED", identity, []string{"X-Api-Key", disabled.Key}, 401, httpapi.CodeAPIKeyDisabled, ""},
		{"API_KEY_EXPIRED", identity, []string{"X-Api-Key", recentKey}, 401, httpapi.CodeAPIKeyExpired, ""}, // six days past: not purged yet
		{"COMPANY_API_DISABLED", identity, []string{"X-Api-Key", shut.Key}, 401, httpapi.CodeCompanyAPIDisabled, ""},
		{"IP_NOT_AUTHORIZED", identity, []string{"X-Api-Key", elsewhere.Key, "X-Forwarded-For", "192.168.1.7"}, 403, httpapi.CodeIPNotAuthorized, ""},
		{"INSUFFICIENT_SCOPE", adminOnly, []string{"X-Api-Key", public.Key}, 403, httpapi.CodeInsufficientScope, ""},
		{"RATE_LIMITED", identity, []string{"X-Api-Key", limited.Key}, 429, httpapi.CodeRateLimited, "2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ans := get(tt.url, tt.hdr...)
			wantKeyError(t, ans, tt.status, tt.code)
			if got := ans.header.Get("Retry-After"); got != tt.retry {
				t.Fatalf("Retry-After %q, want %q", got, tt.retry)
			}
		})
	}
	// API_KEY_EXPIRED at the boundary, on the injected clock: valid up to,
	// not on, the expiry
	clock.Set(exp.Add(-time.Nanosecond))
	if ans := get(identity, "X-Api-Key", expiring.Key); ans.status != 200 {
		t.Fatalf("a nanosecond before expiry: %+v", ans)
	}
	clock.Set(exp)
	wantKeyError(t, get(identity, "X-Api-Key", expiring.Key), 401, httpapi.CodeAPIKeyExpired)
	// a date: valid through the day before, local time
	day := time.Date(2099, 1, 31, 0, 0, 0, 0, time.Local)
	clock.Set(day.Add(-time.Nanosecond))
	if ans := get(identity, "X-Api-Key", dated.Key); ans.status != 200 {
		t.Fatalf("the day before --expires: %+v", ans)
	}
	clock.Set(day)
	wantKeyError(t, get(identity, "X-Api-Key", dated.Key), 401, httpapi.CodeAPIKeyExpired)
	clock.Set(exp.Add(time.Minute)) // all buckets full again
	// the rate limit refills with the clock
	if ans := get(identity, "X-Api-Key", limited.Key); ans.status != 200 {
		t.Fatalf("the limited key after the refill: %+v", ans)
	}

	// both headers; identity shows the key without secret or hash
	for _, hdr := range [][]string{{"X-Api-Key", public.Key}, {"Authorization", "Bearer " + public.Key}} {
		ans := get(identity, hdr...)
		var id map[string]any
		if ans.status != 200 || json.Unmarshal([]byte(ans.body), &id) != nil {
			t.Fatalf("%s: %+v", hdr[0], ans)
		}
		want := []string{"id", "name", "description", "scopes", "created", "last_used", "expires", "account"}
		if len(id) != len(want) || id["id"] != public.ID || id["name"] != "till 1" || id["description"] != "POS till" {
			t.Fatalf("%s: identity %s", hdr[0], ans.body)
		}
		for _, k := range want {
			if _, ok := id[k]; !ok {
				t.Fatalf("identity lacks %q: %s", k, ans.body)
			}
		}
	}
	// scopes: identity takes any key; the key list needs admin
	for _, k := range []createdKey{public, private, syncKey} {
		if ans := get(identity, "X-Api-Key", k.Key); ans.status != 200 {
			t.Errorf("%s on identity: %+v", k.Name, ans)
		}
		wantKeyError(t, get(adminOnly, "X-Api-Key", k.Key), 403, httpapi.CodeInsufficientScope)
	}
	ans := get(adminOnly, "Authorization", "Bearer "+adminKey)
	if ans.status != 200 || strings.Contains(ans.body, "secret") || !strings.Contains(ans.body, public.ID) {
		t.Fatalf("admin key on the key list: %+v", ans)
	}
	// IPv4 allow-list entries, from 127.0.0.1: exact, CIDR, and an IPv6-only list
	for _, k := range []createdKey{exact, cidr} {
		if ans := get(identity, "X-Api-Key", k.Key); ans.status != 200 {
			t.Errorf("%s from 127.0.0.1: %+v", k.Name, ans)
		}
	}
	wantKeyError(t, get(identity, "X-Api-Key", v6only.Key), 403, httpapi.CodeIPNotAuthorized)
	// the loopback listener guards the API the same way
	wantKeyError(t, call(t, http.DefaultClient, a.base+"/api/v1/identity"), 400, httpapi.CodeMissingAPIKey)
	if ans := call(t, http.DefaultClient, a.base+"/api/v1/identity", "X-Api-Key", private.Key); ans.status != 200 || !strings.Contains(ans.body, private.ID) {
		t.Fatalf("identity on loopback: %+v", ans)
	}
	// the health endpoints stay keyless
	if ans := get(a.tlsBase + "/healthz"); ans.status != 200 {
		t.Fatalf("healthz: %+v", ans)
	}

	// last-used is written once the service has stopped at the latest
	a.stop()
	out, errOut, code = runMain("apikey", "list", "--data", dir)
	cliOut.WriteString(out + errOut)
	if code != 0 {
		t.Fatalf("apikey list without the service: %s", errOut)
	}
	var used httpapi.KeyInfo
	for _, k := range list() {
		if k.ID == public.ID {
			used = k
		}
	}
	if used.LastUsed == nil || used.LastUsed.Before(t0) {
		t.Errorf("last_used of a used key: %v", used.LastUsed)
	}

	// no secret anywhere: logs, stdout, answers, listings; nor in the
	// database file
	all := a.logs.String() + a.stdout.String() + answers.String() + cliOut.String()
	raw, _ := os.ReadFile(filepath.Join(dir, dbFile))
	secrets := map[string]string{"admin": secretOf(adminKey), "recent": secretOf(recentKey)}
	for _, k := range keys {
		secrets[k.Name] = secretOf(k.Key)
	}
	for name, s := range secrets {
		if len(s) < 40 {
			t.Fatalf("secret of %s is %d characters", name, len(s))
		}
		if strings.Contains(all, s) {
			t.Errorf("the secret of key %q appears in the output", name)
		}
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the secret of key %q is in the database file", name)
		}
	}
	if !strings.Contains(a.logs.String(), "API key refused") {
		t.Errorf("refusals are not logged")
	}
}

// TestAPIKeyIPv6 checks IPv6 allow-list entries over HTTPS on [::1].
func TestAPIKeyIPv6(t *testing.T) {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	l.Close()
	dir := t.TempDir()
	if _, err := initData(context.Background(), dir, time.Now); err != nil {
		t.Fatal(err)
	}
	a := startApplianceAt(t, dir, time.Now, "--https", "[::1]:0")
	if !strings.HasPrefix(a.tlsBase, "https://[::1]:") {
		t.Fatalf("HTTPS on %s", a.tlsBase)
	}
	cl := trusting(t, dir)
	for _, tt := range []struct {
		allow string
		ok    bool
	}{{"::1", true}, {"::1/128", true}, {"::/0", true}, {"0:0:0:0:0:0:0:1", true}, {"127.0.0.1", false}, {"fd00::/8", false}, {"127.0.0.0/8", false}} {
		k := createKey(t, dir, "--name", "v6 "+tt.allow, "--allow-ip", tt.allow)
		ans := call(t, cl, a.tlsBase+"/api/v1/identity", "X-Api-Key", k.Key)
		if tt.ok && ans.status != 200 {
			t.Errorf("allow %s from ::1: %+v", tt.allow, ans)
		}
		if !tt.ok {
			wantKeyError(t, ans, 403, httpapi.CodeIPNotAuthorized)
		}
	}
}

// TestAPIKeyCLI drives `tagd apikey` without a service (the database) and
// with one (the admin socket): create, list, disable, enable, rotate,
// delete, the per-account limit, and the usage errors.
func TestAPIKeyCLI(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	if _, err := initData(ctx, dir, time.Now); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "tagd.json")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`{"data":%q,"api_keys_per_account":3}`, dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string, int) { return runMain(append([]string{"apikey"}, args...)...) }
	for _, service := range []bool{false, true} {
		t.Run(fmt.Sprintf("service=%v", service), func(t *testing.T) {
			var a *appliance
			if service {
				a = startApplianceAt(t, dir, time.Now, "--config", cfg)
			}
			// the admin key of init is the first of 3 allowed for the appliance's own keys
			k1 := createKey(t, dir, "--config", cfg, "--name", "one", "--scope", "private,public", "--scope", "private", "--expires", "2099-12-31T23:00:00Z", "--allow-ip", "192.168.0.0/16")
			if strings.Join(k1.Scopes, ",") != "private,public" || k1.Expires == nil || len(k1.AllowIPs) != 1 || k1.Account != "" || k1.Disabled {
				t.Fatalf("created %+v", k1)
			}
			rot, errOut, code := run("rotate", "--config", cfg, k1.ID, "--json")
			if code != 0 {
				t.Fatalf("rotate: %s", errOut)
			}
			var k2 createdKey
			if err := json.Unmarshal([]byte(rot), &k2); err != nil || k2.RotatedFrom != k1.ID || k2.ID == k1.ID || k2.Key == k1.Key ||
				k2.Name != "one" || strings.Join(k2.Scopes, ",") != "private,public" || !k2.Expires.Equal(*k1.Expires) || k2.AllowIPs[0] != "192.168.0.0/16" {
				t.Fatalf("rotate: %s %v", rot, err)
			}
			// the limit (3 with the admin key) is reached
			_, errOut, code = run("create", "--config", cfg, "--name", "four")
			if code != 1 || !strings.Contains(errOut, "limit") {
				t.Fatalf("fourth key: exit %d %s", code, errOut)
			}
			// text outputs
			out, _, code := run("list", "--config", cfg)
			if code != 0 || !strings.Contains(out, k1.ID) || !strings.Contains(out, k2.ID) || !strings.Contains(out, "LAST USED") || strings.Contains(out, secretOf(k1.Key)) {
				t.Fatalf("list: %s", out)
			}
			if out, _, code := run("disable", "--config", cfg, k1.ID); code != 0 || out != "disabled API key "+k1.ID+" (one)\n" {
				t.Fatalf("disable: %q", out)
			}
			out, _, _ = run("list", "--config", cfg, k1.ID)
			if !strings.Contains(out, "disabled") || strings.Count(out, "\n") != 2 {
				t.Fatalf("list one: %s", out)
			}
			out, _, code = run("enable", "--config", cfg, k1.Key, "--json") // a whole key names its id
			var info httpapi.KeyInfo
			if code != 0 || json.Unmarshal([]byte(out), &info) != nil || info.Disabled || info.ID != k1.ID || strings.Contains(out, secretOf(k1.Key)) {
				t.Fatalf("enable: %s", out)
			}
			if service {
				// both keys of the overlapping rotation work; the admin
				// socket and the loopback API see the same store
				for _, k := range []createdKey{k1, k2} {
					ans := call(t, http.DefaultClient, a.base+"/api/v1/identity", "X-Api-Key", k.Key)
					wantKeyError(t, ans, 403, httpapi.CodeIPNotAuthorized) // 127.0.0.1 is not in 192.168.0.0/16
				}
			}
			for _, k := range []createdKey{k1, k2} {
				out, errOut, code := run("delete", "--config", cfg, k.ID, "--json")
				if code != 0 || strings.TrimSpace(out) != fmt.Sprintf(`{"deleted":true,"id":%q}`, k.ID) {
					t.Fatalf("delete: %d %s %s", code, out, errOut)
				}
			}
			if _, errOut, code := run("delete", "--config", cfg, k1.ID); code != 1 || !strings.Contains(errOut, "not found") {
				t.Fatalf("delete again: %d %s", code, errOut)
			}
			// a created key is printed once, in text too
			out, _, code = run("create", "--config", cfg, "--name", "text", "--account", "")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[2], apiKeyPrefix) || !strings.Contains(lines[1], "shown once") {
				t.Fatalf("create (text): %s", out)
			}
			id, _, _ := strings.Cut(lines[2], ".")
			if _, _, code := run("delete", "--config", cfg, id); code != 0 {
				t.Fatal("delete text key")
			}
			if _, errOut, code := run("create", "--config", cfg, "--name", "nobody", "--account", "nobody"); code != 1 || !strings.Contains(errOut, "nobody") {
				t.Fatalf("unknown account: %d %s", code, errOut)
			}
			if service {
				a.stop()
			}
		})
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "usage: tagd apikey"},
		{[]string{"revoke", "x"}, "usage: tagd apikey"},
		{[]string{"create"}, "--name"},
		{[]string{"create", "--name", "x", "--scope", "root"}, `"root" is not public`},
		{[]string{"create", "--name", "x", "--expires", "31/01/2099"}, "--expires"},
		{[]string{"create", "--name", "x", "--expires", "2001-01-01", "--data", dir}, "not in the future"},
		{[]string{"create", "--name", "x", "--allow-ip", "10.0.0.0/33"}, "--allow-ip"},
		{[]string{"create", "--name", "x", "extra"}, "unexpected argument"},
		{[]string{"disable"}, "needs one key id"},
		{[]string{"rotate", "a", "b"}, "needs one key id"},
		{[]string{"list", "a", "b"}, "unexpected argument"},
		{[]string{"list", "--name", "x"}, "not defined"},
	} {
		_, errOut, code := run(tt.args...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) {
			t.Errorf("tagd apikey %q: exit %d %q, want 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
}

// TestAPIKeyPurgeLoop checks startAPIKeys: the purge at start, with the
// injected clock, and the stop function.
func TestAPIKeyPurgeLoop(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db := prepareData(t, dir)
	defer db.Close()
	t0 := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	for i, e := range []time.Duration{-7 * 24 * time.Hour, -7*24*time.Hour + time.Second, time.Hour} {
		_, k, _ := newAPIKey(fmt.Sprint("k", i), []string{tagd.ScopePublic}, t0.Add(-30*24*time.Hour))
		k.Expires = t0.Add(e)
		if err := db.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	logs := &syncbuf.Buffer{}
	c := &runCmd{now: func() time.Time { return t0 }}
	api := &httpapi.Server{}
	stop := c.startAPIKeys(ctx, api, db, slogTo(logs))
	stop()
	all, _ := db.APIKeys(ctx)
	names := map[string]bool{}
	for _, k := range all {
		names[k.Name] = true
	}
	if names["k0"] || !names["k1"] || !names["k2"] || !names["admin"] {
		t.Fatalf("after the purge: %v", names)
	}
	if api.Auth.Keys == nil || api.Auth.KeyAdmin == nil {
		t.Fatalf("the server has no key store")
	}
	if !strings.Contains(logs.String(), "purged") {
		t.Fatalf("log: %s", logs)
	}
}

// slogTo returns a text logger writing to w.
func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

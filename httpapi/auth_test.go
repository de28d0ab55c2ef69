package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/httpapi"
	"github.com/tagd-nfc/tagd/internal/syncbuf"
	"github.com/tagd-nfc/tagd/internal/testclock"
)

// fakeKeys is an in-memory APIKeyStore and APIKeyManager.
type fakeKeys struct {
	mu       sync.Mutex
	keys     map[string]tagd.APIKey
	accounts map[string]tagd.Account
	touches  []string // "id@time"
	lookups  int
	err      error // returned by APIKey when set
}

func newFakeKeys() *fakeKeys {
	return &fakeKeys{keys: map[string]tagd.APIKey{}, accounts: map[string]tagd.Account{}}
}

func (f *fakeKeys) APIKey(_ context.Context, id string) (*tagd.APIKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	if f.err != nil {
		return nil, f.err
	}
	k, ok := f.keys[id]
	if !ok {
		return nil, tagd.NotFound("apikey", "API key %s not found", id)
	}
	k.Scopes = slices.Clone(k.Scopes)
	k.AllowIPs = slices.Clone(k.AllowIPs)
	return &k, nil
}

func (f *fakeKeys) Account(_ context.Context, aid string) (*tagd.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.accounts[aid]
	if !ok {
		return nil, tagd.NotFound("aid", "account %q not found", aid)
	}
	return &a, nil
}

func (f *fakeKeys) TouchAPIKey(_ context.Context, id string, when time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.keys[id]
	if !ok {
		return tagd.NotFound("apikey", "API key %s not found", id)
	}
	f.touches = append(f.touches, id+"@"+when.Format(time.RFC3339))
	if when.After(k.LastUsed) {
		k.LastUsed = when
		f.keys[id] = k
	}
	return nil
}

func (f *fakeKeys) APIKeys(context.Context) ([]tagd.APIKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []tagd.APIKey
	for _, k := range f.keys {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (f *fakeKeys) CreateAPIKeyMax(_ context.Context, k tagd.APIKey, max int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.keys[k.ID]; ok {
		return &tagd.Error{Code: tagd.CodeConflict, Field: "id", Message: "exists"}
	}
	n := 0
	for _, o := range f.keys {
		if o.AID == k.AID {
			n++
		}
	}
	if max > 0 && n >= max {
		return &tagd.Error{Code: tagd.CodeConflict, Field: "apikeys", Message: "limit reached"}
	}
	if len(k.SecretHash) != 32 {
		return &tagd.Error{Code: tagd.CodeInvalid, Field: "secret_hash", Message: "bad hash"}
	}
	f.keys[k.ID] = k
	return nil
}

func (f *fakeKeys) UpdateAPIKey(_ context.Context, id string, fn func(*tagd.APIKey) error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.keys[id]
	if !ok {
		return tagd.NotFound("apikey", "API key %s not found", id)
	}
	if err := fn(&k); err != nil {
		return err
	}
	f.keys[id] = k
	return nil
}

func (f *fakeKeys) DeleteAPIKey(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.keys[id]; !ok {
		return tagd.NotFound("apikey", "API key %s not found", id)
	}
	delete(f.keys, id)
	return nil
}

var (
	_ httpapi.APIKeyStore   = (*fakeKeys)(nil)
	_ httpapi.APIKeyManager = (*fakeKeys)(nil)
)

// add stores a key with the given id and secret, changed by mod, and
// returns the key a client presents.
func (f *fakeKeys) add(id, secret string, mod ...func(*tagd.APIKey)) string {
	h := sha256.Sum256([]byte(secret))
	k := tagd.APIKey{ID: id, Name: "key " + id, Scopes: []string{tagd.ScopePublic}, SecretHash: h[:], Created: authT0.Add(-24 * time.Hour)}
	for _, m := range mod {
		m(&k)
	}
	f.mu.Lock()
	f.keys[id] = k
	f.mu.Unlock()
	return id + "." + secret
}

// touched returns the last-used writes so far.
func (f *fakeKeys) touched() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.touches)
}

// authT0 is the start time of the auth tests' clocks.
var authT0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// authServer is a Server on a fake key store with a settable clock and a
// captured debug log.
type authServer struct {
	*httpapi.Server
	keys  *fakeKeys
	clock *testclock.Clock
	log   *syncbuf.Buffer
}

func newAuthServer(t *testing.T, rate httpapi.KeyRate) *authServer {
	a := &authServer{keys: newFakeKeys(), clock: testclock.New(authT0), log: &syncbuf.Buffer{}}
	a.Server = &httpapi.Server{
		Now:    a.clock.Now,
		Logger: slog.New(slog.NewTextHandler(a.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Auth:   httpapi.AuthConfig{Keys: a.keys, KeyAdmin: a.keys, Rate: rate},
	}
	t.Cleanup(a.WaitKeyUse)
	return a
}

// authReply is a recorded answer.
type authReply struct {
	status int
	header http.Header
	body   string
}

// serve sends a request with the remote address and header pairs to h.
func authServe(h http.Handler, method, target, remote string, hdr ...string) authReply {
	r := httptest.NewRequest(method, target, nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return authReply{w.Code, w.Result().Header, w.Body.String()}
}

// authEcho answers 200 with the authenticated key's id and the query it saw.
var authEcho = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	k := httpapi.KeyOf(r.Context())
	if k == nil {
		http.Error(w, "no key", 500)
		return
	}
	io.WriteString(w, k.ID+" "+r.URL.RawQuery+" "+r.RequestURI)
})

// wantAPIError fails unless rep is the API-key error code with its
// status, a {"Code","Message"} body and the right headers.
func wantAPIError(t *testing.T, rep authReply, code tagd.Code) {
	t.Helper()
	want := map[tagd.Code]int{
		httpapi.CodeMissingAPIKey: 400, httpapi.CodeInvalidAPIKey: 401, httpapi.CodeSecretRequired: 401,
		httpapi.CodeInvalidSecret: 401, httpapi.CodeAPIKeyDisabled: 401, httpapi.CodeAPIKeyExpired: 401,
		httpapi.CodeCompanyAPIDisabled: 401, httpapi.CodeIPNotAuthorized: 403, httpapi.CodeInsufficientScope: 403,
		httpapi.CodeRateLimited: 429,
	}[code]
	if rep.status != want {
		t.Fatalf("status %d, want %d (%s): %s", rep.status, want, code, rep.body)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(rep.body), &body); err != nil {
		t.Fatalf("body %q: %v", rep.body, err)
	}
	msg, _ := body["Message"].(string)
	if len(body) != 2 || body["Code"] != string(code) || msg == "" {
		t.Fatalf("body %s, want {\"Code\":%q,\"Message\":\"…\"}", rep.body, code)
	}
	if ct := rep.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	if ra := rep.header.Get("Retry-After"); (code == httpapi.CodeRateLimited) != (ra != "") {
		t.Fatalf("Retry-After %q with %s", ra, code)
	}
	if wa := rep.header.Get("WWW-Authenticate"); (want == 401) != (wa != "") {
		t.Fatalf("WWW-Authenticate %q with %d", wa, want)
	}
}

const (
	secretA = "c2VjcmV0LWEtMzItYnl0ZXMtb2YtcmFuZG9tbmVzcyE" // base64url-ish
	secretB = "c2VjcmV0LWItMzItYnl0ZXMtb2YtcmFuZG9tbmVzcyE"
)

// TestRequireKey_Errors has one row per SPEC §7 error, plus the variants
// that lead to the same code.
func TestRequireKey_Errors(t *testing.T) {
	a := newAuthServer(t, httpapi.KeyRate{PerSecond: 1, Burst: 1})
	k := a.keys
	good := k.add("tagd_good", secretA)
	k.add("tagd_off", secretA, func(k *tagd.APIKey) { k.Disabled = true })
	k.add("tagd_exp", secretA, func(k *tagd.APIKey) { k.Expires = authT0 })
	k.accounts["shut"] = tagd.Account{AID: "shut", APIDisabled: true}
	k.accounts["open"] = tagd.Account{AID: "open"}
	k.add("tagd_shut", secretA, func(k *tagd.APIKey) { k.AID = "shut" })
	k.add("tagd_gone", secretA, func(k *tagd.APIKey) { k.AID = "deleted" })
	k.add("tagd_open", secretA, func(k *tagd.APIKey) { k.AID = "open" })
	k.add("tagd_ip", secretA, func(k *tagd.APIKey) { k.AllowIPs = []string{"10.0.0.0/8"} })
	k.add("tagd_sync", secretA, func(k *tagd.APIKey) { k.Scopes = []string{tagd.ScopeSync} })
	k.add("tagd_rate", secretA)
	k.add("tagd_nohash", secretA, func(k *tagd.APIKey) { k.SecretHash = nil })
	h := a.RequireKey(tagd.ScopePublic, false, authEcho)
	const remote = "192.0.2.7:4711"
	// the rate-limited key spends its one token first
	if rep := authServe(h, "GET", "/x", remote, "X-Api-Key", "tagd_rate."+secretA); rep.status != 200 {
		t.Fatalf("first request: %+v", rep)
	}
	for _, tt := range []struct {
		name string
		code tagd.Code
		hdr  []string
	}{
		{"none", httpapi.CodeMissingAPIKey, nil},
		{"empty header", httpapi.CodeMissingAPIKey, []string{"X-Api-Key", "  "}},
		{"basic auth", httpapi.CodeMissingAPIKey, []string{"Authorization", "Basic dXNlcjpwYXNz"}},
		{"empty bearer", httpapi.CodeMissingAPIKey, []string{"Authorization", "Bearer "}},
		{"unknown id", httpapi.CodeInvalidAPIKey, []string{"X-Api-Key", "tagd_nobody." + secretA}},
		{"malformed id", httpapi.CodeInvalidAPIKey, []string{"X-Api-Key", "tagd_n!body." + secretA}},
		{"empty id", httpapi.CodeInvalidAPIKey, []string{"X-Api-Key", "." + secretA}},
		{"overlong", httpapi.CodeInvalidAPIKey, []string{"X-Api-Key", "tagd_good." + strings.Repeat("a", 600)}},
		{"two keys", httpapi.CodeInvalidAPIKey, []string{"X-Api-Key", good, "Authorization", "Bearer tagd_open." + secretA}},
		{"no secret", httpapi.CodeSecretRequired, []string{"X-Api-Key", "tagd_good"}},
		{"empty secret", httpapi.CodeSecretRequired, []string{"Authorization", "Bearer tagd_good."}},
		{"no secret, unknown id", httpapi.CodeSecretRequired, []string{"X-Api-Key", "tagd_nobody"}},
		{"wrong secret", httpapi.CodeInvalidSecret, []string{"X-Api-Key", "tagd_good." + secretB}},
		{"secret of another key", httpapi.CodeInvalidSecret, []string{"X-Api-Key", "tagd_good." + secretA[1:]}},
		{"stored hash broken", httpapi.CodeInvalidSecret, []string{"X-Api-Key", "tagd_nohash." + secretA}},
		{"disabled", httpapi.CodeAPIKeyDisabled, []string{"X-Api-Key", "tagd_off." + secretA}},
		{"disabled, wrong secret", httpapi.CodeInvalidSecret, []string{"X-Api-Key", "tagd_off." + secretB}},
		{"expired", httpapi.CodeAPIKeyExpired, []string{"X-Api-Key", "tagd_exp." + secretA}},
		{"account API off", httpapi.CodeCompanyAPIDisabled, []string{"X-Api-Key", "tagd_shut." + secretA}},
		{"account gone", httpapi.CodeCompanyAPIDisabled, []string{"X-Api-Key", "tagd_gone." + secretA}},
		{"outside allow-list", httpapi.CodeIPNotAuthorized, []string{"X-Api-Key", "tagd_ip." + secretA, "X-Forwarded-For", "10.1.2.3"}},
		{"scope", httpapi.CodeInsufficientScope, []string{"X-Api-Key", "tagd_sync." + secretA}},
		{"rate", httpapi.CodeRateLimited, []string{"X-Api-Key", "tagd_rate." + secretA}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantAPIError(t, authServe(h, "GET", "/x", remote, tt.hdr...), tt.code)
		})
	}
	if rep := authServe(h, "GET", "/x", remote, "X-Api-Key", "tagd_open."+secretA); rep.status != 200 {
		t.Fatalf("key of an open account: %+v", rep)
	}
}

// TestRequireKey_Transports checks the three ways of sending a key and that
// a key in the URL never reaches the handler.
func TestRequireKey_Transports(t *testing.T) {
	a := newAuthServer(t, httpapi.KeyRate{PerSecond: 1000, Burst: 1000})
	key := a.keys.add("tagd_t", secretA)
	strict := a.RequireKey(tagd.ScopePublic, false, authEcho)
	legacy := a.RequireKey(tagd.ScopePublic, true, authEcho)
	const remote = "127.0.0.1:1"
	for _, hdr := range [][]string{
		{"X-Api-Key", key},
		{"X-API-KEY", " " + key + " "},
		{"Authorization", "Bearer " + key},
		{"Authorization", "bearer " + key},
		{"X-Api-Key", key, "Authorization", "Bearer " + key}, // the same key twice
	} {
		if rep := authServe(strict, "GET", "/x?a=1", remote, hdr...); rep.status != 200 || rep.body != "tagd_t a=1 /x?a=1" {
			t.Errorf("%q: %+v", hdr, rep)
		}
	}
	// the query parameter only where the route allows it
	rep := authServe(strict, "GET", "/x?a=1&api_key="+key, remote)
	wantAPIError(t, rep, httpapi.CodeMissingAPIKey)
	if !strings.Contains(rep.body, "query string") {
		t.Errorf("the refusal does not say why: %s", rep.body)
	}
	rep = authServe(legacy, "GET", "/x?a=1&api_key="+key+"&b=2", remote)
	if rep.status != 200 || rep.body != "tagd_t a=1&b=2 /x?a=1&b=2" {
		t.Errorf("legacy query: %+v", rep)
	}
	// the parameter's name percent-encoded is the same parameter
	rep = authServe(legacy, "GET", "/x?api%5Fkey="+key+"&b=2", remote)
	if rep.status != 200 || rep.body != "tagd_t b=2 /x?b=2" {
		t.Errorf("legacy query, encoded name: %+v", rep)
	}
	wantAPIError(t, authServe(strict, "GET", "/x?api%5Fkey="+key, remote), httpapi.CodeMissingAPIKey)
	// with a header key, a query key elsewhere is still removed
	rep = authServe(strict, "GET", "/x?api_key=junk&c=3", remote, "X-Api-Key", key)
	if rep.status != 200 || strings.Contains(rep.body, "junk") {
		t.Errorf("query key passed downstream: %+v", rep)
	}
	wantAPIError(t, authServe(legacy, "GET", "/x?api_key="+key, remote, "X-Api-Key", "tagd_t."+secretB), httpapi.CodeInvalidAPIKey)
}

// TestRequireKey_Scopes: admin implies all, private implies public, sync
// is only sync; ScopeAny takes any valid key.
func TestRequireKey_Scopes(t *testing.T) {
	a := newAuthServer(t, httpapi.KeyRate{PerSecond: 1000, Burst: 1000})
	keys := map[string]string{}
	for _, sc := range [][]string{{"public"}, {"private"}, {"admin"}, {"sync"}, {"public", "sync"}} {
		name := strings.Join(sc, "+")
		keys[name] = a.keys.add("tagd_"+strings.ReplaceAll(name, "+", "_"), secretA, func(k *tagd.APIKey) { k.Scopes = sc })
	}
	allow := map[string][]string{
		"":        {"public", "private", "admin", "sync", "public+sync"},
		"public":  {"public", "private", "admin", "public+sync"},
		"private": {"private", "admin"},
		"admin":   {"admin"},
		"sync":    {"sync", "admin", "public+sync"},
	}
	for need, ok := range allow {
		h := a.RequireKey(need, false, authEcho)
		for name, key := range keys {
			rep := authServe(h, "GET", "/x", "127.0.0.1:1", "X-Api-Key", key)
			if slices.Contains(ok, name) {
				if rep.status != 200 {
					t.Errorf("key %s on a %q route: %+v", name, need, rep)
				}
			} else {
				t.Run(name+" on "+need, func(t *testing.T) { wantAPIError(t, rep, httpapi.CodeInsufficientScope) })
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Errorf("RequireKey accepted an unknown scope")
		}
	}()
	a.RequireKey("root", false, authEcho)
}

// TestRequireKey_AllowList checks IPv4, IPv6 and CIDR entries against
// RemoteAddr, and that X-Forwarded-For is not trusted.
func TestRequireKey_AllowList(t *testing.T) {
	a := newAuthServer(t, httpapi.KeyRate{PerSecond: 1000, Burst: 1000})
	h := a.RequireKey(tagd.ScopePublic, false, authEcho)
	for _, tt := range []struct {
		allow  []string
		remote string
		ok     bool
	}{
		{nil, "203.0.113.9:1", true}, // no entry: not enforced
		{[]string{"192.168.1.20"}, "192.168.1.20:5000", true},
		{[]string{"192.168.1.20"}, "192.168.1.21:5000", false},
		{[]string{"192.168.1.0/24"}, "192.168.1.254:5000", true},
		{[]string{"192.168.1.0/24"}, "192.168.2.1:5000", false},
		{[]string{"192.168.1.20"}, "[::ffff:192.168.1.20]:5000", true}, // dual-stack listener
		{[]string{"192.168.1.0/24"}, "[::ffff:192.168.1.9]:5000", true},
		{[]string{"::1"}, "[::1]:443", true},
		{[]string{"::1"}, "127.0.0.1:443", false},
		{[]string{"fd00::/8"}, "[fd12:3456::1]:443", true},
		{[]string{"fd00::/8"}, "[fe80::1%eth0]:443", false},
		{[]string{"fe80::1"}, "[fe80::1%eth0]:443", true},
		{[]string{"2001:db8::/32", "10.0.0.1"}, "10.0.0.1:1", true},
		{[]string{"2001:db8::/32", "10.0.0.1"}, "[2001:db8:1::5]:1", true},
		{[]string{"10.0.0.1"}, "@", false}, // no IP (a Unix socket)
	} {
		key := a.keys.add("tagd_ip", secretA, func(k *tagd.APIKey) { k.AllowIPs = tt.allow })
		rep := authServe(h, "GET", "/x", tt.remote, "X-Api-Key", key, "X-Forwarded-For", "192.168.1.20", "X-Real-Ip", "192.168.1.20")
		if tt.ok && rep.status != 200 {
			t.Errorf("allow %q from %s: %+v", tt.allow, tt.remote, rep)
		}
		if !tt.ok {
			t.Run(tt.remote, func(t *testing.T) { wantAPIError(t, rep, httpapi.CodeIPNotAuthorized) })
		}
	}
}

// TestRequireKey_Expiry checks the boundary: valid up to, not on, Expires.
func TestRequireKey_Expiry(t *testing.T) {
	a := newAuthServer(t, httpapi.KeyRate{PerSecond: 1000, Burst: 1000})
	exp := authT0.Add(time.Hour)
	key := a.keys.add("tagd_e", secretA, func(k *tagd.APIKey) { k.Expires = exp })
	h := a.RequireKey(tagd.ScopePublic, false, authEcho)
	for _, tt := range []struct {
		at time.Time
		ok bool
	}{{authT0, true}, {exp.Add(-time.Nanosecond), true}, {exp, false}, {exp.Add(time.Nanosecond), false}, {exp.Add(-time.Nanosecond), true}} {
		a.clock.Set(tt.at)
		rep := authServe(h, "GET", "/x", "127.0.0.1:1", "X-Api-Key", key)
		if tt.ok && rep.status != 200 {
			t.Errorf("at %v: %+v", tt.at, rep)
		}
		if !tt.ok {
			wantAPIError(t, rep, httpapi.CodeAPIKeyExpired)
		}
	}
}

// TestRequireKey_RateLimit checks the per-key token bucket against the
// injected clock, Retry-After, and that only the key's holder spends its
// tokens.
func TestRequireKey_RateLimit(t *testing.T) {
	a := newAuthServer(t, httpapi.KeyRate{PerSecond: 0.5, Burst: 3})
	k1 := a.keys.add("tagd_r1", secretA)
	k2 := a.keys.add("tagd_r2", secretA)
	h := a.RequireKey(tagd.ScopePublic, false, authEcho)
	get := func(key string) authReply { return authServe(h, "GET", "/x", "127.0.0.1:1", "X-Api-Key", key) }
	// wrong secrets for k1's id do not spend its tokens
	for range 10 {
		wantAPIError(t, get("tagd_r1."+secretB), httpapi.CodeInvalidSecret)
	}
	for i := range 3 {
		if rep := get(k1); rep.status != 200 {
			t.Fatalf("request %d: %+v", i, rep)
		}
	}
	rep := get(k1)
	wantAPIError(t, rep, httpapi.CodeRateLimited)
	if ra := rep.header.Get("Retry-After"); ra != "2" {
		t.Fatalf("Retry-After %q, want 2 (one token at 0.5/s)", ra)
	}
	if rep := get(k2); rep.status != 200 {
		t.Fatalf("another key is limited too: %+v", rep)
	}
	a.clock.Add(1500 * time.Millisecond)
	rep = get(k1)
	wantAPIError(t, rep, httpapi.CodeRateLimited)
	if ra := rep.header.Get("Retry-After"); ra != "1" {
		t.Fatalf("Retry-After %q after 1.5s, want 1", ra)
	}
	a.clock.Add(500 * time.Millisecond)
	if rep := get(k1); rep.status != 200 {
		t.Fatalf("after 2s: %+v", rep)
	}
	wantAPIError(t, get(k1), httpapi.CodeRateLimited)
	// a clock that jumps back earns nothing
	a.clock.Add(-time.Hour)
	wantAPIError(t, get(k1), httpapi.CodeRateLimited)
	a.clock.Add(time.Hour + time.Minute)
	for i := range 3 {
		if rep := get(k1); rep.status != 200 {
			t.Fatalf("after a minute, request %d: %+v", i, rep)
		}
	}
}

// TestRequireKey_LastUsed checks that uses are written at most once a
// minute per key, after the answer.
func TestRequireKey_LastUsed(t *testing.T) {
	a := newAuthServer(t, httpapi.KeyRate{PerSecond: 1000, Burst: 1000})
	k1 := a.keys.add("tagd_u1", secretA)
	k2 := a.keys.add("tagd_u2", secretA)
	h := a.RequireKey(tagd.ScopePublic, false, authEcho)
	hit := func(key string, n int) {
		for range n {
			if rep := authServe(h, "GET", "/x", "127.0.0.1:1", "X-Api-Key", key); rep.status != 200 {
				t.Fatal(rep)
			}
		}
	}
	hit(k1, 20)
	hit(k2, 1)
	a.clock.Add(59 * time.Second)
	hit(k1, 5)
	a.WaitKeyUse()
	want := []string{"tagd_u1@2026-11-25T12:00:00Z", "tagd_u2@2026-11-25T12:00:00Z"}
	if got := a.keys.touched(); !slices.Equal(authSorted(got), want) {
		t.Fatalf("touches %q, want %q", got, want)
	}
	a.clock.Add(time.Second)
	hit(k1, 5)
	a.WaitKeyUse()
	want = append(want, "tagd_u1@2026-11-25T12:01:00Z")
	if got := a.keys.touched(); !slices.Equal(authSorted(got), authSorted(want)) {
		t.Fatalf("touches %q, want %q", got, want)
	}
	// failed requests are not uses
	wantAPIError(t, authServe(h, "GET", "/x", "127.0.0.1:1", "X-Api-Key", "tagd_u2."+secretB), httpapi.CodeInvalidSecret)
	a.clock.Add(time.Hour)
	wantAPIError(t, authServe(h, "GET", "/x", "127.0.0.1:1", "X-Api-Key", "tagd_u2."+secretB), httpapi.CodeInvalidSecret)
	a.WaitKeyUse()
	if got := a.keys.touched(); len(got) != 3 {
		t.Fatalf("touches %q after failures", got)
	}
}

func authSorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestRequireKey_Faults: a store failure is a 500 whose details are
// logged, and a Server without a key store refuses everything.
func TestRequireKey_Faults(t *testing.T) {
	a := newAuthServer(t, httpapi.KeyRate{})
	key := a.keys.add("tagd_f", secretA)
	a.keys.err = errors.New("bolt: page 12 corrupt")
	h := a.RequireKey(tagd.ScopePublic, false, authEcho)
	rep := authServe(h, "GET", "/x", "127.0.0.1:1", "X-Api-Key", key)
	if rep.status != 500 || rep.body != `{"Code":"internal","Message":"internal error"}` {
		t.Fatalf("store fault: %+v", rep)
	}
	if !strings.Contains(a.log.String(), "page 12 corrupt") {
		t.Errorf("the fault is not logged: %s", a.log)
	}
	bare := &httpapi.Server{}
	rep = authServe(bare.RequireKey(httpapi.ScopeAny, false, authEcho), "GET", "/x", "127.0.0.1:1", "X-Api-Key", key)
	if rep.status != 500 {
		t.Fatalf("no key store: %+v", rep)
	}
	rep = authServe(bare.Handler(), "GET", "/api/v1/identity", "127.0.0.1:1", "X-Api-Key", key)
	if rep.status != 500 {
		t.Fatalf("identity without a key store: %+v", rep)
	}
}

// TestIdentity checks GET /api/v1/identity: exactly the documented keys,
// never the secret or its hash.
func TestIdentity(t *testing.T) {
	a := newAuthServer(t, httpapi.KeyRate{})
	a.keys.accounts["demo"] = tagd.Account{AID: "demo"}
	exp := authT0.Add(48 * time.Hour)
	key := a.keys.add("tagd_id", secretA, func(k *tagd.APIKey) {
		k.AID, k.Description, k.Expires = "demo", "till 1", exp
		k.Scopes = []string{tagd.ScopeSync}
		k.AllowIPs = []string{"127.0.0.1"}
	})
	h := a.Handler()
	hash := sha256.Sum256([]byte(secretA))
	hb, _ := json.Marshal(hash[:])
	const first = `{"id":"tagd_id","name":"key tagd_id","description":"till 1","scopes":["sync"],"created":"2026-11-24T12:00:00Z","last_used":null,"expires":"2026-11-27T12:00:00Z","account":"demo"}`
	const later = `{"id":"tagd_id","name":"key tagd_id","description":"till 1","scopes":["sync"],"created":"2026-11-24T12:00:00Z","last_used":"2026-11-25T12:00:00Z","expires":"2026-11-27T12:00:00Z","account":"demo"}`
	for i, hdr := range [][]string{{"X-Api-Key", key}, {"Authorization", "Bearer " + key}} {
		rep := authServe(h, "GET", "/api/v1/identity", "127.0.0.1:9", hdr...)
		want := first
		if i > 0 {
			want = later // the first request's use, written after its answer
		}
		if rep.status != 200 || rep.body != want {
			t.Fatalf("identity %d\n %s\nwant\n %s", rep.status, rep.body, want)
		}
		if strings.Contains(rep.body, secretA) || strings.Contains(rep.body, strings.Trim(string(hb), `"`)) {
			t.Fatalf("identity shows the secret or its hash")
		}
		a.WaitKeyUse()
	}
	var rep authReply
	wantAPIError(t, authServe(h, "GET", "/api/v1/identity", "127.0.0.1:9"), httpapi.CodeMissingAPIKey)
	// identity also takes the legacy query parameter; the key listing not
	if rep = authServe(h, "GET", "/api/v1/identity?api_key="+key, "127.0.0.1:9"); rep.status != 200 || !strings.Contains(rep.body, `"id":"tagd_id"`) {
		t.Fatalf("identity with the key in the query: %d %s", rep.status, rep.body)
	}
	wantAPIError(t, authServe(h, "GET", "/api/v1/apikeys?api_key="+key, "127.0.0.1:9"), httpapi.CodeMissingAPIKey)
	// key listing on the LAN needs admin
	wantAPIError(t, authServe(h, "GET", "/api/v1/apikeys", "127.0.0.1:9", "X-Api-Key", key), httpapi.CodeInsufficientScope)
	admin := a.keys.add("tagd_adm", secretB, func(k *tagd.APIKey) { k.Scopes = []string{tagd.ScopeAdmin} })
	rep = authServe(h, "GET", "/api/v1/apikeys", "127.0.0.1:9", "X-Api-Key", admin)
	var list []map[string]any
	if err := json.Unmarshal([]byte(rep.body), &list); rep.status != 200 || err != nil || len(list) != 2 {
		t.Fatalf("list: %+v %v", rep, err)
	}
	for _, k := range list {
		if len(k) != 10 || k["secret_hash"] != nil {
			t.Fatalf("listed key %v", k)
		}
	}
	rep = authServe(h, "GET", "/api/v1/apikeys/tagd_id", "127.0.0.1:9", "X-Api-Key", admin)
	if rep.status != 200 || !strings.Contains(rep.body, `"allow_ips":["127.0.0.1"]`) || !strings.Contains(rep.body, `"disabled":false`) {
		t.Fatalf("get: %+v", rep)
	}
}

// TestAdminKeys drives the admin socket's key management (keyless).
func TestAdminKeys(t *testing.T) {
	a := newAuthServer(t, httpapi.KeyRate{})
	a.Auth.MaxKeysPerAccount = 2
	a.keys.accounts["demo"] = tagd.Account{AID: "demo"}
	h := a.AdminHandler()
	do := func(method, target, body string) authReply {
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		r.RemoteAddr = "@"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return authReply{w.Code, w.Result().Header, w.Body.String()}
	}
	hash := sha256.Sum256([]byte(secretA))
	nk := func(id string, mod ...func(*httpapi.NewKey)) string {
		k := httpapi.NewKey{ID: id, Name: "n " + id, Scopes: []string{"public"}, SecretHash: hash[:], Account: "demo"}
		for _, m := range mod {
			m(&k)
		}
		b, _ := json.Marshal(k)
		return string(b)
	}
	rep := do("POST", "/api/v1/apikeys", nk("tagd_c1", func(k *httpapi.NewKey) { k.Expires = authT0.Add(time.Hour); k.AllowIPs = []string{"::1"} }))
	want := `{"id":"tagd_c1","name":"n tagd_c1","description":"","scopes":["public"],"created":"2026-11-25T12:00:00Z","last_used":null,"expires":"2026-11-25T13:00:00Z","account":"demo","disabled":false,"allow_ips":["::1"]}`
	if rep.status != 201 || rep.body != want {
		t.Fatalf("create: %d %s\nwant %s", rep.status, rep.body, want)
	}
	if rep := do("POST", "/api/v1/apikeys", nk("tagd_c2")); rep.status != 201 {
		t.Fatalf("second key: %+v", rep)
	}
	if rep := do("POST", "/api/v1/apikeys", nk("tagd_c3")); rep.status != 409 || !strings.Contains(rep.body, `"conflict"`) {
		t.Fatalf("third key of the account: %+v", rep)
	}
	for name, body := range map[string]string{
		"expired":       nk("tagd_c4", func(k *httpapi.NewKey) { k.Expires = authT0 }),
		"unknown field": `{"id":"tagd_c5","created":"2020-01-01T00:00:00Z"}`,
		"two values":    nk("tagd_c6") + "{}",
		"not JSON":      "id=tagd_c7",
	} {
		if rep := do("POST", "/api/v1/apikeys", body); rep.status != 400 {
			t.Errorf("%s: %+v", name, rep)
		}
	}
	if rep := do("PATCH", "/api/v1/apikeys/tagd_c1", `{"disabled":true}`); rep.status != 200 || !strings.Contains(rep.body, `"disabled":true`) {
		t.Fatalf("disable: %+v", rep)
	}
	if k, _ := a.keys.APIKey(context.Background(), "tagd_c1"); !k.Disabled {
		t.Fatalf("not disabled in the store")
	}
	if rep := do("PATCH", "/api/v1/apikeys/tagd_c1", `{}`); rep.status != 400 {
		t.Fatalf("empty patch: %+v", rep)
	}
	if rep := do("PATCH", "/api/v1/apikeys/tagd_none", `{"disabled":false}`); rep.status != 404 {
		t.Fatalf("patch unknown: %+v", rep)
	}
	rep = do("GET", "/api/v1/apikeys", "")
	if rep.status != 200 || strings.Count(rep.body, `"id"`) != 2 || strings.Contains(rep.body, "secret") {
		t.Fatalf("list: %+v", rep)
	}
	if rep := do("DELETE", "/api/v1/apikeys/tagd_c2", ""); rep.status != 204 {
		t.Fatalf("delete: %+v", rep)
	}
	if rep := do("DELETE", "/api/v1/apikeys/tagd_c2", ""); rep.status != 404 {
		t.Fatalf("delete again: %+v", rep)
	}
	if rep := do("GET", "/api/v1/apikeys/tagd_c2", ""); rep.status != 404 {
		t.Fatalf("get deleted: %+v", rep)
	}
	if rep := do("POST", "/api/v1/apikeys", nk("tagd_c3")); rep.status != 201 {
		t.Fatalf("a place was freed: %+v", rep)
	}
}

// TestRequireKey_NoSecretInLog sends good and bad keys of every kind and
// checks that no secret, and no presented key id that names no key,
// reaches the log or an answer.
func TestRequireKey_NoSecretInLog(t *testing.T) {
	a := newAuthServer(t, httpapi.KeyRate{PerSecond: 1, Burst: 1})
	good := a.keys.add("tagd_s", secretA, func(k *tagd.APIKey) { k.Scopes = []string{tagd.ScopeAdmin} })
	a.keys.add("tagd_s2", secretA, func(k *tagd.APIKey) { k.AllowIPs = []string{"10.0.0.1"} })
	h := a.Handler()
	legacy := a.RequireKey(tagd.ScopeAdmin, true, authEcho)
	var answers strings.Builder
	for _, hdr := range [][]string{
		{"X-Api-Key", good}, {"X-Api-Key", good}, {"X-Api-Key", "tagd_s." + secretB}, {"X-Api-Key", secretB},
		{"X-Api-Key", "tagd_s2." + secretA}, {"Authorization", "Bearer " + secretB + "." + secretB},
		{"X-Api-Key", "tagd_s"}, {"X-Api-Key", good, "Authorization", "Bearer tagd_s." + secretB},
	} {
		answers.WriteString(authServe(h, "GET", "/api/v1/identity", "127.0.0.1:1", hdr...).body)
		answers.WriteString(authServe(h, "GET", "/api/v1/apikeys", "127.0.0.1:1", hdr...).body)
	}
	answers.WriteString(authServe(legacy, "GET", "/x?api_key="+good, "127.0.0.1:1").body)
	a.WaitKeyUse()
	all := answers.String() + a.log.String()
	for _, s := range []string{secretA, secretB} {
		if strings.Contains(all, s) {
			t.Fatalf("a secret appears in the log or an answer:\n%s", all)
		}
	}
	if !strings.Contains(a.log.String(), "INVALID_SECRET") || !strings.Contains(a.log.String(), "key_id=tagd_s") {
		t.Fatalf("refusals are not logged with the key id: %s", a.log)
	}
}

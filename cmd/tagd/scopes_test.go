package main

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/httpapi"
)

// scopeRoute is one route of the LAN listener and the scope SPEC §7 (and
// docs/DECISIONS.md) gives it: "" for any valid key, "none" for a route
// that takes no key at all.
type scopeRoute struct {
	method, path, body, need string
}

// lanRoutes are the keyed routes of the LAN listener other than the CRUD
// routes (which httpapi.CatalogRoutes lists), with the scope each needs.
var lanRoutes = []scopeRoute{
	{"GET", "/v1/t?x=" + demoStdXUID, "", "none"},
	{"GET", "/k?x=" + demoStdXUID, "", "none"},
	{"GET", "/healthz", "", "none"},
	{"GET", "/readyz", "", "none"},
	{"GET", "/api/v1/identity", "", ""},
	{"GET", "/api/v1/readers", "", tagd.ScopePublic},
	{"GET", "/api/v1/scans", "", tagd.ScopePrivate},
	{"GET", "/api/v1/scans?format=csv&limit=1", "", tagd.ScopePrivate},
	{"POST", "/api/v1/import/tags", "not,a,csv\n", tagd.ScopePrivate},
	{"GET", "/api/v1/export/tags", "", tagd.ScopePrivate},
	{"POST", "/api/v1/import/keys", "not,a,csv\n", tagd.ScopeAdmin},
	{"GET", "/api/v1/apikeys", "", tagd.ScopeAdmin},
	{"GET", "/api/v1/apikeys/nokey", "", tagd.ScopeAdmin},
	{"GET", "/api/v1/backup", "", tagd.ScopeAdmin},
	{"GET", "/metrics", "", tagd.ScopeAdmin},
}

// allowedScope says whether a key with scope have may use a route that
// needs need, as SPEC §7 defines the scopes: admin is everything, private
// is management (which includes reading), public read-only lookups, sync
// a device.
func allowedScope(have, need string) bool {
	switch {
	case need == "" || need == "none" || have == need || have == tagd.ScopeAdmin:
		return true
	case have == tagd.ScopePrivate && need == tagd.ScopePublic:
		return true
	}
	return false
}

// TestScopesOnEveryRoute calls every route of the LAN listener over real
// HTTPS (the real wiring, keys made with `tagd apikey create`) with a key
// of each scope and with none: a key without the route's scope gets 403
// INSUFFICIENT_SCOPE before anything else happens, one with it gets past
// the key check, and no key at all is 400 MISSING_API_KEY except on the
// keyless routes; the legacy api_key query parameter is taken by GET
// /api/v1/identity alone.
func TestScopesOnEveryRoute(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "tagd.json")
	// a burst that this many calls per key cannot exhaust: the rate limit
	// has its own test
	if err := os.WriteFile(cfg, []byte(`{"api_key_rate":1000,"api_key_burst":1000}`), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startAppliance(t, dir, "--https", "127.0.0.1:0", "--config", cfg)
	cl := trusting(t, dir)
	scopes := []string{tagd.ScopePublic, tagd.ScopePrivate, tagd.ScopeAdmin, tagd.ScopeSync}
	keys := map[string]string{}
	for _, scope := range scopes {
		keys[scope] = createKey(t, dir, "--name", "scope-"+scope, "--scope", scope).Key
	}
	routes := slices.Clone(lanRoutes)
	for _, pattern := range httpapi.CatalogRoutes() {
		method, path, _ := strings.Cut(pattern, " ")
		// ids that do not exist: an allowed call must not change the demo
		routes = append(routes, scopeRoute{method, strings.ReplaceAll(path, "{id}", "nosuchid"), `{}`, tagd.ScopePrivate})
	}
	if len(routes) < len(lanRoutes)+25 {
		t.Fatalf("only %d routes to check", len(routes))
	}
	for _, rt := range routes {
		url := a.tlsBase + rt.path
		for _, scope := range scopes {
			ans := crudCall(t, cl, rt.method, url, keys[scope], rt.body)
			if allowedScope(scope, rt.need) {
				if ans.status == http.StatusUnauthorized || ans.status == http.StatusForbidden ||
					ans.status == http.StatusTooManyRequests || ans.status >= 500 {
					t.Errorf("%s %s with a %s key (needs %q): %d %s", rt.method, rt.path, scope, rt.need, ans.status, ans.body)
				}
				continue
			}
			if ans.status != http.StatusForbidden {
				t.Errorf("%s %s with a %s key (needs %q): %d %s, want 403", rt.method, rt.path, scope, rt.need, ans.status, ans.body)
				continue
			}
			wantKeyError(t, ans, http.StatusForbidden, httpapi.CodeInsufficientScope)
		}
		ans := crudCall(t, cl, rt.method, url, "", rt.body)
		if rt.need == "none" {
			if ans.status != http.StatusOK {
				t.Errorf("%s %s without a key: %d %s", rt.method, rt.path, ans.status, ans.body)
			}
			continue
		}
		wantKeyError(t, ans, http.StatusBadRequest, httpapi.CodeMissingAPIKey)
		// the legacy api_key query parameter: GET /api/v1/identity only
		sep := "?"
		if strings.Contains(url, "?") {
			sep = "&"
		}
		ans = crudCall(t, cl, rt.method, url+sep+"api_key="+keys[tagd.ScopeAdmin], "", rt.body)
		if rt.path == "/api/v1/identity" {
			if ans.status != http.StatusOK {
				t.Errorf("%s %s with the key in the query: %d %s", rt.method, rt.path, ans.status, ans.body)
			}
			continue
		}
		wantKeyError(t, ans, http.StatusBadRequest, httpapi.CodeMissingAPIKey)
	}
	// nothing the allowed calls did changed the demo tag
	if got := a.get(t, "/v1/t?x="+demoStdXUID); got != `{"xuid":"`+demoStdXUID+`","response":"Found"}` {
		t.Errorf("the demo tag after the calls: %s", got)
	}
}

package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/httpapi"
)

// crudCall sends method url with a JSON body (if not "") and the API key
// (if not "") with cl.
func crudCall(t *testing.T, cl *http.Client, method, url, key, body string) keyAnswer {
	t.Helper()
	var hdr []string
	if body != "" {
		hdr = append(hdr, "Content-Type", "application/json")
	}
	if key != "" {
		hdr = append(hdr, "X-Api-Key", key)
	}
	return request(t, cl, method, url, body, hdr...)
}

// socketClient is an HTTP client of the admin socket in dir.
func socketClient(t *testing.T, dir string) *http.Client {
	t.Helper()
	sock := filepath.Join(dir, sockFile)
	cl := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	t.Cleanup(cl.CloseIdleConnections)
	return cl
}

// TestCRUDOverHTTPS drives the CRUD routes through the real wiring (Main,
// `tagd run --demo`, HTTPS with the certificate of `tagd init`, keys made
// with `tagd apikey create`): SPEC §7's scopes on every route (public and
// sync keys are refused everywhere, private manages, only admin sets group
// keys), the keyless admin socket, and a change of the demo
// authentication group's keys that the very next tap sees.
func TestCRUDOverHTTPS(t *testing.T) {
	dir := t.TempDir()
	a := startAppliance(t, dir, "--https", "127.0.0.1:0")
	cl := trusting(t, dir)
	keys := map[string]string{}
	for _, scope := range []string{tagd.ScopePublic, tagd.ScopePrivate, tagd.ScopeAdmin, tagd.ScopeSync} {
		keys[scope] = createKey(t, dir, "--name", "crud-"+scope, "--scope", scope).Key
	}
	// every CRUD route refuses keys without the private scope, before
	// looking at the request
	for _, pattern := range httpapi.CatalogRoutes() {
		method, path, _ := strings.Cut(pattern, " ")
		path = strings.ReplaceAll(path, "{id}", demoStdXUID)
		for _, scope := range []string{tagd.ScopePublic, tagd.ScopeSync} {
			ans := crudCall(t, cl, method, a.tlsBase+path, keys[scope], `{"name":"x"}`)
			if ans.status != http.StatusForbidden {
				t.Fatalf("%s %s with a %s key: %d %s", method, path, scope, ans.status, ans.body)
			}
			wantKeyError(t, ans, http.StatusForbidden, httpapi.CodeInsufficientScope)
		}
		wantKeyError(t, crudCall(t, cl, method, a.tlsBase+path, "", ""), http.StatusBadRequest, httpapi.CodeMissingAPIKey)
	}
	// private reads and manages; the answer says which keys the group has,
	// never the keys
	const groupPath = "/api/v1/groups/" + demoAuthGroupID
	ans := crudCall(t, cl, "GET", a.tlsBase+groupPath, keys[tagd.ScopePrivate], "")
	if ans.status != 200 || !strings.Contains(ans.body, `"keys":{"meta":true,"file":true,"master":false}`) || strings.Contains(ans.body, zeroKey) {
		t.Fatalf("GET %s: %d %s", groupPath, ans.status, ans.body)
	}
	ans = crudCall(t, cl, "PATCH", a.tlsBase+"/api/v1/tags/"+demoStdXUID, keys[tagd.ScopePrivate], `{"name":"Renamed mug"}`)
	if ans.status != 200 || !strings.Contains(ans.body, `"name":"Renamed mug"`) {
		t.Fatalf("PATCH tag: %d %s", ans.status, ans.body)
	}
	// keys are admin's
	const otherKey = "0102030405060708090A0B0C0D0E0F10"
	wantKeyError(t, crudCall(t, cl, "PATCH", a.tlsBase+groupPath, keys[tagd.ScopePrivate], `{"keys":{"meta":"`+otherKey+`","file":"`+otherKey+`"}}`),
		http.StatusForbidden, httpapi.CodeInsufficientScope)
	ans = crudCall(t, cl, "PATCH", a.tlsBase+groupPath, keys[tagd.ScopeAdmin], `{"keys":{"meta":"`+otherKey+`","file":"`+otherKey+`"}}`)
	if ans.status != 200 || !strings.Contains(ans.body, `"rev":2`) || strings.Contains(ans.body, otherKey) {
		t.Fatalf("PATCH group keys: %d %s", ans.status, ans.body)
	}
	// the AN12196 example is encrypted under the factory keys: with the
	// group's new meta key it is an unknown tag (SPEC §4), and after the
	// factory keys are back it passes (counter 61, first use)
	const tap = "/v1/t?picc_data=EF963FF7828658A599F3041510671E88&cmac=94EED9EE65337086"
	if got := a.get(t, tap); got != `{"xuid":"","error":"unknown_tag"}` {
		t.Fatalf("tap under other keys: %s", got)
	}
	ans = crudCall(t, cl, "PATCH", a.tlsBase+groupPath, keys[tagd.ScopeAdmin], `{"keys":{"meta":"`+zeroKey+`","file":"`+zeroKey+`"}}`)
	if ans.status != 200 || !strings.Contains(ans.body, `"rev":3`) {
		t.Fatalf("PATCH group keys back: %d %s", ans.status, ans.body)
	}
	if got := a.get(t, tap); got != `{"xuid":"an12196a","response":"Pass"}` {
		t.Fatalf("tap under the factory keys: %s", got)
	}
	// the admin socket needs no key
	sock := socketClient(t, dir)
	ans = crudCall(t, sock, "GET", "http://tagd/api/v1/accounts", "", "")
	var accounts []httpapi.AccountInfo
	if ans.status != 200 || json.Unmarshal([]byte(ans.body), &accounts) != nil || len(accounts) != 1 || accounts[0].AID != demoAID || !accounts[0].MgmtTokenSet {
		t.Fatalf("accounts on the socket: %d %s", ans.status, ans.body)
	}
	ans = crudCall(t, sock, "DELETE", "http://tagd/api/v1/folders/demo", "", "")
	wantKeyError(t, ans, http.StatusConflict, tagd.CodeConflict)
}

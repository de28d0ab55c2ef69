package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/httpapi"
	"github.com/tagd-nfc/tagd/store"
)

// The store is what cmd/tagd sets as Server.Catalog.
var _ httpapi.CatalogStore = (*store.DB)(nil)

// Keys of the CRUD tests: an appliance key with the private scope, one of
// account "other" with the private scope, and an appliance admin key.
const (
	crudPrivate = "crudpriv.private-secret-0123456789"
	crudOther   = "crudother.other-secret-0123456789"
	crudAdmin   = "crudadmin.admin-secret-0123456789"
)

// crudEnv is the Management API environment (newMgEnv) with the CRUD
// store and API keys, served on the keyless admin handler and on the
// keyed LAN handler.
type crudEnv struct {
	*mgEnv
	admin, lan *httptest.Server
}

// newCrudEnv makes a crudEnv.
func newCrudEnv(t testing.TB) *crudEnv {
	t.Helper()
	e := newMgEnv(t)
	for _, k := range []struct{ key, aid, scope string }{{crudPrivate, "", tagd.ScopePrivate}, {crudOther, "other", tagd.ScopePrivate}, {crudAdmin, "", tagd.ScopeAdmin}} {
		id, secret, _ := strings.Cut(k.key, ".")
		h := sha256.Sum256([]byte(secret))
		if err := e.db.CreateAPIKey(context.Background(), tagd.APIKey{ID: id, AID: k.aid, Name: id, Scopes: []string{k.scope}, SecretHash: h[:]}); err != nil {
			t.Fatal(err)
		}
	}
	e.srv.Catalog = e.db
	e.srv.Auth = httpapi.AuthConfig{Keys: e.db, Rate: httpapi.KeyRate{PerSecond: 1e6, Burst: 1e6}}
	c := &crudEnv{mgEnv: e, admin: httptest.NewServer(e.srv.AdminHandler()), lan: httptest.NewServer(e.srv.Handler())}
	t.Cleanup(c.admin.Close)
	t.Cleanup(c.lan.Close)
	t.Cleanup(e.srv.WaitKeyUse)
	return c
}

// crudAnswer is an HTTP answer.
type crudAnswer struct {
	status int
	header http.Header
	body   string
}

// call sends method path with body to ts, with the API key if not "".
func call(t testing.TB, ts *httptest.Server, key, method, path, body string) crudAnswer {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("X-Api-Key", key)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return crudAnswer{resp.StatusCode, resp.Header, string(b)}
}

// want fails unless a has the status; it returns the body decoded.
func (a crudAnswer) want(t testing.TB, status int) map[string]any {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	if status == http.StatusNoContent {
		return nil
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(a.body), &v); err != nil {
		t.Fatalf("body %q: %v", a.body, err)
	}
	return v
}

// wantError fails unless a is the appliance API's error with status and
// code.
func (a crudAnswer) wantError(t testing.TB, status int, code tagd.Code) {
	t.Helper()
	v := a.want(t, status)
	if msg, _ := v["Message"].(string); len(v) != 2 || v["Code"] != string(code) || msg == "" {
		t.Fatalf("body %s, want {\"Code\":%q,\"Message\":\"…\"}", a.body, code)
	}
}

// TestCRUD_Lifecycle builds account → folder → group (with a SUN profile
// and keys) → batch → tag on the admin socket's handler, looks the tag up
// with the Response API, refuses deletions that would orphan children,
// then takes everything down again.
func TestCRUD_Lifecycle(t *testing.T) {
	e := newCrudEnv(t)
	ts := e.admin
	v := call(t, ts, "", "POST", "/api/v1/accounts", `{"aid":"shop","name":"Shop","mgmt_token":"shop-token"}`)
	if v.header.Get("Location") != "/api/v1/accounts/shop" {
		t.Fatalf("Location %q", v.header.Get("Location"))
	}
	if a := v.want(t, 201); a["aid"] != "shop" || a["mgmt_token_set"] != true || strings.Contains(v.body, "shop-token") || strings.Contains(v.body, "hash") {
		t.Fatalf("account %s", v.body)
	}
	call(t, ts, "", "POST", "/api/v1/accounts", `{"aid":"shop","name":"again"}`).wantError(t, 409, tagd.CodeConflict)
	// the SPEC's folder token is at most 32 letters and digits
	call(t, ts, "", "POST", "/api/v1/folders", `{"aid":"shop","name":"Web","token":"not-alnum"}`).wantError(t, 400, tagd.CodeInvalid)
	v = call(t, ts, "", "POST", "/api/v1/folders", `{"id":"web","aid":"shop","name":"Web","token":"Tok3n","cors":"https://shop.example"}`)
	if f := v.want(t, 201); f["token_set"] != true || f["status"] != "active" || f["cors"] != "https://shop.example" || strings.Contains(v.body, "Tok3n") {
		t.Fatalf("folder %s", v.body)
	}
	const meta, file = "A15EC237A15EC237A15EC237A15EC237", "B26FD348B26FD348B26FD348B26FD348"
	v = call(t, ts, "", "POST", "/api/v1/groups", `{"folder_id":"web","name":"Auth","type":"authentication",
		"ruleset":{"default":"Fail","groups":[{"response":"Pass","rules":[{"type":"tag_auth","op":"pass"}]}]},
		"profile":{"mode":"aes","params":{"picc":"picc_data","mac":"cmac"},"mac_input":"empty","file_key_source":"static","tamper_offset":-1},
		"keys":{"meta":"`+meta+`","file":"`+file+`"}}`)
	g := v.want(t, 201)
	gid, _ := g["id"].(string)
	keys, _ := g["keys"].(map[string]any)
	if gid == "" || v.header.Get("Location") != "/api/v1/groups/"+gid || keys["meta"] != true || keys["file"] != true || keys["master"] != false || g["rev"] != 1.0 {
		t.Fatalf("group %s", v.body)
	}
	if strings.Contains(strings.ToUpper(v.body), meta) || strings.Contains(strings.ToUpper(v.body), file) {
		t.Fatalf("the group's keys are in the answer: %s", v.body)
	}
	// the tag goes in a standard group (this test's checker has no SUN
	// verifier)
	v = call(t, ts, "", "POST", "/api/v1/groups", `{"folder_id":"web","name":"Std","type":"standard","ruleset":{"default":"Found {tagname}"}}`)
	std, _ := v.want(t, 201)["id"].(string)
	call(t, ts, "", "POST", "/api/v1/batches", `{"id":"wb1","group_id":"`+std+`","name":"W1"}`).want(t, 201)
	v = call(t, ts, "", "POST", "/api/v1/tags", `{"xuid":"shoptag1","batch_id":"wb1","uid":"04a1b2c3d4e5f6","name":"Shoe"}`)
	if tg := v.want(t, 201); tg["aid"] != "shop" || tg["uid"] != "04A1B2C3D4E5F6" || tg["status"] != "Active" || tg["ruleset"] != nil || tg["last_counter"] != nil {
		t.Fatalf("tag %s", v.body)
	}
	// the Response API finds it, with the folder token in r (SPEC §6)
	lookup := call(t, e.lan, "", "GET", "/v1/t?x=shoptag1&r=Tok3n", "")
	if lookup.body != `{"xuid":"shoptag1","response":"Found Shoe"}` {
		t.Fatalf("lookup %s", lookup.body)
	}
	// the GETs and lists
	if got := call(t, ts, "", "GET", "/api/v1/folders?aid=shop", ""); got.status != 200 || !strings.HasPrefix(got.body, `[{"id":"web","aid":"shop"`) || strings.Count(got.body, `"id"`) != 1 {
		t.Fatalf("folders?aid=shop: %d %s", got.status, got.body)
	}
	if got := call(t, ts, "", "GET", "/api/v1/tags?batch=wb1", ""); got.status != 200 || strings.Count(got.body, `"xuid"`) != 1 {
		t.Fatalf("tags?batch=wb1: %d %s", got.status, got.body)
	}
	call(t, ts, "", "GET", "/api/v1/groups/"+gid, "").want(t, 200)
	call(t, ts, "", "GET", "/api/v1/batches/wb1", "").want(t, 200)
	// deleting a parent with children is a conflict, and changes nothing
	before := e.dbBytes(t)
	call(t, ts, "", "DELETE", "/api/v1/accounts/shop", "").wantError(t, 409, tagd.CodeConflict)
	call(t, ts, "", "DELETE", "/api/v1/folders/web", "").wantError(t, 409, tagd.CodeConflict)
	call(t, ts, "", "DELETE", "/api/v1/groups/"+std, "").wantError(t, 409, tagd.CodeConflict)
	call(t, ts, "", "DELETE", "/api/v1/batches/wb1", "").wantError(t, 409, tagd.CodeConflict)
	if !bytes.Equal(before, e.dbBytes(t)) {
		t.Fatal("a refused DELETE changed the database")
	}
	// then bottom up
	call(t, ts, "", "DELETE", "/api/v1/tags/shoptag1", "").want(t, 204)
	if lookup := call(t, e.lan, "", "GET", "/v1/t?x=shoptag1&r=Tok3n", ""); lookup.body != `{"xuid":"","error":"xuid_not_found"}` {
		t.Fatalf("lookup of a deleted tag: %s", lookup.body)
	}
	if lookup := call(t, e.lan, "", "GET", "/v1/t?u=04A1B2C3D4E5F6&a=shop&r=Tok3n", ""); lookup.body != `{"xuid":"","uid":"04A1B2C3D4E5F6","error":"uid_not_found"}` {
		t.Fatalf("lookup of a deleted tag's UID: %s", lookup.body)
	}
	for _, p := range []string{"/api/v1/batches/wb1", "/api/v1/groups/" + std, "/api/v1/groups/" + gid, "/api/v1/folders/web", "/api/v1/accounts/shop"} {
		call(t, ts, "", "DELETE", p, "").want(t, 204)
		call(t, ts, "", "GET", p, "").wantError(t, 404, tagd.CodeNotFound)
		call(t, ts, "", "DELETE", p, "").wantError(t, 404, tagd.CodeNotFound)
	}
}

// TestCRUD_Patch: a PATCH changes the fields it names, all of them or,
// when one is wrong, none.
func TestCRUD_Patch(t *testing.T) {
	e := newCrudEnv(t)
	ts := e.admin
	v := call(t, ts, "", "PATCH", "/api/v1/tags/"+mgXUID, `{"name":"Renamed","status":"Inactive","assigned":true,"nft":{"chain":"polygon_main","contract":"0xC","token":"7","owner":"0xO"}}`)
	if tg := v.want(t, 200); tg["name"] != "Renamed" || tg["status"] != "Inactive" || tg["assigned"] != true || tg["assigned_at"] != "2026-03-04T05:06:07Z" || tg["uid"] != mgUID {
		t.Fatalf("patched tag %s", v.body)
	}
	if lookup := call(t, e.lan, "", "GET", "/v1/t?x="+mgXUID, ""); lookup.body != `{"xuid":"q8w3sbcz","error":"tag_inactive"}` {
		t.Fatalf("lookup of an inactive tag: %s", lookup.body)
	}
	before := e.dbBytes(t)
	for _, body := range []string{
		`{"name":"Half","status":"paused"}`,              // a bad status
		`{"name":"Half","uid":"04AABBCC112234x"}`,        // a bad UID
		`{"name":"Half","nft":{"chain":"polygon_main"}}`, // NFT chain without contract and token
		`{"name":"Half","nft":{"chain":"bitcoin","contract":"c","token":"t"}}`,
		`{"name":"Half","batch_id":"b-other"}`, // another account's batch
		`{"name":"Half","xuid":"zzzzzzzz"}`,    // the XUID cannot change
		`{"name":null}`,                        // null where a value is needed
		`{}`,                                   // nothing to change
		`{"name":"Half"} {"name":"Twice"}`,     // two values
		`{"name":"Half","ruleset":{"default":"x","groups":[{"response":"r","rules":[]}]}}`, // a rule group without rules
	} {
		call(t, ts, "", "PATCH", "/api/v1/tags/"+mgXUID, body).wantError(t, 400, tagd.CodeInvalid)
	}
	call(t, ts, "", "PATCH", "/api/v1/tags/"+mgOwnXUID, `{"name":"Half","cuid":"`+mgCUID+`"}`).wantError(t, 409, tagd.CodeConflict)
	call(t, ts, "", "PATCH", "/api/v1/groups/g-demo", `{"name":"Half","type":"authentication"}`).wantError(t, 400, tagd.CodeInvalid)
	call(t, ts, "", "PATCH", "/api/v1/groups/g-demo", `{"name":"Half","keys":{"file":"00112233445566778899AABBCCDDEEFF"}}`).wantError(t, 400, tagd.CodeInvalid)
	call(t, ts, "", "PATCH", "/api/v1/folders/f-demo", `{"name":"Half","cors":"https://a.example/"}`).wantError(t, 400, tagd.CodeInvalid)
	call(t, ts, "", "PATCH", "/api/v1/folders/f-demo", `{"name":"Half","aid":"other"}`).wantError(t, 400, tagd.CodeInvalid)
	call(t, ts, "", "PATCH", "/api/v1/batches/b-demo", `{"name":"Half","group_id":"g-other"}`).wantError(t, 400, tagd.CodeInvalid)
	call(t, ts, "", "PATCH", "/api/v1/accounts/demo", `{"name":"Half","mgmt_token":"has space"}`).wantError(t, 400, tagd.CodeInvalid)
	call(t, ts, "", "PATCH", "/api/v1/tags/nosuchtg", `{"name":"x"}`).wantError(t, 404, tagd.CodeNotFound)
	if !bytes.Equal(before, e.dbBytes(t)) {
		t.Fatal("a refused PATCH changed the database")
	}
	// null ruleset reverts to the group's (ixkio's "break the link" undone)
	v = call(t, ts, "", "PATCH", "/api/v1/tags/"+mgOwnXUID, `{"ruleset":null}`)
	if tg := v.want(t, 200); tg["ruleset"] != nil {
		t.Fatalf("tag after ruleset null: %s", v.body)
	}
	if lookup := call(t, e.lan, "", "GET", "/v1/t?x="+mgOwnXUID, ""); lookup.body != `{"xuid":"owngrp01","response":"Found"}` {
		t.Fatalf("lookup after revert: %s", lookup.body)
	}
	// a folder token set by PATCH guards the Response API at once
	call(t, ts, "", "PATCH", "/api/v1/folders/f-demo", `{"token":"Secret42"}`).want(t, 200)
	if lookup := call(t, e.lan, "", "GET", "/v1/t?x="+mgOwnXUID, ""); lookup.body != `{"xuid":"owngrp01","error":"token_invalid"}` {
		t.Fatalf("lookup without the new token: %s", lookup.body)
	}
	if lookup := call(t, e.lan, "", "GET", "/v1/t?x="+mgOwnXUID+"&r=Secret42", ""); lookup.body != `{"xuid":"owngrp01","response":"Found"}` {
		t.Fatalf("lookup with the new token: %s", lookup.body)
	}
	// a group's default response changes what its tags answer
	call(t, ts, "", "PATCH", "/api/v1/groups/g-demo", `{"ruleset":{"default":"Genuine {xuid}"}}`).want(t, 200)
	if lookup := call(t, e.lan, "", "GET", "/v1/t?x="+mgOwnXUID+"&r=Secret42", ""); lookup.body != `{"xuid":"owngrp01","response":"Genuine owngrp01"}` {
		t.Fatalf("lookup after the group's change: %s", lookup.body)
	}
}

// TestCRUD_Keys: over the LAN handler every CRUD route needs the private
// scope; group keys need admin; a key of one account reaches only its
// account's objects.
func TestCRUD_Keys(t *testing.T) {
	e := newCrudEnv(t)
	for _, pattern := range httpapi.CatalogRoutes() {
		method, path, _ := strings.Cut(pattern, " ")
		path = strings.ReplaceAll(path, "{id}", "whatever")
		call(t, e.lan, "", method, path, "").wantError(t, 400, httpapi.CodeMissingAPIKey)
	}
	// private: everything but keys
	call(t, e.lan, crudPrivate, "GET", "/api/v1/groups/g-demo", "").want(t, 200)
	const keysBody = `{"keys":{"meta":"00112233445566778899AABBCCDDEEFF"}}`
	call(t, e.lan, crudPrivate, "POST", "/api/v1/groups", `{"folder_id":"f-demo","name":"A","type":"authentication","keys":{"meta":"00112233445566778899AABBCCDDEEFF"}}`).wantError(t, 403, httpapi.CodeInsufficientScope)
	call(t, e.lan, crudPrivate, "PATCH", "/api/v1/groups/g-demo", keysBody).wantError(t, 403, httpapi.CodeInsufficientScope)
	v := call(t, e.lan, crudAdmin, "POST", "/api/v1/groups", `{"folder_id":"f-demo","name":"A","type":"authentication","keys":{"meta":"00112233445566778899AABBCCDDEEFF"}}`)
	if g := v.want(t, 201); g["keys"].(map[string]any)["meta"] != true {
		t.Fatalf("group %s", v.body)
	}
	// account "other"'s key
	if got := call(t, e.lan, crudOther, "GET", "/api/v1/accounts", ""); got.status != 200 || !strings.HasPrefix(got.body, `[{"aid":"other"`) || strings.Count(got.body, `"aid"`) != 1 {
		t.Fatalf("accounts for other's key: %d %s", got.status, got.body)
	}
	if got := call(t, e.lan, crudOther, "GET", "/api/v1/folders?aid=demo", ""); got.status != 200 || got.body != "[]" {
		t.Fatalf("demo's folders for other's key: %d %s", got.status, got.body)
	}
	if got := call(t, e.lan, crudOther, "GET", "/api/v1/tags", ""); got.status != 200 || !strings.Contains(got.body, mgOtherTag) || strings.Contains(got.body, mgXUID) {
		t.Fatalf("tags for other's key: %d %s", got.status, got.body)
	}
	before := e.dbBytes(t)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/accounts/demo", ""},
		{"GET", "/api/v1/folders/f-demo", ""},
		{"GET", "/api/v1/groups/g-demo", ""},
		{"GET", "/api/v1/batches/b-demo", ""},
		{"GET", "/api/v1/tags/" + mgXUID, ""},
		{"PATCH", "/api/v1/tags/" + mgXUID, `{"name":"x"}`},
		{"DELETE", "/api/v1/tags/" + mgXUID, ""},
		{"POST", "/api/v1/tags", `{"batch_id":"b-demo"}`},
		{"POST", "/api/v1/folders", `{"aid":"demo","name":"x"}`},
	} {
		call(t, e.lan, crudOther, c.method, c.path, c.body).wantError(t, 404, tagd.CodeNotFound)
	}
	call(t, e.lan, crudOther, "POST", "/api/v1/accounts", `{"aid":"mine","name":"x"}`).wantError(t, 403, httpapi.CodeInsufficientScope)
	call(t, e.lan, crudOther, "DELETE", "/api/v1/accounts/other", "").wantError(t, 403, httpapi.CodeInsufficientScope)
	if !bytes.Equal(before, e.dbBytes(t)) {
		t.Fatal("a refused request changed the database")
	}
	call(t, e.lan, crudOther, "PATCH", "/api/v1/tags/"+mgOtherTag, `{"name":"mine"}`).want(t, 200)
}

// TestCRUD_TagPages: GET /api/v1/tags pages by XUID with limit and after,
// and a Link header to the next page.
func TestCRUD_TagPages(t *testing.T) {
	e := newCrudEnv(t)
	for _, x := range []string{"page0001", "page0002", "page0003"} {
		call(t, e.admin, "", "POST", "/api/v1/tags", `{"xuid":"`+x+`","batch_id":"b-demo"}`).want(t, 201)
	}
	var got []string
	path := "/api/v1/tags?batch=b-demo&limit=2"
	for range 10 {
		a := call(t, e.admin, "", "GET", path, "")
		var tags []httpapi.TagInfo
		if a.status != 200 || json.Unmarshal([]byte(a.body), &tags) != nil || len(tags) > 2 {
			t.Fatalf("GET %s: %d %s", path, a.status, a.body)
		}
		for _, tg := range tags {
			got = append(got, tg.XUID)
		}
		link := a.header.Get("Link")
		if link == "" {
			break
		}
		next, ok := strings.CutPrefix(link, "<")
		next, ok2 := strings.CutSuffix(next, `>; rel="next"`)
		if !ok || !ok2 {
			t.Fatalf("Link %q", link)
		}
		path = next
	}
	if want := "owngrp01 page0001 page0002 page0003 q8w3sbcz"; strings.Join(got, " ") != want {
		t.Fatalf("pages: %q, want %q", got, want)
	}
	call(t, e.admin, "", "GET", "/api/v1/tags?limit=0", "").wantError(t, 400, tagd.CodeInvalid)
	call(t, e.admin, "", "GET", "/api/v1/tags?limit=1001", "").wantError(t, 400, tagd.CodeInvalid)
}

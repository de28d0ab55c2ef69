package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/httpapi"
	"github.com/tagd-nfc/tagd/internal/syncbuf"
	"github.com/tagd-nfc/tagd/internal/testclock"
	"github.com/tagd-nfc/tagd/store"
)

// The store is what cmd/tagd sets as Server.Manage.
var _ httpapi.ManageStore = (*store.DB)(nil)

// Fixtures of the Management API tests: the demo account of cmd/tagd
// (AID demo, token demo, tag q8w3sbcz / yourcuid / 04AABBCC112233), a tag
// with its own rule groups, and other accounts to cross tokens with.
const (
	mgXUID     = "q8w3sbcz"
	mgCUID     = "yourcuid"
	mgUID      = "04AABBCC112233"
	mgOwnXUID  = "owngrp01" // demo tag with its own ruleset (rule groups)
	mgOtherTag = "othertg1" // tag of account "other", also CUID yourcuid
	mgNoTokTag = "notoken1" // tag of account "notoken" (no Management token)
	mgOffTag   = "apioff01" // tag of account "off" (API disabled)

	mgToken      = "demo"
	mgOtherToken = "other-Secret-token-7f3a"
	mgOffToken   = "off-token"
)

// mgEnv is a server with a real store behind the Management API and the
// Response API.
type mgEnv struct {
	db    *store.DB
	srv   *httpapi.Server
	h     http.Handler
	ts    *httptest.Server
	clock *testclock.Clock
	log   *syncbuf.Buffer
}

// newMgEnv opens a store in a temporary directory, fills it with the
// fixtures and serves it.
func newMgEnv(t testing.TB) *mgEnv {
	t.Helper()
	ctx := context.Background()
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	db, err := store.Open(filepath.Join(t.TempDir(), "tagd.db"), store.Options{
		KEK: bytes.Repeat([]byte{0x4b}, 32), Now: func() time.Time { return created }, NoSync: true,
	})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Check(context.Background()); err != nil {
			t.Errorf("store Check: %v", err)
		}
		db.Close()
	})
	hash := func(tok string) []byte { h := sha256.Sum256([]byte(tok)); return h[:] }
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	for _, a := range []tagd.Account{
		{AID: "demo", Name: "Demo", MgmtTokenHash: hash(mgToken)},
		{AID: "other", Name: "Other", MgmtTokenHash: hash(mgOtherToken)},
		{AID: "notoken", Name: "No token"},
		{AID: "off", Name: "API off", MgmtTokenHash: hash(mgOffToken), APIDisabled: true},
	} {
		must("account "+a.AID, db.CreateAccount(ctx, a))
		must("folder "+a.AID, db.CreateFolder(ctx, &tagd.Folder{ID: "f-" + a.AID, AID: a.AID, Name: "F", Status: tagd.StatusActive}))
		must("group "+a.AID, db.CreateGroup(ctx, &tagd.TagGroup{ID: "g-" + a.AID, FolderID: "f-" + a.AID, Name: "Standard",
			Type: tagd.GroupStandard, Status: tagd.StatusActive, Ruleset: tagd.Ruleset{Default: "Found"}}, tagd.Keys{}))
		must("batch "+a.AID, db.CreateBatch(ctx, &tagd.Batch{ID: "b-" + a.AID, GroupID: "g-" + a.AID, Name: "B1", Status: tagd.StatusActive}))
	}
	for _, tg := range []tagd.Tag{
		{XUID: mgXUID, BatchID: "b-demo", UID: mgUID, CUID: mgCUID, Name: "Demo product"},
		{XUID: mgOwnXUID, BatchID: "b-demo", CUID: "own", Ruleset: &tagd.Ruleset{Default: "Mine",
			Groups: []tagd.RuleGroup{{Response: "Early", Rules: []tagd.Rule{{Type: tagd.RuleScanCount, Op: "gt", Value: "100"}}}}}},
		{XUID: mgOtherTag, BatchID: "b-other", UID: "04AABBCC112234", CUID: mgCUID},
		{XUID: mgNoTokTag, BatchID: "b-notoken", CUID: mgCUID},
		{XUID: mgOffTag, BatchID: "b-off", CUID: mgCUID},
	} {
		must("tag "+tg.XUID, db.CreateTag(ctx, &tg, nil))
	}
	e := &mgEnv{db: db, clock: testclock.New(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)), log: &syncbuf.Buffer{}}
	e.srv = &httpapi.Server{
		Checker: &tagd.Checker{Store: db, Now: e.clock.Now, Rand: func() uint64 { return 7 }},
		Manage:  db,
		Now:     e.clock.Now,
		Logger:  slog.New(slog.NewTextHandler(e.log, nil)),
	}
	e.h = e.srv.Handler()
	e.ts = httptest.NewServer(e.h)
	t.Cleanup(e.ts.Close)
	return e
}

// tag reads tag xuid back.
func (e *mgEnv) tag(t testing.TB, xuid string) *tagd.Tag {
	t.Helper()
	tg, err := e.db.Tag(context.Background(), xuid)
	if err != nil {
		t.Fatalf("Tag(%s): %v", xuid, err)
	}
	return tg
}

// tagBytes is the stored tag xuid, serialised.
func (e *mgEnv) tagBytes(t testing.TB, xuid string) []byte {
	t.Helper()
	b, err := json.Marshal(e.tag(t, xuid))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dbBytes is a backup of the whole database: equal backups mean nothing
// was committed in between.
func (e *mgEnv) dbBytes(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := e.db.Backup(context.Background(), &buf); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	return buf.Bytes()
}

// mgReq is one Management API request.
type mgReq struct {
	method string // default PATCH
	path   string // default /v1/x/q8w3sbcz
	query  string // raw, without '?'
	ctype  string
	body   string
	hdr    []string // name/value pairs; default X-API-Key: demo
}

// do sends q and returns the status, headers and body.
func (e *mgEnv) do(t testing.TB, q mgReq) (int, http.Header, string) {
	t.Helper()
	if q.method == "" {
		q.method = http.MethodPatch
	}
	if q.path == "" {
		q.path = "/v1/x/" + mgXUID
	}
	if q.hdr == nil {
		q.hdr = []string{"X-API-Key", mgToken}
	}
	u := e.ts.URL + q.path
	if q.query != "" {
		u += "?" + q.query
	}
	req, err := http.NewRequest(q.method, u, strings.NewReader(q.body))
	if err != nil {
		t.Fatal(err)
	}
	if q.ctype != "" {
		req.Header.Set("Content-Type", q.ctype)
	}
	for i := 0; i+1 < len(q.hdr); i += 2 {
		req.Header.Add(q.hdr[i], q.hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

// patch sends q and fails unless the reply is a Management API reply (200,
// JSON, valid).
func (e *mgEnv) patch(t testing.TB, q mgReq) string {
	t.Helper()
	status, h, body := e.do(t, q)
	if status != http.StatusOK || h.Get("Content-Type") != "application/json" || !json.Valid([]byte(body)) {
		t.Fatalf("%s %s: status %d, Content-Type %q, body %s; want 200 JSON", q.method, q.path, status, h.Get("Content-Type"), body)
	}
	return body
}

// mgOK and mgErr are the replies for a request by XUID.
func mgOK(xuid string) string {
	return `{"status":"success","message":"Updated","xuid":"` + xuid + `"}`
}

func mgErr(msg, xuid string) string {
	return `{"status":"error","message":"` + msg + `","xuid":"` + xuid + `"}`
}

// kv is a parameter; an encoding turns a list of them into a request.
type kv struct{ k, v string }

type mgEncoding struct {
	name string
	enc  func(t testing.TB, ps []kv) mgReq
}

func formText(ps []kv) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.k) + "=" + url.QueryEscape(p.v))
	}
	return b.String()
}

// mgEncodings are the four ways to send parameters.
func mgEncodings() []mgEncoding {
	return []mgEncoding{
		{"form", func(_ testing.TB, ps []kv) mgReq {
			return mgReq{ctype: "application/x-www-form-urlencoded", body: formText(ps)}
		}},
		{"multipart", func(t testing.TB, ps []kv) mgReq {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			for _, p := range ps {
				if err := mw.WriteField(p.k, p.v); err != nil {
					t.Fatal(err)
				}
			}
			if err := mw.Close(); err != nil {
				t.Fatal(err)
			}
			return mgReq{ctype: mw.FormDataContentType(), body: buf.String()}
		}},
		{"json", func(t testing.TB, ps []kv) mgReq {
			var b strings.Builder
			b.WriteByte('{')
			for i, p := range ps {
				if i > 0 {
					b.WriteByte(',')
				}
				k, _ := json.Marshal(p.k)
				v, _ := json.Marshal(p.v)
				b.Write(k)
				b.WriteByte(':')
				b.Write(v)
			}
			b.WriteByte('}')
			return mgReq{ctype: "application/json; charset=utf-8", body: b.String()}
		}},
		{"query", func(_ testing.TB, ps []kv) mgReq {
			return mgReq{query: formText(ps)}
		}},
	}
}

// TestManage_Parameters applies every parameter and alias in every
// encoding and reads the tag back after each request.
func TestManage_Parameters(t *testing.T) {
	t1 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	nft := tagd.NFT{Chain: "polygon_main", Contract: "0xC0ffee254729296a45a3885639AC7E10F9d54979", Token: "42"}
	steps := []struct {
		name  string
		ps    []kv
		check func(t *testing.T, tg *tagd.Tag)
	}{
		{"ix_s Inactive", []kv{{"ix_s", "Inactive"}}, func(t *testing.T, tg *tagd.Tag) {
			want(t, "status", tg.Status, tagd.TagInactive)
		}},
		{"ix_s any case", []kv{{"ix_s", "aCtIvE"}}, func(t *testing.T, tg *tagd.Tag) {
			want(t, "status", tg.Status, tagd.TagActive)
		}},
		{"ix_status", []kv{{"ix_status", "INACTIVE"}}, func(t *testing.T, tg *tagd.Tag) {
			want(t, "status", tg.Status, tagd.TagInactive)
		}},
		{"ix_a Assigned", []kv{{"ix_a", "Assigned"}}, func(t *testing.T, tg *tagd.Tag) {
			want(t, "assigned", tg.Assigned, true)
			want(t, "assigned_at", tg.AssignedAt.UTC(), t1)
		}},
		{"ix_assigned unassigned", []kv{{"ix_assigned", "unassigned"}}, func(t *testing.T, tg *tagd.Tag) {
			want(t, "assigned", tg.Assigned, false)
			want(t, "assigned_at (kept)", tg.AssignedAt.UTC(), t1)
		}},
		{"nft triple", []kv{{"ix_nftchain", "Polygon_Main"}, {"ix_nftcontract", nft.Contract}, {"ix_nfttoken", nft.Token}}, func(t *testing.T, tg *tagd.Tag) {
			want(t, "nft", tg.NFT, nft)
		}},
		{"ix_nftowner", []kv{{"ix_nftowner", "0xOwner1"}}, func(t *testing.T, tg *tagd.Tag) {
			want(t, "nft", tg.NFT, tagd.NFT{Chain: nft.Chain, Contract: nft.Contract, Token: nft.Token, Owner: "0xOwner1"})
		}},
		{"ix_owner", []kv{{"ix_owner", "0xOwner2"}}, func(t *testing.T, tg *tagd.Tag) {
			want(t, "owner", tg.NFT.Owner, "0xOwner2")
		}},
		{"ix_nftwallet", []kv{{"ix_nftwallet", "0xOwner3"}}, func(t *testing.T, tg *tagd.Tag) {
			want(t, "owner", tg.NFT.Owner, "0xOwner3")
		}},
		{"nft triple cleared, owner kept", []kv{{"ix_nftchain", ""}, {"ix_nftcontract", ""}, {"ix_nfttoken", ""}}, func(t *testing.T, tg *tagd.Tag) {
			want(t, "nft", tg.NFT, tagd.NFT{Owner: "0xOwner3"})
		}},
		{"owner cleared", []kv{{"ix_nftowner", ""}}, func(t *testing.T, tg *tagd.Tag) {
			want(t, "nft", tg.NFT, tagd.NFT{})
		}},
		{"ix_dr set", []kv{{"ix_dr", "https://seritag.com/?a=1&b=ü {xuid}"}}, func(t *testing.T, tg *tagd.Tag) {
			if tg.Ruleset == nil || tg.Ruleset.Default != "https://seritag.com/?a=1&b=ü {xuid}" || tg.Ruleset.Groups != nil {
				t.Fatalf("ruleset %+v, want own default only", tg.Ruleset)
			}
		}},
		{"ix_dr empty reverts", []kv{{"ix_dr", ""}}, func(t *testing.T, tg *tagd.Tag) {
			if tg.Ruleset != nil {
				t.Fatalf("ruleset %+v, want nil (inherit)", tg.Ruleset)
			}
		}},
		{"everything at once", []kv{{"ix_dr", "Pass"}, {"ix_s", "inactive"}, {"ix_a", "assigned"}, {"ix_nftchain", "etherium_test"},
			{"ix_nftcontract", "0xabc"}, {"ix_nfttoken", "7"}, {"ix_nftowner", "0xdef"}}, func(t *testing.T, tg *tagd.Tag) {
			want(t, "status", tg.Status, tagd.TagInactive)
			want(t, "assigned", tg.Assigned, true)
			want(t, "nft", tg.NFT, tagd.NFT{Chain: "etherium_test", Contract: "0xabc", Token: "7", Owner: "0xdef"})
			if tg.Ruleset == nil || tg.Ruleset.Default != "Pass" {
				t.Fatalf("ruleset %+v, want default Pass", tg.Ruleset)
			}
		}},
	}
	for _, enc := range mgEncodings() {
		t.Run(enc.name, func(t *testing.T) {
			e := newMgEnv(t)
			e.clock.Set(t1)
			for _, st := range steps {
				q := enc.enc(t, st.ps)
				if got := e.patch(t, q); got != mgOK(mgXUID) {
					t.Fatalf("%s: reply %s", st.name, got)
				}
				t.Run(st.name, func(t *testing.T) { st.check(t, e.tag(t, mgXUID)) })
			}
			// Nothing else of the tag changed.
			tg := e.tag(t, mgXUID)
			if tg.UID != mgUID || tg.CUID != mgCUID || tg.Name != "Demo product" || tg.BatchID != "b-demo" || tg.AID != "demo" {
				t.Fatalf("tag identity changed: %+v", tg)
			}
		})
	}
}

// want fails unless got == want.
func want[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

// TestManage_Errors sends every documented error (and tagd's own) and
// checks the exact reply and that the database did not change at all.
func TestManage_Errors(t *testing.T) {
	e := newMgEnv(t)
	long := strings.Repeat("x", 2049)
	x := mgXUID
	form := "application/x-www-form-urlencoded"
	jsonT := "application/json"
	aCUID := func(msg, xuid, cuid string) string {
		return `{"status":"error","message":"` + msg + `","xuid":"` + xuid + `","cuid":"` + cuid + `"}`
	}
	aUID := func(msg, xuid, uid string) string {
		return `{"status":"error","message":"` + msg + `","xuid":"` + xuid + `","uid":"` + uid + `"}`
	}
	for _, tt := range []struct {
		name string
		q    mgReq
		want string
	}{
		// values
		{"Invalid Status", mgReq{ctype: form, body: "ix_s=Paused"}, mgErr("Invalid Status", x)},
		{"Invalid Status empty", mgReq{ctype: form, body: "ix_s="}, mgErr("Invalid Status", x)},
		{"Invalid Status space", mgReq{ctype: form, body: "ix_s=Active+"}, mgErr("Invalid Status", x)},
		{"Invalid Assigned", mgReq{ctype: form, body: "ix_a=yes"}, mgErr("Invalid Assigned", x)},
		{"Invalid Assigned long s", mgReq{ctype: form, body: "ix_a=a%C5%BF%C5%BFigned"}, mgErr("Invalid Assigned", x)},
		{"Invalid Assigned empty", mgReq{query: "ix_assigned="}, mgErr("Invalid Assigned", x)},
		{"Invalid NFT Chain", mgReq{ctype: form, body: "ix_nftchain=ethereum_main&ix_nftcontract=0x1&ix_nfttoken=1"}, mgErr("Invalid NFT Chain", x)},
		{"Invalid NFT Chain alone", mgReq{ctype: form, body: "ix_nftchain=bitcoin"}, mgErr("Invalid NFT Chain", x)},
		{"Incomplete NFT Data chain only", mgReq{ctype: form, body: "ix_nftchain=polygon_main"}, mgErr("Incomplete NFT Data", x)},
		{"Incomplete NFT Data two", mgReq{ctype: form, body: "ix_nftcontract=0x1&ix_nfttoken=1"}, mgErr("Incomplete NFT Data", x)},
		{"Incomplete NFT Data token empty", mgReq{ctype: form, body: "ix_nftchain=polygon_main&ix_nftcontract=0x1&ix_nfttoken="}, mgErr("Incomplete NFT Data", x)},
		{"Incomplete NFT Data chain empty", mgReq{ctype: form, body: "ix_nftchain=&ix_nftcontract=0x1&ix_nfttoken=2"}, mgErr("Incomplete NFT Data", x)},
		{"Incomplete NFT Data clear two", mgReq{ctype: form, body: "ix_nftchain=&ix_nftcontract="}, mgErr("Incomplete NFT Data", x)},
		{"Invalid NFT Data control", mgReq{ctype: jsonT, body: `{"ix_nftchain":"polygon_test","ix_nftcontract":"0x\u0000","ix_nfttoken":"1"}`}, mgErr("Invalid NFT Data", x)},
		{"Invalid NFT Data long", mgReq{ctype: form, body: "ix_nftchain=polygon_test&ix_nftcontract=0x1&ix_nfttoken=" + long[:257]}, mgErr("Invalid NFT Data", x)},
		{"Invalid NFT Owner", mgReq{ctype: form, body: "ix_nftowner=%0A"}, mgErr("Invalid NFT Owner", x)},
		{"Invalid NFT Owner utf8", mgReq{ctype: form, body: "ix_owner=%FF"}, mgErr("Invalid NFT Owner", x)},
		{"Invalid Default Response long", mgReq{ctype: form, body: "ix_dr=" + long}, mgErr("Invalid Default Response", x)},
		{"Invalid Default Response control", mgReq{ctype: form, body: "ix_dr=a%09b"}, mgErr("Invalid Default Response", x)},
		// the token
		{"Invalid Token missing", mgReq{hdr: []string{}, ctype: form, body: "ix_s=Inactive"}, mgErr("Invalid Token", x)},
		{"Invalid Token wrong", mgReq{hdr: []string{"X-API-Key", "Demo"}, ctype: form, body: "ix_s=Inactive"}, mgErr("Invalid Token", x)},
		{"Invalid Token empty", mgReq{hdr: []string{"X-API-Key", ""}, ctype: form, body: "ix_s=Inactive"}, mgErr("Invalid Token", x)},
		{"Invalid Token other account", mgReq{hdr: []string{"X-API-Key", mgOtherToken}, ctype: form, body: "ix_s=Inactive"}, mgErr("Invalid Token", x)},
		{"Invalid Token in query r", mgReq{hdr: []string{}, query: "r=demo", ctype: form, body: "ix_s=Inactive"}, mgErr("Invalid Token", x)},
		{"Invalid Token in body", mgReq{hdr: []string{}, ctype: form, body: "ix_s=Inactive&r=demo"}, mgErr("Invalid Token", x)},
		{"Invalid Token first header counts", mgReq{hdr: []string{"X-API-Key", "nope", "Ixkio-R", mgToken}, ctype: form, body: "ix_s=Inactive"}, mgErr("Invalid Token", x)},
		{"Invalid Token account without token", mgReq{path: "/v1/x/" + mgNoTokTag, hdr: []string{"X-API-Key", ""}, ctype: form, body: "ix_s=Inactive"}, mgErr("Invalid Token", mgNoTokTag)},
		{"Invalid Token account without token 2", mgReq{path: "/v1/x/" + mgNoTokTag, hdr: []string{"X-API-Key", mgToken}, ctype: form, body: "ix_s=Inactive"}, mgErr("Invalid Token", mgNoTokTag)},
		{"Invalid Token by CUID", mgReq{path: "/v1/a/demo", hdr: []string{"ix_c", mgCUID, "X-API-Key", "x"}, ctype: form, body: "ix_s=Inactive"}, aCUID("Invalid Token", "", mgCUID)},
		{"Invalid Token by CUID other account", mgReq{path: "/v1/a/other", hdr: []string{"ix_c", mgCUID, "X-API-Key", mgToken}, ctype: form, body: "ix_s=Inactive"}, aCUID("Invalid Token", "", mgCUID)},
		{"Invalid Token before unknown CUID", mgReq{path: "/v1/a/demo", hdr: []string{"ix_c", "nosuch"}, ctype: form, body: "ix_s=Inactive"}, aCUID("Invalid Token", "", "nosuch")},
		{"API Disabled", mgReq{path: "/v1/x/" + mgOffTag, hdr: []string{"X-API-Key", mgOffToken}, ctype: form, body: "ix_s=Inactive"}, mgErr("API Disabled", mgOffTag)},
		{"API Disabled wrong token", mgReq{path: "/v1/x/" + mgOffTag, hdr: []string{"X-API-Key", "x"}, ctype: form, body: "ix_s=Inactive"}, mgErr("Invalid Token", mgOffTag)},
		// addressing
		{"Tag Code Not Found", mgReq{path: "/v1/x/zzzzzzzz", ctype: form, body: "ix_s=Inactive"}, mgErr("Tag Code Not Found", "")},
		{"Tag Code Not Found case", mgReq{path: "/v1/x/Q8W3SBCZ", ctype: form, body: "ix_s=Inactive"}, mgErr("Tag Code Not Found", "")},
		{"Tag Code Not Found escaped", mgReq{path: "/v1/x/%00", ctype: form, body: "ix_s=Inactive"}, mgErr("Tag Code Not Found", "")},
		{"Account Not Found", mgReq{path: "/v1/a/nosuch", hdr: []string{"ix_c", mgCUID, "X-API-Key", mgToken}, ctype: form, body: "ix_s=Inactive"}, aCUID("Account Not Found", "", mgCUID)},
		{"Account Not Found by UID", mgReq{path: "/v1/a/nosuch", hdr: []string{"ix_u", "04aabbcc112233", "X-API-Key", mgToken}, ctype: form, body: "ix_s=Inactive"}, aUID("Account Not Found", "", mgUID)},
		{"CUID Not Found", mgReq{path: "/v1/a/demo", hdr: []string{"ix_c", "nosuch", "X-API-Key", mgToken}, ctype: form, body: "ix_s=Inactive"}, aCUID("CUID Not Found", "", "nosuch")},
		{"CUID Not Found case-sensitive", mgReq{path: "/v1/a/demo", hdr: []string{"ix_c", "YOURCUID", "X-API-Key", mgToken}, ctype: form, body: "ix_s=Inactive"}, aCUID("CUID Not Found", "", "YOURCUID")},
		{"UID Not Found", mgReq{path: "/v1/a/demo", hdr: []string{"ix_u", "04AABBCC112234", "X-API-Key", mgToken}, ctype: form, body: "ix_s=Inactive"}, aUID("UID Not Found", "", "04AABBCC112234")},
		{"UID Not Found malformed", mgReq{path: "/v1/a/demo", hdr: []string{"ix_u", "xyz", "X-API-Key", mgToken}, ctype: form, body: "ix_s=Inactive"}, aUID("UID Not Found", "", "XYZ")},
		{"Missing CUID or UID", mgReq{path: "/v1/a/demo", ctype: form, body: "ix_s=Inactive"}, mgErr("Missing CUID or UID", "")},
		{"Missing CUID or UID empty header", mgReq{path: "/v1/a/demo", hdr: []string{"ix_c", "", "X-API-Key", mgToken}, ctype: form, body: "ix_s=Inactive"}, mgErr("Missing CUID or UID", "")},
		{"Missing CUID or UID in body", mgReq{path: "/v1/a/demo", ctype: form, body: "ix_c=yourcuid&ix_s=Inactive"}, mgErr("Missing CUID or UID", "")},
		{"Ambiguous CUID or UID", mgReq{path: "/v1/a/demo", hdr: []string{"ix_c", mgCUID, "ix_u", mgUID, "X-API-Key", mgToken}, ctype: form, body: "ix_s=Inactive"}, mgErr("Ambiguous CUID or UID", "")},
		{"Ambiguous CUID twice", mgReq{path: "/v1/a/demo", hdr: []string{"ix_c", mgCUID, "ix_c", mgCUID, "X-API-Key", mgToken}, ctype: form, body: "ix_s=Inactive"}, mgErr("Ambiguous CUID or UID", "")},
		// parameters
		{"No Parameters", mgReq{}, mgErr("No Parameters", x)},
		{"No Parameters empty json", mgReq{ctype: jsonT, body: "{}"}, mgErr("No Parameters", x)},
		{"No Parameters empty form", mgReq{ctype: form, body: "&&"}, mgErr("No Parameters", x)},
		{"No Parameters other query", mgReq{query: "cachebust=123&r=demo"}, mgErr("No Parameters", x)},
		{"No Parameters by CUID", mgReq{path: "/v1/a/demo", hdr: []string{"ix_c", mgCUID, "X-API-Key", mgToken}}, aCUID("No Parameters", x, mgCUID)},
		{"Unknown Parameter body", mgReq{ctype: form, body: "ix_s=Inactive&status=Active"}, mgErr("Unknown Parameter", x)},
		{"Unknown Parameter json", mgReq{ctype: jsonT, body: `{"ix_s":"Inactive","note":"x"}`}, mgErr("Unknown Parameter", x)},
		{"Unknown Parameter query ix_", mgReq{query: "ix_s=Inactive&ix_foo=1"}, mgErr("Unknown Parameter", x)},
		{"Unknown Parameter query IX_S", mgReq{query: "IX_S=Inactive"}, mgErr("Unknown Parameter", x)},
		{"Unknown Parameter ix_c in body", mgReq{ctype: form, body: "ix_c=yourcuid&ix_s=Inactive"}, mgErr("Unknown Parameter", x)},
		{"Duplicate Parameter", mgReq{ctype: form, body: "ix_s=Inactive&ix_s=Inactive"}, mgErr("Duplicate Parameter", x)},
		{"Duplicate Parameter alias", mgReq{ctype: form, body: "ix_s=Inactive&ix_status=Inactive"}, mgErr("Duplicate Parameter", x)},
		{"Duplicate Parameter owner aliases", mgReq{ctype: form, body: "ix_owner=a&ix_nftwallet=a"}, mgErr("Duplicate Parameter", x)},
		{"Duplicate Parameter query and body", mgReq{query: "ix_s=Inactive", ctype: form, body: "ix_s=Inactive"}, mgErr("Duplicate Parameter", x)},
		{"Duplicate Parameter json", mgReq{ctype: jsonT, body: `{"ix_s":"Inactive","ix_s":"Active"}`}, mgErr("Duplicate Parameter", x)},
		{"Invalid Body json syntax", mgReq{ctype: jsonT, body: `{"ix_s":"Inactive"`}, mgErr("Invalid Body", x)},
		{"Invalid Body json number", mgReq{ctype: jsonT, body: `{"ix_nfttoken":42}`}, mgErr("Invalid Body", x)},
		{"Invalid Body json null", mgReq{ctype: jsonT, body: `{"ix_dr":null}`}, mgErr("Invalid Body", x)},
		{"Invalid Body json nested", mgReq{ctype: jsonT, body: `{"ix_dr":{"a":"b"}}`}, mgErr("Invalid Body", x)},
		{"Invalid Body json array", mgReq{ctype: jsonT, body: `[["ix_s","Inactive"]]`}, mgErr("Invalid Body", x)},
		{"Invalid Body json trailing", mgReq{ctype: jsonT, body: `{"ix_s":"Inactive"} {}`}, mgErr("Invalid Body", x)},
		{"Invalid Body json unknown before syntax error", mgReq{ctype: jsonT, body: `{"nope":"x",}`}, mgErr("Invalid Body", x)},
		{"Invalid Body form escape", mgReq{ctype: form, body: "ix_s=%zz"}, mgErr("Invalid Body", x)},
		{"Invalid Body content type", mgReq{ctype: "text/plain", body: "ix_s=Inactive"}, mgErr("Invalid Body", x)},
		{"Invalid Body bad content type", mgReq{ctype: "application/json; =", body: `{"ix_s":"Inactive"}`}, mgErr("Invalid Body", x)},
		{"Invalid Body multipart no boundary", mgReq{ctype: "multipart/form-data", body: "--x\r\n\r\n--x--\r\n"}, mgErr("Invalid Body", x)},
		{"Invalid Body multipart file", mgReq{ctype: "multipart/form-data; boundary=B",
			body: "--B\r\nContent-Disposition: form-data; name=\"ix_dr\"; filename=\"a.txt\"\r\n\r\nx\r\n--B--\r\n"}, mgErr("Invalid Body", x)},
		{"Invalid Body multipart truncated", mgReq{ctype: "multipart/form-data; boundary=B",
			body: "--B\r\nContent-Disposition: form-data; name=\"ix_s\"\r\n\r\nInactive"}, mgErr("Invalid Body", x)},
		{"Invalid Body gzip", mgReq{hdr: []string{"X-API-Key", mgToken, "Content-Encoding", "gzip"}, ctype: form, body: "ix_s=Inactive"}, mgErr("Invalid Body", x)},
		{"Body Too Large", mgReq{ctype: form, body: "ix_s=Inactive&ix_dr=" + strings.Repeat("a", 64<<10)}, mgErr("Body Too Large", x)},
		{"Invalid Query", mgReq{query: "ix_s=%zz"}, mgErr("Invalid Query", x)},
		{"Invalid Query other name", mgReq{query: "q=%", ctype: form, body: "ix_s=Inactive"}, mgErr("Invalid Query", x)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := e.dbBytes(t)
			if got := e.patch(t, tt.q); got != tt.want {
				t.Fatalf("reply\n %s\nwant\n %s", got, tt.want)
			}
			if !bytes.Equal(e.dbBytes(t), before) {
				t.Fatal("the database changed")
			}
		})
	}
	if strings.Contains(e.log.String(), "level=ERROR") {
		t.Fatalf("errors logged:\n%s", e.log.String())
	}
}

// TestManage_BadFieldChangesNothing sends valid values for every field
// but one, in every encoding: the reply names the bad one and the tag
// (indeed the whole database) stays as it was, byte for byte.
func TestManage_BadFieldChangesNothing(t *testing.T) {
	good := []kv{{"ix_dr", "Changed"}, {"ix_s", "Inactive"}, {"ix_a", "Assigned"}, {"ix_nftchain", "polygon_main"},
		{"ix_nftcontract", "0x1"}, {"ix_nfttoken", "1"}, {"ix_nftowner", "0x2"}}
	bad := []struct {
		k, v, msg string
	}{
		{"ix_dr", strings.Repeat("r", 2049), "Invalid Default Response"},
		{"ix_s", "Sold", "Invalid Status"},
		{"ix_a", "Maybe", "Invalid Assigned"},
		{"ix_nftchain", "solana_main", "Invalid NFT Chain"},
		{"ix_nftcontract", "", "Incomplete NFT Data"},
		{"ix_nfttoken", "1\x7f", "Invalid NFT Data"},
		{"ix_nftowner", "0x\r\n", "Invalid NFT Owner"},
		{"ix_nftbogus", "1", "Unknown Parameter"},
	}
	for _, enc := range mgEncodings() {
		t.Run(enc.name, func(t *testing.T) {
			e := newMgEnv(t)
			// Give the tag some state first, so that a partial write would
			// show.
			if got := e.patch(t, enc.enc(t, []kv{{"ix_dr", "Before"}, {"ix_nftchain", "etherium_main"}, {"ix_nftcontract", "0xA"}, {"ix_nfttoken", "9"}})); got != mgOK(mgXUID) {
				t.Fatalf("setup: %s", got)
			}
			for _, b := range bad {
				t.Run(b.k, func(t *testing.T) {
					ps := make([]kv, 0, len(good)+1)
					replaced := false
					for _, g := range good {
						if g.k == b.k {
							g.v, replaced = b.v, true
						}
						ps = append(ps, g)
					}
					if !replaced {
						ps = append(ps, kv{b.k, b.v})
					}
					beforeTag, beforeDB := e.tagBytes(t, mgXUID), e.dbBytes(t)
					if got := e.patch(t, enc.enc(t, ps)); got != mgErr(b.msg, mgXUID) {
						t.Fatalf("reply %s, want %s", got, mgErr(b.msg, mgXUID))
					}
					if after := e.tagBytes(t, mgXUID); !bytes.Equal(after, beforeTag) {
						t.Fatalf("tag changed:\n%s\n%s", beforeTag, after)
					}
					if !bytes.Equal(e.dbBytes(t), beforeDB) {
						t.Fatal("the database changed")
					}
				})
			}
			// And the good set alone applies.
			if got := e.patch(t, enc.enc(t, good)); got != mgOK(mgXUID) {
				t.Fatalf("good set: %s", got)
			}
			tg := e.tag(t, mgXUID)
			if tg.Status != tagd.TagInactive || !tg.Assigned || tg.Ruleset == nil || tg.Ruleset.Default != "Changed" ||
				tg.NFT != (tagd.NFT{Chain: "polygon_main", Contract: "0x1", Token: "1", Owner: "0x2"}) {
				t.Fatalf("good set not applied: %+v", tg)
			}
		})
	}
}

// TestManage_Addressing names the tag by XUID, CUID and UID, with the
// token in each of its headers.
func TestManage_Addressing(t *testing.T) {
	e := newMgEnv(t)
	for _, tt := range []struct {
		name string
		q    mgReq
		want string
	}{
		{"X-API-Key", mgReq{hdr: []string{"X-API-Key", mgToken}}, mgOK(mgXUID)},
		{"X-Api-Key", mgReq{hdr: []string{"X-Api-Key", mgToken}}, mgOK(mgXUID)},
		{"x-api-key", mgReq{hdr: []string{"x-api-key", mgToken}}, mgOK(mgXUID)},
		{"Ixkio-R", mgReq{hdr: []string{"Ixkio-R", mgToken}}, mgOK(mgXUID)},
		{"X-API-Key before Ixkio-R", mgReq{hdr: []string{"X-API-Key", mgToken, "Ixkio-R", "wrong"}}, mgOK(mgXUID)},
		{"ix_c", mgReq{path: "/v1/a/demo", hdr: []string{"ix_c", mgCUID, "X-API-Key", mgToken}},
			`{"status":"success","message":"Updated","xuid":"q8w3sbcz","cuid":"yourcuid"}`},
		{"Ix_C header spelling", mgReq{path: "/v1/a/demo", hdr: []string{"IX_C", mgCUID, "Ixkio-R", mgToken}},
			`{"status":"success","message":"Updated","xuid":"q8w3sbcz","cuid":"yourcuid"}`},
		{"ix_u", mgReq{path: "/v1/a/demo", hdr: []string{"ix_u", mgUID, "X-API-Key", mgToken}},
			`{"status":"success","message":"Updated","xuid":"q8w3sbcz","uid":"04AABBCC112233"}`},
		{"ix_u lower case", mgReq{path: "/v1/a/demo", hdr: []string{"ix_u", "04aabbcc112233", "X-API-Key", mgToken}},
			`{"status":"success","message":"Updated","xuid":"q8w3sbcz","uid":"04AABBCC112233"}`},
		{"other account by CUID", mgReq{path: "/v1/a/other", hdr: []string{"ix_c", mgCUID, "X-API-Key", mgOtherToken}},
			`{"status":"success","message":"Updated","xuid":"othertg1","cuid":"yourcuid"}`},
		{"other account by XUID", mgReq{path: "/v1/x/" + mgOtherTag, hdr: []string{"Ixkio-R", mgOtherToken}}, mgOK(mgOtherTag)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			xuid := mgXUID
			if strings.Contains(tt.want, mgOtherTag) {
				xuid = mgOtherTag
			}
			e.patch(t, mgReq{path: "/v1/x/" + xuid, hdr: []string{"X-API-Key", tokenOf(xuid)}, query: "ix_s=Active"})
			others := map[string][]byte{}
			for _, x := range []string{mgXUID, mgOwnXUID, mgOtherTag, mgNoTokTag, mgOffTag} {
				if x != xuid {
					others[x] = e.tagBytes(t, x)
				}
			}
			tt.q.query = "ix_s=Inactive"
			if got := e.patch(t, tt.q); got != tt.want {
				t.Fatalf("reply\n %s\nwant\n %s", got, tt.want)
			}
			if st := e.tag(t, xuid).Status; st != tagd.TagInactive {
				t.Fatalf("%s: status %s, want Inactive", xuid, st)
			}
			for x, b := range others {
				if !bytes.Equal(e.tagBytes(t, x), b) {
					t.Fatalf("tag %s changed too", x)
				}
			}
		})
	}
}

// tokenOf returns the Management token of a fixture tag's account.
func tokenOf(xuid string) string {
	if xuid == mgOtherTag {
		return mgOtherToken
	}
	return mgToken
}

// TestManage_DefaultResponse: ix_dr breaks the link to the group's
// ruleset, and ix_dr="" reverts it; the Response API follows.
func TestManage_DefaultResponse(t *testing.T) {
	e := newMgEnv(t)
	ctx := context.Background()
	lookup := func(t *testing.T) string {
		t.Helper()
		_, body := get(t, e.ts.URL+"/v1/t?x="+mgXUID)
		return body
	}
	effective := func(t *testing.T, xuid string) tagd.Ruleset {
		t.Helper()
		v, err := e.db.FindTag(ctx, tagd.Lookup{XUID: xuid})
		if err != nil {
			t.Fatal(err)
		}
		return tagd.EffectiveRuleset(&v.Tag, &v.Group)
	}
	if got := lookup(t); got != `{"xuid":"q8w3sbcz","response":"Found"}` {
		t.Fatalf("before: %s", got)
	}
	if got := e.patch(t, mgReq{ctype: "application/json", body: `{"ix_dr":"Sold to {cuid}"}`}); got != mgOK(mgXUID) {
		t.Fatal(got)
	}
	if got := lookup(t); got != `{"xuid":"q8w3sbcz","response":"Sold to yourcuid"}` {
		t.Fatalf("after ix_dr: %s", got)
	}
	if rs := effective(t, mgXUID); rs.Default != "Sold to {cuid}" || len(rs.Groups) != 0 {
		t.Fatalf("effective ruleset %+v", rs)
	}
	if got := e.patch(t, mgReq{ctype: "application/json", body: `{"ix_dr":""}`}); got != mgOK(mgXUID) {
		t.Fatal(got)
	}
	if tg := e.tag(t, mgXUID); tg.Ruleset != nil {
		t.Fatalf("ruleset %+v after revert, want nil", tg.Ruleset)
	}
	if got := lookup(t); got != `{"xuid":"q8w3sbcz","response":"Found"}` {
		t.Fatalf("after revert: %s", got)
	}
	g, err := e.db.Group(ctx, "g-demo")
	if err != nil {
		t.Fatal(err)
	}
	if rs := effective(t, mgXUID); rs.Default != g.Ruleset.Default {
		t.Fatalf("effective ruleset %+v, want the group's %+v", rs, g.Ruleset)
	}

	// A tag with its own rule groups keeps them when its default changes.
	own := e.tag(t, mgOwnXUID).Ruleset
	if got := e.patch(t, mgReq{path: "/v1/x/" + mgOwnXUID, query: "ix_dr=Changed"}); got != mgOK(mgOwnXUID) {
		t.Fatal(got)
	}
	rs := e.tag(t, mgOwnXUID).Ruleset
	if rs == nil || rs.Default != "Changed" || len(rs.Groups) != 1 || rs.Groups[0].Response != own.Groups[0].Response ||
		len(rs.Groups[0].Rules) != 1 || rs.Groups[0].Rules[0] != own.Groups[0].Rules[0] {
		t.Fatalf("ruleset %+v, want default Changed and the own group %+v", rs, own.Groups)
	}
	// ... and loses them (and its own default) on revert.
	if got := e.patch(t, mgReq{path: "/v1/x/" + mgOwnXUID, query: "ix_dr="}); got != mgOK(mgOwnXUID) {
		t.Fatal(got)
	}
	if rs := e.tag(t, mgOwnXUID).Ruleset; rs != nil {
		t.Fatalf("ruleset %+v after revert, want nil", rs)
	}
	if got := e.patch(t, mgReq{path: "/v1/x/" + mgOwnXUID, query: "ix_dr"}); got != mgOK(mgOwnXUID) { // no '=': present, empty
		t.Fatal(got)
	}
}

// TestManage_AssignedClock: Assigned stamps the date from Server.Now,
// every time; Unassigned keeps the date of the last assignment.
func TestManage_AssignedClock(t *testing.T) {
	e := newMgEnv(t)
	t1 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	t2 := t1.Add(36 * time.Hour)
	if tg := e.tag(t, mgXUID); tg.Assigned || !tg.AssignedAt.IsZero() {
		t.Fatalf("fixture already assigned: %+v", tg)
	}
	for _, st := range []struct {
		now      time.Time
		val      string
		assigned bool
		at       time.Time
	}{
		{t1, "Assigned", true, t1},
		{t2, "assigned", true, t2},
		{t2.Add(time.Hour), "Unassigned", false, t2},
		{t2.Add(2 * time.Hour), "Unassigned", false, t2},
	} {
		e.clock.Set(st.now)
		if got := e.patch(t, mgReq{ctype: "application/x-www-form-urlencoded", body: "ix_a=" + st.val}); got != mgOK(mgXUID) {
			t.Fatal(got)
		}
		tg := e.tag(t, mgXUID)
		if tg.Assigned != st.assigned || !tg.AssignedAt.Equal(st.at) {
			t.Fatalf("after %s at %s: assigned %v at %s, want %v at %s", st.val, st.now, tg.Assigned, tg.AssignedAt, st.assigned, st.at)
		}
	}
	// The Response API's {dtassigned} shows it.
	if got := e.patch(t, mgReq{query: "ix_dr=" + url.QueryEscape("at {dtassigned}")}); got != mgOK(mgXUID) {
		t.Fatal(got)
	}
	if _, body := get(t, e.ts.URL+"/v1/t?x="+mgXUID); body != `{"xuid":"q8w3sbcz","response":"at 2026-05-02T22:00:00Z"}` {
		t.Fatalf("lookup: %s", body)
	}
}

// TestManage_Methods: only PATCH; the rest get 405 and change nothing.
func TestManage_Methods(t *testing.T) {
	e := newMgEnv(t)
	before := e.dbBytes(t)
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions, http.MethodHead} {
		for _, p := range []string{"/v1/x/" + mgXUID, "/v1/a/demo"} {
			status, h, body := e.do(t, mgReq{method: m, path: p, query: "ix_s=Inactive", hdr: []string{"X-API-Key", mgToken, "ix_c", mgCUID}})
			if status != http.StatusMethodNotAllowed || h.Get("Allow") != "PATCH" {
				t.Fatalf("%s %s: status %d, Allow %q", m, p, status, h.Get("Allow"))
			}
			if m != http.MethodHead && !strings.HasPrefix(body, `{"Code":"invalid","Message":"method `) {
				t.Fatalf("%s %s: body %s", m, p, body)
			}
		}
	}
	if !bytes.Equal(e.dbBytes(t), before) {
		t.Fatal("the database changed")
	}
}

// failingStore is the real store whose updates fail.
type failingStore struct {
	*store.DB
}

func (failingStore) UpdateTag(context.Context, string, func(*tagd.Tag) error) error {
	return errors.New("disk on fire")
}

// TestManage_InternalError: a store fault answers Internal Error and is
// logged, without the token or the body.
func TestManage_InternalError(t *testing.T) {
	e := newMgEnv(t)
	e.srv.Manage = failingStore{e.db}
	got := e.patch(t, mgReq{path: "/v1/x/" + mgOtherTag, hdr: []string{"X-API-Key", mgOtherToken}, ctype: "application/x-www-form-urlencoded",
		body: "ix_nftowner=owner-value-in-body"})
	if got != mgErr("Internal Error", mgOtherTag) {
		t.Fatalf("reply %s", got)
	}
	log := e.log.String()
	if !strings.Contains(log, "disk on fire") {
		t.Fatalf("fault not logged:\n%s", log)
	}
	for _, secret := range []string{mgOtherToken, "owner-value-in-body"} {
		if strings.Contains(log, secret) {
			t.Fatalf("log holds %q:\n%s", secret, log)
		}
	}

	// No store at all.
	s := &httpapi.Server{Logger: slog.New(slog.DiscardHandler)}
	for _, p := range []string{"/v1/x/" + mgXUID, "/v1/a/demo"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPatch, p+"?ix_s=Inactive", nil)
		req.Header.Set("ix_c", mgCUID)
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"message":"Internal Error"`) {
			t.Fatalf("%s without a store: %d %s", p, rec.Code, rec.Body)
		}
	}
}

// TestManage_Concurrent: concurrent requests that change different fields
// of one tag all take effect (each is one read-modify-write transaction).
func TestManage_Concurrent(t *testing.T) {
	e := newMgEnv(t)
	e.clock.Set(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	queries := []string{"ix_s=Inactive", "ix_a=Assigned", "ix_dr=Together", "ix_nftchain=polygon_test&ix_nftcontract=c&ix_nfttoken=t", "ix_nftowner=o"}
	var wg sync.WaitGroup
	replies := make([]string, len(queries))
	for i, q := range queries {
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodPatch, "/v1/x/"+mgXUID+"?"+q, nil)
			req.Header.Set("X-API-Key", mgToken)
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, req)
			replies[i] = rec.Body.String()
		})
	}
	wg.Wait()
	for i, r := range replies {
		if r != mgOK(mgXUID) {
			t.Fatalf("%s: %s", queries[i], r)
		}
	}
	tg := e.tag(t, mgXUID)
	if tg.Status != tagd.TagInactive || !tg.Assigned || tg.Ruleset == nil || tg.Ruleset.Default != "Together" ||
		tg.NFT != (tagd.NFT{Chain: "polygon_test", Contract: "c", Token: "t", Owner: "o"}) {
		t.Fatalf("lost update: %+v", tg)
	}
}

// mgMessages are every message a reply may carry.
var mgMessages = map[string]bool{
	"Updated": true, "Invalid Status": true, "Invalid Assigned": true, "Invalid NFT Chain": true, "Incomplete NFT Data": true,
	"Invalid NFT Data": true, "Invalid NFT Owner": true, "Invalid Default Response": true, "No Parameters": true,
	"Unknown Parameter": true, "Duplicate Parameter": true, "Invalid Body": true, "Body Too Large": true, "Invalid Query": true,
}

// FuzzManageBody sends arbitrary bodies of each content type: the reply is
// always a well-formed 200 reply, and an error reply changes nothing.
func FuzzManageBody(f *testing.F) {
	e := newMgEnv(f)
	seeds := []struct{ ctype, body string }{
		{"application/x-www-form-urlencoded", "ix_s=Inactive&ix_a=Assigned"},
		{"application/x-www-form-urlencoded", "ix_nftchain=polygon_main&ix_nftcontract=0x1&ix_nfttoken=1&ix_nftowner="},
		{"application/x-www-form-urlencoded", "ix_dr=%zz"},
		{"", "ix_dr=&ix_s=active"},
		{"application/json", `{"ix_s":"Active","ix_dr":"x\u2028y"}`},
		{"application/json", `{"ix_s":1}`},
		{"application/json", `{"ix_s":"Active",}`},
		{"application/merge-patch+json", `{"ix_owner":"o"}`},
		{"multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data; name=\"ix_s\"\r\n\r\nInactive\r\n--B--\r\n"},
		{"multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data; name=\"ix_dr\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db\r\n--B--\r\n"},
		{"multipart/form-data; boundary=B", "--B\r\n\r\n--B--"},
		{"text/plain", "ix_s=Inactive"},
		{"application/json", "\xff\xfe{"},
	}
	for _, s := range seeds {
		f.Add(s.ctype, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		before := e.tagBytes(t, mgXUID)
		req := httptest.NewRequest(http.MethodPatch, "/v1/x/"+mgXUID, bytes.NewReader(body))
		req.Header.Set("X-API-Key", mgToken)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("status %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
		}
		var rep struct{ Status, Message, XUID string }
		if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
			t.Fatalf("reply %q: %v", rec.Body, err)
		}
		want := fmt.Sprintf(`{"status":%q,"message":%q,"xuid":"q8w3sbcz"}`, rep.Status, rep.Message)
		if rec.Body.String() != want || !mgMessages[rep.Message] {
			t.Fatalf("reply %s", rec.Body)
		}
		switch rep.Status {
		case "success":
			if rep.Message != "Updated" {
				t.Fatalf("reply %s", rec.Body)
			}
		case "error":
			if after := e.tagBytes(t, mgXUID); !bytes.Equal(after, before) {
				t.Fatalf("error reply %s, but the tag changed:\n%s\n%s", rec.Body, before, after)
			}
		default:
			t.Fatalf("reply %s", rec.Body)
		}
	})
}

// movingStore is the real store in which the tag's CUID changes right
// after a lookup, before the update.
type movingStore struct {
	*store.DB
}

func (m movingStore) FindTag(ctx context.Context, l tagd.Lookup) (*tagd.TagView, error) {
	v, err := m.DB.FindTag(ctx, l)
	if err == nil {
		err = m.DB.UpdateTag(ctx, v.Tag.XUID, func(t *tagd.Tag) error { t.CUID = "moved"; return nil })
	}
	return v, err
}

// TestManage_TagChangedMeanwhile: a tag whose CUID changed between the
// lookup and the update is not changed; the CUID is then not found.
func TestManage_TagChangedMeanwhile(t *testing.T) {
	e := newMgEnv(t)
	e.srv.Manage = movingStore{e.db}
	got := e.patch(t, mgReq{path: "/v1/a/demo", hdr: []string{"ix_c", mgCUID, "X-API-Key", mgToken}, query: "ix_s=Inactive"})
	if want := `{"status":"error","message":"CUID Not Found","xuid":"q8w3sbcz","cuid":"yourcuid"}`; got != want {
		t.Fatalf("reply %s, want %s", got, want)
	}
	if tg := e.tag(t, mgXUID); tg.Status != tagd.TagActive || tg.CUID != "moved" {
		t.Fatalf("tag %+v, want still Active (CUID moved)", tg)
	}
}

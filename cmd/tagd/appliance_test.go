package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/internal/syncbuf"
	"github.com/tagd-nfc/tagd/store"
	"github.com/tagd-nfc/tagd/sun"
)

// appliance is a tagd run driven in-process through Main.
type appliance struct {
	events        *tagd.Events
	base, tlsBase string
	dir           string
	stdout, logs  *syncbuf.Buffer
	stop          func()
}

// startAppliance runs `tagd run --demo` on dir with loopback listeners on
// free ports and no reader (unless args name one), and stops it when the
// test ends.
func startAppliance(t *testing.T, dir string, args ...string) *appliance {
	t.Helper()
	return startApplianceAt(t, dir, nil, append([]string{"--demo"}, args...)...)
}

// get fetches a path and returns the body.
func (a *appliance) get(t *testing.T, path string) string {
	t.Helper()
	resp, err := http.Get(a.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %s", path, resp.Status, b)
	}
	return string(b)
}

// scans returns the scan log through `tagd scans --json`, which talks to
// the running service over its admin socket.
func scansOf(t *testing.T, dir string) []tagd.Scan {
	t.Helper()
	out, errOut, code := runMain("scans", "--data", dir, "--last", "1000", "--json")
	if code != 0 {
		t.Fatalf("tagd scans: exit %d %s", code, errOut)
	}
	var s []tagd.Scan
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("tagd scans output %q: %v", out, err)
	}
	return s
}

// TestDemoAnswers checks the demo answers of SPEC §5 and the ixkio error
// strings of research/ixkio.md §2.6, through Main, a temp data dir and
// real HTTP; expectations are written from those documents.
func TestDemoAnswers(t *testing.T) {
	a := startAppliance(t, t.TempDir())
	const an12196 = "picc_data=EF963FF7828658A599F3041510671E88&cmac=94EED9EE65337086"
	for _, tc := range []struct{ path, want string }{
		{"/v1/t?x=q8w3sbcz", `{"xuid":"q8w3sbcz","response":"Found"}`},
		{"/k?x=q8w3sbcz", `{"xuid":"q8w3sbcz","response":"Found"}`},
		{"/v1/t?c=yourcuid&a=demo", `{"xuid":"q8w3sbcz","cuid":"yourcuid","response":"Found"}`},
		{"/v1/t?c=yourcuid&a=nobody", `{"xuid":"","cuid":"yourcuid","error":"aid_not_found"}`},
		{"/v1/t?c=YOURCUID&a=demo", `{"xuid":"","cuid":"YOURCUID","error":"cuid_not_found"}`},
		{"/v1/t?c=yourcuid", `{"xuid":"","cuid":"yourcuid","error":"missing_identifier"}`},
		{"/v1/t?u=04AABBCC112233&a=demo", `{"xuid":"q8w3sbcz","uid":"04AABBCC112233","response":"Found"}`},
		{"/v1/t?u=04AABBCC112233&a=nobody", `{"xuid":"","uid":"04AABBCC112233","error":"aid_not_found"}`},
		{"/v1/t?u=04AABBCC112234&a=demo", `{"xuid":"","uid":"04AABBCC112234","error":"uid_not_found"}`},
		{"/v1/t?x=zzzzzzzz", `{"xuid":"","error":"xuid_not_found"}`},
		{"/v1/t", `{"xuid":"","error":"missing_identifier"}`},
		// AN12196's example passes once, then is a replay (default response).
		{"/v1/t?" + an12196, `{"xuid":"an12196a","response":"Pass"}`},
		{"/v1/t?" + an12196, `{"xuid":"an12196a","response":"Fail"}`},
		// A forged MAC: the tag is known, the check fails.
		{"/v1/t?picc_data=EF963FF7828658A599F3041510671E88&cmac=94EED9EE65337087", `{"xuid":"an12196a","response":"Fail"}`},
		// PICCData that no profile's meta key opens: an unknown tag.
		{"/v1/t?picc_data=00112233445566778899AABBCCDDEEFF&cmac=94EED9EE65337086", `{"xuid":"","error":"unknown_tag"}`},
		// A malformed parameter.
		{"/v1/t?picc_data=EF963FF7828658A599F3041510671E&cmac=94EED9EE65337086", `{"xuid":"","error":"bad_param"}`},
	} {
		if got := a.get(t, tc.path); got != tc.want {
			t.Errorf("GET %s\n got %s\nwant %s", tc.path, got, tc.want)
		}
	}
	scans := scansOf(t, a.dir)
	if len(scans) != 16 {
		t.Fatalf("%d scans, want 16: %+v", len(scans), scans)
	}
	// newest first: bad param, unknown tag, forged MAC, replay, pass
	for i, want := range []struct {
		reason tagd.Code
		auth   string
		errStr string
	}{{"", "", "bad_param"}, {"", "", "unknown_tag"}, {tagd.CodeMACMismatch, "fail", ""}, {tagd.CodeReplay, "fail", ""}, {"", "pass", ""}} {
		s := scans[i]
		if s.Reason != want.reason || s.Auth != want.auth || s.Error != want.errStr {
			t.Errorf("scan %d: reason %q auth %q error %q; want %q %q %q", i, s.Reason, s.Auth, s.Error, want.reason, want.auth, want.errStr)
		}
	}
	if p := scans[4]; p.XUID != "an12196a" || p.Counter != 61 || !p.HasCounter || p.Response != "Pass" {
		t.Errorf("pass scan %+v", p)
	}
	if strings.Contains(a.logs.String(), "EF963FF7828658A599F3041510671E88") {
		t.Errorf("the log shows SUN values")
	}
}

// TestHTTPSOnLAN checks that --https serves the Response API with the
// certificate tagd init made, TLS 1.2 at least, and that plain HTTP is
// refused on a non-loopback address.
func TestHTTPSOnLAN(t *testing.T) {
	dir := t.TempDir()
	a := startAppliance(t, dir, "--https", "127.0.0.1:0")
	pem, err := os.ReadFile(filepath.Join(dir, certFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		cl := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: v, MaxVersion: v}}}
		resp, err := cl.Get(a.tlsBase + "/v1/t?x=q8w3sbcz")
		if err != nil {
			t.Fatalf("TLS %x: %v", v, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != `{"xuid":"q8w3sbcz","response":"Found"}` {
			t.Errorf("TLS %x: %s", v, b)
		}
	}
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}}
	if _, err := old.Get(a.tlsBase + "/healthz"); err == nil {
		t.Errorf("TLS 1.1 accepted")
	}
	_, errOut, code := runMain("run", "--data", t.TempDir(), "--http", "0.0.0.0:0")
	if code != exitUsage || !strings.Contains(errOut, "not a loopback address") {
		t.Errorf("plain HTTP on the LAN: exit %d %s", code, errOut)
	}
}

// TestNoSecretsInOutput runs a full session (init, demo, taps with a
// non-trivial key, lookups, scans) and searches every log line, response
// and CLI output for the key-encryption key, the admin API key's secret
// and the tag keys.
func TestNoSecretsInOutput(t *testing.T) {
	dir := t.TempDir()
	out, _, code := runMain("init", "--data", dir)
	if code != 0 {
		t.Fatalf("init: %s", out)
	}
	adminKey := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	if !strings.HasPrefix(adminKey, apiKeyPrefix) || !strings.Contains(adminKey, ".") {
		t.Fatalf("admin key %q", adminKey)
	}
	secret := adminKey[strings.Index(adminKey, ".")+1:]
	kek, _ := os.ReadFile(filepath.Join(dir, kekFile))
	// an authentication group with non-trivial keys, and a tag in it
	meta, file := randomKey(t), randomKey(t)
	d, err := openData(dir)
	if err != nil {
		t.Fatal(err)
	}
	db, err := d.openStore(time.Now)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := loadDemo(ctx, db); err != nil {
		t.Fatal(err)
	}
	g := &tagd.TagGroup{ID: "secretg", FolderID: "demo", Name: "Secret", Type: tagd.GroupAuthentication, Status: tagd.StatusActive,
		Ruleset: tagd.Ruleset{Default: "Fail", Groups: []tagd.RuleGroup{{Response: "Pass", Rules: []tagd.Rule{{Type: tagd.RuleTagAuth, Op: "pass"}}}}},
		Profile: &tagd.SUNProfile{Mode: "aes", Params: tagd.SUNParams{PICC: "p", MAC: "c"}, MACInput: "empty", FileKeySource: "static", TamperOffset: -1}}
	if err := db.CreateGroup(ctx, g, tagd.Keys{Meta: meta, File: file}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateBatch(ctx, &tagd.Batch{ID: "sb", GroupID: g.ID, Name: "SB", Status: tagd.StatusActive}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateTag(ctx, &tagd.Tag{XUID: "secret01", AID: demoAID, BatchID: "sb", UID: "04C0FFEE000001", Status: tagd.TagActive}, nil); err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, _ := os.ReadFile(filepath.Join(dir, dbFile))
	if bytes.Contains(raw, meta) || bytes.Contains(raw, file) {
		t.Fatalf("a key is in the database file in clear")
	}
	a := startAppliance(t, dir)
	se := &sun.Emitter{Mode: sun.ModeAES, MetaKey: meta, FileKey: file, UID: mustUID(t, "04C0FFEE000001"), Rand: zeroReader{}}
	spicc, _ := se.PICCData(9)
	smac, _ := se.MAC(9, "")
	if got := a.get(t, fmt.Sprintf("/v1/t?p=%X&c=%X", spicc, smac)); got != `{"xuid":"secret01","response":"Pass"}` {
		t.Errorf("tap with the secret keys: %s", got)
	}
	// the demo tags use the all-zero factory keys; tap one with them
	e := &sun.Emitter{Mode: sun.ModeAES, MetaKey: make([]byte, 16), FileKey: make([]byte, 16), UID: mustUID(t, "04A1B2C3D4E501"), Rand: zeroReader{}}
	var responses []string
	for ctr := uint32(1); ctr <= 3; ctr++ {
		picc, _ := e.PICCData(ctr)
		mac, _ := e.MAC(ctr, "")
		responses = append(responses, a.get(t, fmt.Sprintf("/v1/t?picc_data=%X&cmac=%X", picc, mac)))
	}
	if responses[0] != `{"xuid":"demo0001","response":"Pass"}` {
		t.Errorf("tap: %s", responses[0])
	}
	scansOut, _, _ := runMain("scans", "--data", dir, "--json")
	a.stop()
	all := a.stdout.String() + a.logs.String() + strings.Join(responses, "") + scansOut
	for name, s := range map[string]string{"admin secret": secret, "KEK": strings.TrimSpace(string(kek)), "meta key": hex.EncodeToString(meta), "file key": hex.EncodeToString(file)} {
		if strings.Contains(all, s) || strings.Contains(strings.ToLower(all), strings.ToLower(s)) {
			t.Errorf("%s appears in the output", name)
		}
	}
	if a.logs.String() == "" {
		t.Errorf("no log captured")
	}
}

// zeroReader supplies zero bytes (the emitter's random padding).
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0
	}
	return len(p), nil
}

// mustUID decodes a UID.
func mustUID(t *testing.T, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestIxkioErrors checks the error strings that need data beyond the demo
// (folder token, the status cascade) and the folder CORS settings, through
// the real wiring: the data is written to the store of an initialised
// directory before tagd runs on it.
func TestIxkioErrors(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db := prepareData(t, dir)
	token := sha256Sum("s3cretToken")
	mk := func(folder tagd.Folder, gStatus, bStatus, tStatus tagd.Status, xuid string) {
		folder.AID = demoAID
		if err := db.CreateFolder(ctx, &folder); err != nil {
			t.Fatal(err)
		}
		g := &tagd.TagGroup{ID: "g" + xuid, FolderID: folder.ID, Name: "G", Type: tagd.GroupStandard, Status: gStatus, Ruleset: tagd.Ruleset{Default: "Hello {tagname}"}}
		if err := db.CreateGroup(ctx, g, tagd.Keys{}); err != nil {
			t.Fatal(err)
		}
		b := &tagd.Batch{ID: "b" + xuid, GroupID: g.ID, Name: "B", Status: bStatus}
		if err := db.CreateBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateTag(ctx, &tagd.Tag{XUID: xuid, AID: demoAID, BatchID: b.ID, Name: "T " + xuid, Status: tStatus}, nil); err != nil {
			t.Fatal(err)
		}
	}
	on, off, ton, toff := tagd.StatusActive, tagd.StatusInactive, tagd.TagActive, tagd.TagInactive
	mk(tagd.Folder{ID: "locked", Name: "Locked", Status: on, TokenHash: token[:], CORS: "*"}, on, on, ton, "token001")
	mk(tagd.Folder{ID: "closed", Name: "Closed", Status: off}, on, on, ton, "folder01")
	mk(tagd.Folder{ID: "tgoff", Name: "TG", Status: on, CORS: "https://shop.example"}, off, on, ton, "tgroup01")
	mk(tagd.Folder{ID: "boff", Name: "B", Status: on}, on, off, ton, "batch001")
	mk(tagd.Folder{ID: "toff", Name: "T", Status: on}, on, on, toff, "tagoff01")
	mk(tagd.Folder{ID: "all", Name: "All", Status: off}, off, off, toff, "allofff1")
	db.Close()

	a := startAppliance(t, dir)
	for _, tc := range []struct {
		path, header, hval, want, acao string
	}{
		{"/v1/t?x=token001", "", "", `{"xuid":"token001","error":"token_invalid"}`, "*"},
		{"/v1/t?x=token001&r=wrong", "", "", `{"xuid":"token001","error":"token_invalid"}`, "*"},
		{"/v1/t?x=token001&r=s3cretToken", "", "", `{"xuid":"token001","response":"Hello T token001"}`, "*"},
		{"/v1/t?x=token001", "X-API-Key", "s3cretToken", `{"xuid":"token001","response":"Hello T token001"}`, "*"},
		{"/v1/t?x=token001", "X-Api-Key", "s3cretToken", `{"xuid":"token001","response":"Hello T token001"}`, "*"},
		{"/v1/t?x=token001", "Ixkio-R", "s3cretToken", `{"xuid":"token001","response":"Hello T token001"}`, "*"},
		{"/v1/t?x=token001", "Ixkio-R", "S3CRETTOKEN", `{"xuid":"token001","error":"token_invalid"}`, "*"},
		{"/v1/t?x=folder01", "", "", `{"xuid":"folder01","error":"folder_inactive"}`, ""},
		{"/v1/t?x=tgroup01", "", "", `{"xuid":"tgroup01","error":"tg_inactive"}`, "https://shop.example"},
		{"/v1/t?x=batch001", "", "", `{"xuid":"batch001","error":"batch_inactive"}`, ""},
		{"/v1/t?x=tagoff01", "", "", `{"xuid":"tagoff01","error":"tag_inactive"}`, ""},
		{"/v1/t?x=allofff1", "", "", `{"xuid":"allofff1","error":"folder_inactive"}`, ""}, // the highest level wins
		{"/v1/t?x=q8w3sbcz", "", "", `{"xuid":"q8w3sbcz","response":"Found"}`, ""},
	} {
		req, _ := http.NewRequest("GET", a.base+tc.path, nil)
		if tc.header != "" {
			req.Header.Set(tc.header, tc.hval)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != tc.want {
			t.Errorf("GET %s (%s: %s): %d %s, want %s", tc.path, tc.header, tc.hval, resp.StatusCode, b, tc.want)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tc.acao {
			t.Errorf("GET %s: ACAO %q, want %q", tc.path, got, tc.acao)
		}
	}
	// Scan count counts responses, not errors (ixkio.md §2.8, §7 #9).
	a.get(t, "/v1/t?x=token001&r=s3cretToken")
	for _, s := range scansOf(t, dir)[:1] {
		if s.XUID != "token001" || s.ScanCount != 5 {
			t.Errorf("scan count after 5 responses and 3 errors: %+v", s)
		}
	}
	if strings.Contains(a.logs.String(), "s3cretToken") {
		t.Errorf("the folder token appears in the log")
	}
}

// sha256Sum hashes a token as the store keeps it.
func sha256Sum(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// prepareData initialises dir, loads the demo data and returns the open
// store, for a test to add its own data before tagd runs on dir. It
// returns the admin API key too.
func prepareData(t *testing.T, dir string) *store.DB {
	t.Helper()
	ctx := context.Background()
	if _, err := initData(ctx, dir, time.Now); err != nil {
		t.Fatal(err)
	}
	d, err := openData(dir)
	if err != nil {
		t.Fatal(err)
	}
	db, err := d.openStore(time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loadDemo(ctx, db); err != nil {
		t.Fatal(err)
	}
	return db
}

// randomKey returns a random AES-128 key.
func randomKey(t *testing.T) []byte {
	k := make([]byte, 16)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// TestManagementThroughWiring changes a tag with ixkio's Management API on
// the running appliance (the demo account's token is "demo") and sees the
// Response API answer the new default response, then revert.
func TestManagementThroughWiring(t *testing.T) {
	a := startAppliance(t, t.TempDir())
	patch := func(body, token string) string {
		req, _ := http.NewRequest("PATCH", a.base+"/v1/x/q8w3sbcz", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-API-Key", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := patch("ix_dr=Hello+{xuid}", "wrong"); got != `{"status":"error","message":"Invalid Token","xuid":"q8w3sbcz"}` {
		t.Errorf("wrong token: %s", got)
	}
	if got := patch("ix_dr=Hello+{xuid}", "demo"); got != `{"status":"success","message":"Updated","xuid":"q8w3sbcz"}` {
		t.Fatalf("ix_dr: %s", got)
	}
	if got := a.get(t, "/v1/t?x=q8w3sbcz"); got != `{"xuid":"q8w3sbcz","response":"Hello q8w3sbcz"}` {
		t.Errorf("after ix_dr: %s", got)
	}
	if got := patch("ix_s=Inactive&ix_nftchain=bitcoin", "demo"); !strings.Contains(got, `"status":"error"`) {
		t.Errorf("a bad field: %s", got)
	}
	if got := a.get(t, "/v1/t?x=q8w3sbcz"); got != `{"xuid":"q8w3sbcz","response":"Hello q8w3sbcz"}` {
		t.Errorf("a request with a bad field changed the tag: %s", got)
	}
	if got := patch("ix_dr=", "demo"); !strings.Contains(got, `"Updated"`) {
		t.Fatalf("revert: %s", got)
	}
	if got := a.get(t, "/v1/t?x=q8w3sbcz"); got != `{"xuid":"q8w3sbcz","response":"Found"}` {
		t.Errorf("after revert: %s", got)
	}
}

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/sun"
)

// secret is one secret of the sweep and every form in which it could
// leak.
type secret struct {
	name  string
	forms []string
	// hashed: forms[1:] are the SHA-256 that the database stores (and so
	// a backup holds) by design.
	hashed bool
}

// inBackup returns the forms of the secrets that a database file must not
// hold: all but the stored hashes.
func inBackup(secrets []secret) []secret {
	out := make([]secret, 0, len(secrets))
	for _, s := range secrets {
		if s.hashed {
			s = secret{name: s.name, forms: s.forms[:1]}
		}
		out = append(out, s)
	}
	return out
}

// textSecret is a secret string (an API key's secret, a token): itself,
// and its SHA-256 in hex (both cases) and base64, the forms it is stored
// in.
func textSecret(name, s string) secret {
	h := sha256.Sum256([]byte(s))
	return secret{name, []string{s, hex.EncodeToString(h[:]), strings.ToUpper(hex.EncodeToString(h[:])),
		base64.StdEncoding.EncodeToString(h[:]), base64.RawURLEncoding.EncodeToString(h[:])}, true}
}

// keySecret is key material: its bytes raw, in hex (both cases) and in
// base64 (standard and URL, padded and raw).
func keySecret(name string, b []byte) secret {
	return secret{name, []string{string(b), hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
		base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b)}, false}
}

// leaks returns, for each secret that haystack holds in any of its forms,
// "name (form N)".
func leaks(haystack string, secrets []secret) []string {
	var out []string
	for _, s := range secrets {
		for i, f := range s.forms {
			if f != "" && strings.Contains(haystack, f) {
				out = append(out, fmt.Sprintf("%s (form %d)", s.name, i))
			}
		}
	}
	return out
}

// TestLeaksFindsPlantedSecrets is the sanity check of the sweep: every
// form of a planted secret is found, a clean text has none, and the
// backup search skips only the stored hashes.
func TestLeaksFindsPlantedSecrets(t *testing.T) {
	key := []byte{0x5a, 0xce, 0x7e, 0x50, 0xab, 0x65, 0xd5, 0xd5, 0x1f, 0xd5, 0xbf, 0x5a, 0x16, 0xb8, 0x20, 0x5b}
	ks := keySecret("key", key)
	ts := textSecret("token", "Zq3xP0tLkW9vR2mN8sB4cD7fG1hJ6yT5")
	for _, s := range []secret{ks, ts} {
		for i, f := range s.forms {
			text := `level=INFO msg="something" detail="` + f + `" more=1`
			if got := leaks(text, []secret{ks, ts}); len(got) == 0 || !strings.HasPrefix(got[0], s.name) {
				t.Errorf("form %d of %s planted in a log line: found %v", i, s.name, got)
			}
		}
	}
	if got := leaks(`{"xuid":"q8w3sbcz","response":"Found"} 5ACE7E50AB65D5D5 Zq3xP0tLkW9v`, []secret{ks, ts}); len(got) != 0 {
		t.Errorf("a text without the secrets (only parts of them): found %v", got)
	}
	db := `{"secret_hash":"` + ts.forms[3] + `"}`
	if got := leaks(db, inBackup([]secret{ks, ts})); len(got) != 0 {
		t.Errorf("a stored hash in a backup: found %v", got)
	}
	if got := leaks(db+ts.forms[0]+string(key), inBackup([]secret{ks, ts})); len(got) != 2 {
		t.Errorf("a token and a raw key in a backup: found %v, want both", got)
	}
}

// recorder collects everything the sweep searches.
type recorder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (r *recorder) add(label, s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(&r.b, "\n==== %s\n%s", label, s)
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.b.String()
}

// recordingTransport records every answer's status, headers and body, and
// every transport error; the bodies of database backups go to files.
type recordingTransport struct {
	base  http.RoundTripper
	rec   *recorder
	files *recorder
}

func (rt recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	label := req.Method + " " + req.URL.Path // never the query: it may hold a token the test sent
	resp, err := rt.base.RoundTrip(req)
	if err != nil {
		rt.rec.add(label+" error", err.Error())
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		rt.rec.add(label+" body error", err.Error())
	}
	var hdr bytes.Buffer
	resp.Header.Write(&hdr)
	if resp.Header.Get("Content-Type") == "application/octet-stream" {
		rt.rec.add(label, resp.Status+"\n"+hdr.String())
		rt.files.add(label, string(b))
	} else {
		rt.rec.add(label, resp.Status+"\n"+hdr.String()+"\n"+string(b))
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// randomToken returns n random letters and digits.
func randomToken(t *testing.T, n int) string {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

// TestSecretSweep drives the built binary through a full run (tagd init,
// an account with a Management token and a folder token, groups with
// keys, API keys made and rotated with the CLI, CSV imports of tags with
// their keys and of keys alone, genuine, replayed and forged SUN taps,
// Management API changes, the scan log as JSON, table and CSV, /metrics,
// exports, readers and backups) and records every log line, every
// answer's headers and body, every transport error, every CLI output and
// the backup files. None of it may hold a secret in any form: an API key
// secret or its SHA-256, an AES key (group or tag, hex in either case or
// base64), the key-encryption key, or a token. The outputs that show a
// new key once by design (tagd init, apikey create and rotate) are left
// out of the search; their stderr is not.
func TestSecretSweep(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	rec, files := &recorder{}, &recorder{} // files: the backups
	var secrets []secret
	// bin runs a CLI command; shown is false for the outputs that show a
	// new key once.
	bin := func(shown bool, args ...string) (string, int) {
		t.Helper()
		out, errOut, code := runBin(t, args...)
		label := "tagd " + strings.Join(args[:min(2, len(args))], " ")
		if shown {
			rec.add(label+" (stdout)", out)
		}
		rec.add(label+" (stderr)", errOut)
		return out, code
	}

	out, code := bin(false, "init", "--data", data)
	lines := strings.Fields(out)
	if code != 0 || len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], apiKeyPrefix) {
		t.Fatalf("tagd init: exit %d\n%s", code, out)
	}
	initKey := lines[len(lines)-1]
	secrets = append(secrets, textSecret("admin key from init", secretOf(initKey)))
	kekHex, err := os.ReadFile(filepath.Join(data, kekFile))
	if err != nil {
		t.Fatal(err)
	}
	kek, err := hex.DecodeString(strings.TrimSpace(string(kekHex)))
	if err != nil || len(kek) != 32 {
		t.Fatalf("kek file: %v", err)
	}
	secrets = append(secrets, keySecret("KEK", kek))

	// An account with a Management token, a folder with a token, an
	// authentication group whose tags bring their own keys, and one whose
	// group holds the keys; made in the store before the service starts
	// (the CRUD API is not this test's subject).
	mgmtToken, folderToken := randomToken(t, 32), randomToken(t, 32)
	groupMeta, statMeta, statFile := randomKey(t), randomKey(t), randomKey(t)
	tagMeta1, tagFile1, tagMeta2, tagFile2 := randomKey(t), randomKey(t), randomKey(t), randomKey(t)
	keyRowMeta, keyRowFile := randomKey(t), randomKey(t) // re-imported by the keys CSV
	secrets = append(secrets, textSecret("Management token", mgmtToken), textSecret("folder token", folderToken),
		keySecret("group meta key", groupMeta), keySecret("static group meta key", statMeta), keySecret("static group file key", statFile),
		keySecret("tag 1 meta key", tagMeta1), keySecret("tag 1 file key", tagFile1), keySecret("tag 2 meta key", tagMeta2),
		keySecret("tag 2 file key", tagFile2), keySecret("keys-CSV meta key", keyRowMeta), keySecret("keys-CSV file key", keyRowFile))
	d, err := openData(data)
	if err != nil {
		t.Fatal(err)
	}
	db, err := d.openStore(time.Now)
	if err != nil {
		t.Fatal(err)
	}
	mh, fh := sha256.Sum256([]byte(mgmtToken)), sha256.Sum256([]byte(folderToken))
	passFail := tagd.Ruleset{Default: "Fail", Groups: []tagd.RuleGroup{{Response: "Pass", Rules: []tagd.Rule{{Type: tagd.RuleTagAuth, Op: "pass"}}}}}
	profile := func(src string) *tagd.SUNProfile {
		return &tagd.SUNProfile{Mode: "aes", Params: tagd.SUNParams{PICC: "p", MAC: "c"}, MACInput: "empty", FileKeySource: src, TamperOffset: -1}
	}
	steps := []error{
		db.CreateAccount(ctx, tagd.Account{AID: "acme", Name: "Acme", MgmtTokenHash: mh[:]}),
		db.CreateFolder(ctx, &tagd.Folder{ID: "acmef", AID: "acme", Name: "Acme", TokenHash: fh[:], Status: tagd.StatusActive}),
		db.CreateGroup(ctx, &tagd.TagGroup{ID: "acmetag", FolderID: "acmef", Name: "Own keys", Type: tagd.GroupAuthentication, Status: tagd.StatusActive,
			Ruleset: passFail, Profile: profile("tag")}, tagd.Keys{Meta: groupMeta}),
		db.CreateBatch(ctx, &tagd.Batch{ID: "acmeb", GroupID: "acmetag", Name: "B", Status: tagd.StatusActive}),
		db.CreateGroup(ctx, &tagd.TagGroup{ID: "acmestat", FolderID: "acmef", Name: "Group keys", Type: tagd.GroupAuthentication, Status: tagd.StatusActive,
			Ruleset: passFail, Profile: profile("static")}, tagd.Keys{Meta: statMeta, File: statFile}),
		db.CreateBatch(ctx, &tagd.Batch{ID: "acmesb", GroupID: "acmestat", Name: "SB", Status: tagd.StatusActive}),
		db.CreateTag(ctx, &tagd.Tag{XUID: "stat0001", AID: "acme", BatchID: "acmesb", UID: "04C0FFEE0000B1", Status: tagd.TagActive}, nil),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("setup step %d: %v", i, err)
		}
	}
	db.Close()

	p := startTagdWith(t, true, "--data", data, "--http", "127.0.0.1:0", "--https", "127.0.0.1:0", "--reader", "none")
	pem, err := os.ReadFile(filepath.Join(data, certFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cl := &http.Client{Timeout: 30 * time.Second, Transport: recordingTransport{
		base: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}, rec: rec, files: files}}
	defer cl.CloseIdleConnections()
	send := func(method, u, body string, hdr ...string) (int, string) {
		t.Helper()
		ans := request(t, cl, method, u, body, hdr...)
		return ans.status, ans.body
	}
	want := func(what string, gotStatus int, got string, status int, body string) {
		t.Helper()
		if gotStatus != status || !strings.Contains(got, body) {
			t.Errorf("%s: %d %s, want %d with %s", what, gotStatus, got, status, body)
		}
	}

	// API keys: made, listed and rotated with the CLI over the admin socket
	mkKey := func(args ...string) createdKey {
		t.Helper()
		out, code := bin(false, append([]string{"apikey"}, append(args, "--data", data, "--json")...)...)
		var k createdKey
		if err := json.Unmarshal([]byte(out), &k); code != 0 || err != nil || !strings.HasPrefix(k.Key, k.ID+".") {
			t.Fatalf("tagd apikey %v: exit %d %v %s", args, code, err, out)
		}
		secrets = append(secrets, textSecret("API key "+k.Name+" "+k.ID, secretOf(k.Key)))
		return k
	}
	pos := mkKey("create", "--name", "pos", "--scope", "private")
	ops := mkKey("create", "--name", "ops", "--scope", "admin")
	acmeKey := mkKey("create", "--name", "acme", "--scope", "private", "--account", "acme")
	oldPos := pos
	pos = mkKey("rotate", pos.ID)
	bin(true, "apikey", "list", "--data", data, "--json")
	bin(true, "apikey", "list", "--data", data)
	for _, k := range []string{initKey, ops.Key, acmeKey.Key, pos.Key} {
		st, body := send("GET", p.tlsBase+"/api/v1/identity", "", "X-Api-Key", k)
		want("identity", st, body, 200, `"id":"`)
	}
	send("GET", p.tlsBase+"/api/v1/identity", "", "Authorization", "Bearer "+oldPos.Key) // the key before the rotation
	st, body := send("GET", p.tlsBase+"/api/v1/identity", "", "X-Api-Key", ops.ID+".not-"+secretOf(ops.Key)[4:])
	want("a wrong secret", st, body, 401, "INVALID_SECRET")

	// CSV imports with keys: tags with their keys through the CLI, keys
	// alone over HTTPS, and a bad row whose key must not be echoed
	csvPath := filepath.Join(dir, "tags.csv")
	if err := os.WriteFile(csvPath, []byte("XUID,UID,CUID,TAGNAME,FILE_KEY,META_KEY\n"+
		"acmt0001,04A0B1C2D3E401,acme-1,Bottle 1,"+hex.EncodeToString(tagFile1)+","+strings.ToUpper(hex.EncodeToString(tagMeta1))+"\n"+
		"acmt0002,04A0B1C2D3E402,acme-2,Bottle 2,"+strings.ToUpper(hex.EncodeToString(tagFile2))+","+hex.EncodeToString(tagMeta2)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := bin(true, "import", "tags", csvPath, "--batch", "acmeb", "--data", data); code != 0 {
		t.Fatalf("import tags: %s", out)
	}
	keyRows := "XUID,UID,FILE_KEY,META_KEY\nacmt0002,04A0B1C2D3E402," + hex.EncodeToString(keyRowFile) + "," + hex.EncodeToString(keyRowMeta) + "\n"
	st, body = send("POST", p.tlsBase+"/api/v1/import/keys", keyRows, "X-Api-Key", ops.Key, "Content-Type", "text/csv")
	want("import keys", st, body, 200, `{"rows":1}`)
	tagFile2, tagMeta2 = keyRowFile, keyRowMeta
	short := strings.ToUpper(hex.EncodeToString(randomKey(t)))[:30]
	secrets = append(secrets, secret{name: "the short key of a bad row", forms: []string{short, strings.ToLower(short)}})
	st, body = send("POST", p.tlsBase+"/api/v1/import/keys", "XUID,UID,FILE_KEY\nacmt0001,04A0B1C2D3E401,"+short+"\n", "X-Api-Key", ops.Key)
	want("a bad key row", st, body, 400, "row 2, column FILE_KEY")
	badCSV := filepath.Join(dir, "bad.csv")
	os.WriteFile(badCSV, []byte("XUID,UID,FILE_KEY\nacmt0001,04A0B1C2D3E401,"+short+"\n"), 0o600)
	if _, code := bin(true, "import", "keys", badCSV, "--data", data); code != 1 {
		t.Errorf("import of a bad key row: exit %d", code)
	}

	// genuine SUN taps, a replay, a forged MAC and a missing token
	tap := func(base, xuid string, e *sun.Emitter, ctr uint32, token string, forge bool) string {
		t.Helper()
		picc, err := e.PICCData(ctr)
		if err != nil {
			t.Fatal(err)
		}
		mac, err := e.MAC(ctr, "")
		if err != nil {
			t.Fatal(err)
		}
		if forge {
			mac[0] ^= 1
		}
		q := url.Values{"p": {fmt.Sprintf("%X", picc)}, "c": {fmt.Sprintf("%X", mac)}}
		if xuid != "" {
			q.Set("x", xuid)
		}
		if token != "" {
			q.Set("r", token)
		}
		_, body := send("GET", base+"/v1/t?"+q.Encode(), "")
		return body
	}
	e1 := &sun.Emitter{Mode: sun.ModeAES, MetaKey: tagMeta1, FileKey: tagFile1, UID: mustUID(t, "04A0B1C2D3E401"), Rand: rand.Reader}
	e2 := &sun.Emitter{Mode: sun.ModeAES, MetaKey: tagMeta2, FileKey: tagFile2, UID: mustUID(t, "04A0B1C2D3E402"), Rand: rand.Reader}
	es := &sun.Emitter{Mode: sun.ModeAES, MetaKey: statMeta, FileKey: statFile, UID: mustUID(t, "04C0FFEE0000B1"), Rand: rand.Reader}
	for _, tc := range []struct {
		name, got, want string
	}{
		{"tag 1, counter 1", tap(p.tlsBase, "acmt0001", e1, 1, folderToken, false), `{"xuid":"acmt0001","response":"Pass"}`},
		{"tag 1, counter 2, loopback", tap(p.base, "acmt0001", e1, 2, folderToken, false), `{"xuid":"acmt0001","response":"Pass"}`},
		{"tag 1, counter 2 again", tap(p.tlsBase, "acmt0001", e1, 2, folderToken, false), `{"xuid":"acmt0001","response":"Fail"}`},
		{"tag 1, forged MAC", tap(p.tlsBase, "acmt0001", e1, 3, folderToken, true), `{"xuid":"acmt0001","response":"Fail"}`},
		{"tag 2, the re-imported keys", tap(p.tlsBase, "acmt0002", e2, 5, folderToken, false), `{"xuid":"acmt0002","response":"Pass"}`},
		{"group keys, identified by PICCData", tap(p.tlsBase, "", es, 7, folderToken, false), `{"xuid":"stat0001","response":"Pass"}`},
		{"no folder token", tap(p.tlsBase, "acmt0001", e1, 9, "", false), `{"xuid":"acmt0001","error":"token_invalid"}`},
		{"a wrong folder token", tap(p.tlsBase, "acmt0001", e1, 10, wrongToken(folderToken), false), `{"xuid":"acmt0001","error":"token_invalid"}`},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, tc.got, tc.want)
		}
	}

	// Management API changes with the account's token
	st, body = send("PATCH", p.tlsBase+"/v1/x/acmt0001", "ix_dr=Hello+{tagname}", "X-API-Key", mgmtToken, "Content-Type", "application/x-www-form-urlencoded")
	want("PATCH /v1/x", st, body, 200, `"status":"success"`)
	st, body = send("PATCH", p.tlsBase+"/v1/a/acme?ix_a=Assigned", "", "Ixkio-R", mgmtToken, "ix_u", "04a0b1c2d3e402")
	want("PATCH /v1/a", st, body, 200, `"status":"success"`)
	st, body = send("PATCH", p.base+"/v1/x/acmt0001", "ix_s=Inactive", "X-API-Key", wrongToken(mgmtToken))
	want("PATCH with a wrong token", st, body, 200, `"message":"Invalid Token"`)
	if got := tap(p.tlsBase, "acmt0001", e1, 11, folderToken, false); got != `{"xuid":"acmt0001","response":"Hello Bottle 1"}` {
		t.Errorf("after ix_dr: %s", got)
	}

	// the scan log, exports, readers, metrics and backups
	st, body = send("GET", p.tlsBase+"/api/v1/scans?aid=acme&verdict=pass", "", "X-Api-Key", pos.Key)
	want("scans", st, body, 200, `"xuid":"acmt0002"`)
	st, body = send("GET", p.tlsBase+"/api/v1/scans?format=csv", "", "X-Api-Key", acmeKey.Key)
	want("scans as CSV with the account's key", st, body, 200, "seq,time,source,xuid")
	st, body = send("GET", p.tlsBase+"/api/v1/scans?reason=mac_mismatch", "", "X-Api-Key", ops.Key)
	want("scans with a reason", st, body, 200, `"reason":"mac_mismatch"`)
	bin(true, "scans", "--data", data, "--last", "50")
	bin(true, "scans", "--data", data, "--json", "--aid", "acme")
	if out, code := bin(true, "scans", "--data", data, "--csv"); code != 0 || !strings.Contains(out, "stat0001") {
		t.Errorf("tagd scans --csv: exit %d\n%s", code, out)
	}
	st, body = send("GET", p.tlsBase+"/api/v1/export/tags?batch=acmeb", "", "X-Api-Key", acmeKey.Key)
	want("export", st, body, 200, "acmt0001,04A0B1C2D3E401,acme-1")
	st, body = send("GET", p.tlsBase+"/api/v1/readers", "", "X-Api-Key", pos.Key)
	want("readers", st, body, 200, `"state":"none"`)
	st, body = send("GET", p.tlsBase+"/metrics", "", "X-Api-Key", ops.Key)
	want("metrics", st, body, 200, "tagd_taps_total")
	st, body = send("GET", p.tlsBase+"/metrics", "", "X-Api-Key", pos.Key)
	want("metrics with a private key", st, body, 403, "INSUFFICIENT_SCOPE")
	st, _ = send("GET", p.tlsBase+"/api/v1/backup", "", "X-Api-Key", ops.Key) // the file is recorded as the body
	if st != 200 {
		t.Errorf("backup over HTTPS: %d", st)
	}
	backupFile := filepath.Join(dir, "backup.db")
	if out, code := bin(true, "backup", backupFile, "--data", data); code != 0 {
		t.Errorf("tagd backup: %s", out)
	}
	p.terminate()
	bin(true, "scans", "--data", data, "--csv", "--xuid", "acmt0001") // without the service: the store itself
	raw, err := os.ReadFile(backupFile)
	if err != nil {
		t.Fatal(err)
	}
	files.add("backup file", string(raw))
	rec.add("tagd run stdout", p.stdout.String())
	rec.add("tagd run stderr", p.logs.String())

	all := rec.String()
	for _, must := range []string{"tagd running", "acmt0001", "mac_mismatch", "tagd_taps_total", "imported tag keys", "API key refused", "Hello Bottle 1"} {
		if !strings.Contains(all, must) {
			t.Errorf("the recording lacks %q: the sweep would search too little", must)
		}
	}
	if found := leaks(all, secrets); len(found) > 0 {
		t.Errorf("secrets in the logs, answers or outputs: %s", strings.Join(found, "; "))
	}
	if !strings.Contains(files.String(), "acmt0001") || len(files.String()) < 2*len(raw) {
		t.Errorf("the backups are not recorded")
	}
	if found := leaks(files.String(), inBackup(secrets)); len(found) > 0 {
		t.Errorf("secrets in the backups: %s", strings.Join(found, "; "))
	}
	if len(secrets) < 18 {
		t.Errorf("only %d secrets searched", len(secrets))
	}
}

// wrongToken returns token with its last character changed, so it is
// never the token itself.
func wrongToken(token string) string {
	last := byte('x')
	if token[len(token)-1] == last {
		last = 'y'
	}
	return token[:len(token)-1] + string(last)
}

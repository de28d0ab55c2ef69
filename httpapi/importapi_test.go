package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/httpapi"
)

// importReq sends a request to h and returns the status and body.
func importReq(t *testing.T, h http.Handler, method, path, key, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	req.Header.Set("Content-Type", "text/csv")
	if key != "" {
		req.Header.Set("X-Api-Key", key)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code, w.Body.String()
}

func TestImportExportAPI(t *testing.T) {
	e := newMgEnv(t)
	admin := e.srv.AdminHandler()
	const fileKey = "C0FFEE55C0FFEE55C0FFEE55C0FFEE55"
	in := "XUID,UID,CUID,TAGNAME,STATUS,FILE_KEY\nimpt0001,04A1B2C3D4E5F6,imp-1,Imported,Inactive," + fileKey + "\n" + mgXUID + ",,,Renamed,,\n"
	code, body := importReq(t, admin, "POST", "/api/v1/import/tags?batch=b-demo", "", in)
	if code != 200 || body != `{"rows":2}` {
		t.Fatalf("import: %d %s", code, body)
	}
	tg, err := e.db.Tag(context.Background(), "impt0001")
	if err != nil || tg.AID != "demo" || tg.Status != tagd.TagInactive || tg.UID != "04A1B2C3D4E5F6" {
		t.Fatalf("imported tag %+v %v", tg, err)
	}
	code, body = importReq(t, admin, "GET", "/api/v1/export/tags?batch=b-demo", "", "")
	if code != 200 || !strings.HasPrefix(body, "XUID,UID,CUID,TAGNAME,RESPONSE,STATUS,ASSIGNED,NFTCONTRACT,NFTTOKEN,NFTCHAIN,NFTOWNER,NFTMETA\n") ||
		!strings.Contains(body, "impt0001,04A1B2C3D4E5F6,imp-1,Imported,,Inactive,Unassigned,,,,,\n") || !strings.Contains(body, mgXUID+","+mgUID+","+mgCUID+",Renamed,") {
		t.Fatalf("export: %d\n%s", code, body)
	}
	// keys: import only
	code, body = importReq(t, admin, "POST", "/api/v1/import/keys", "", "XUID,UID,FILE_KEY\nimpt0001,04A1B2C3D4E5F6,"+strings.Repeat("C0FFEE66", 4)+"\n")
	if code != 200 || body != `{"rows":1}` {
		t.Fatalf("import keys: %d %s", code, body)
	}
	// errors name the row and column, change nothing, show no key
	code, body = importReq(t, admin, "POST", "/api/v1/import/tags?batch=b-demo", "", "XUID,UID,FILE_KEY\nimpt0002,,"+fileKey+"\nimpt0003,04XYZ,\n")
	if code != 400 || !strings.Contains(body, `row 3, column UID: \"04XYZ\" is not 7 bytes of hex`) {
		t.Fatalf("bad row: %d %s", code, body)
	}
	if _, err := e.db.Tag(context.Background(), "impt0002"); tagd.ErrorCode(err) != tagd.CodeNotFound {
		t.Fatalf("a failed import wrote row 2: %v", err)
	}
	code, body = importReq(t, admin, "POST", "/api/v1/import/keys", "", "XUID,UID,FILE_KEY\nimpt0001,04A1B2C3D4E5F6,"+fileKey[:31]+"\n")
	if code != 400 || !strings.Contains(body, "row 2, column FILE_KEY") {
		t.Fatalf("bad key row: %d %s", code, body)
	}
	for _, c := range []struct {
		method, path string
		code         int
	}{
		{"POST", "/api/v1/import/tags", 400},
		{"POST", "/api/v1/import/tags?batch=nope", 404},
		{"GET", "/api/v1/export/tags?batch=nope", 404},
		{"GET", "/api/v1/import/tags?batch=b-demo", 405},
	} {
		if code, body := importReq(t, admin, c.method, c.path, "", "XUID,TAGNAME\nimpt0009,x\n"); code != c.code {
			t.Fatalf("%s %s: %d %s, want %d", c.method, c.path, code, body, c.code)
		}
	}
	for _, s := range []string{e.log.String()} {
		if strings.Contains(strings.ToUpper(s), "C0FFEE") {
			t.Fatalf("key material in the log:\n%s", s)
		}
	}

	// the LAN handler: behind API keys
	e.srv.Auth = httpapi.AuthConfig{Keys: e.db, KeyAdmin: e.db}
	h := e.srv.Handler()
	mk := func(id, aid string, scopes ...string) string {
		sum := sha256.Sum256([]byte("secret-" + id))
		if err := e.db.CreateAPIKey(context.Background(), tagd.APIKey{ID: id, AID: aid, Name: id, Scopes: scopes, SecretHash: sum[:], Created: time.Now()}); err != nil {
			t.Fatal(err)
		}
		return id + ".secret-" + id
	}
	priv, other, pub, adm := mk("kpriv", "demo", "private"), mk("kother", "other", "private"), mk("kpub", "", "public"), mk("kadmin", "", "admin")
	for _, c := range []struct {
		method, path, key string
		code              int
		codeStr           string
	}{
		{"GET", "/api/v1/export/tags?batch=b-demo", "", 400, "MISSING_API_KEY"},
		{"GET", "/api/v1/export/tags?batch=b-demo", pub, 403, "INSUFFICIENT_SCOPE"},
		{"GET", "/api/v1/export/tags?batch=b-demo", other, 404, "not_found"},
		{"GET", "/api/v1/export/tags?batch=b-demo", priv, 200, ""},
		{"POST", "/api/v1/import/tags?batch=b-demo", priv, 200, ""},
		{"POST", "/api/v1/import/tags?batch=b-demo", other, 404, "not_found"},
		{"POST", "/api/v1/import/keys", priv, 403, "INSUFFICIENT_SCOPE"},
		{"POST", "/api/v1/import/keys", adm, 200, ""},
	} {
		body := "XUID,TAGNAME\nimpt0009,x\n"
		if strings.Contains(c.path, "keys") {
			body = "XUID,UID,FILE_KEY\nimpt0001,04A1B2C3D4E5F6," + fileKey + "\n"
		}
		code, got := importReq(t, h, c.method, c.path, c.key, body)
		if code != c.code {
			t.Fatalf("%s %s with %q: %d %s, want %d", c.method, c.path, c.key, code, got, c.code)
		}
		if c.codeStr != "" {
			var eb struct{ Code string }
			if json.Unmarshal([]byte(got), &eb); eb.Code != c.codeStr {
				t.Fatalf("%s %s: %s, want %s", c.method, c.path, got, c.codeStr)
			}
		}
		if strings.Contains(got, "C0FFEE") {
			t.Fatalf("key material in a reply: %s", got)
		}
	}
	e.srv.WaitKeyUse()
}

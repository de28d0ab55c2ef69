package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fuzzCatalogBody sends arbitrary bodies to POST base and PATCH base/id on
// the admin socket's handler: the answer is JSON, never a fault, and a
// refused body changes nothing. It never shows a hex key of the body.
func fuzzCatalogBody(f *testing.F, base, id string, seeds ...string) {
	e := newCrudEnv(f)
	h := e.srv.AdminHandler()
	for _, s := range seeds {
		f.Add(false, []byte(s))
		f.Add(true, []byte(s))
	}
	f.Fuzz(func(t *testing.T, patch bool, body []byte) {
		method, path := http.MethodPost, base
		if patch {
			method, path = http.MethodPatch, base+"/"+id
		}
		before := e.dbBytes(t)
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Header().Get("Content-Type") != "application/json" || !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: %d, Content-Type %q, body %q", method, path, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
		switch rec.Code {
		case http.StatusOK, http.StatusCreated:
		case http.StatusBadRequest, http.StatusNotFound, http.StatusConflict:
			var v map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || len(v) != 2 || v["Code"] == nil || v["Message"] == nil {
				t.Fatalf("error body %s", rec.Body)
			}
			if !bytes.Equal(before, e.dbBytes(t)) {
				t.Fatalf("%s %s answered %d but changed the database: %q", method, path, rec.Code, body)
			}
		default:
			t.Fatalf("%s %s: status %d %s", method, path, rec.Code, rec.Body)
		}
		var in struct {
			Keys struct{ Meta, File, Master string }
		}
		if json.Unmarshal(body, &in) == nil {
			for _, k := range []string{in.Keys.Meta, in.Keys.File, in.Keys.Master} {
				if len(k) >= 16 && strings.Contains(strings.ToUpper(rec.Body.String()), strings.ToUpper(k)) {
					t.Fatalf("the answer shows a key of the body: %s", rec.Body)
				}
			}
		}
	})
}

// FuzzAccountBody fuzzes the bodies of POST and PATCH /api/v1/accounts.
func FuzzAccountBody(f *testing.F) {
	fuzzCatalogBody(f, "/api/v1/accounts", "demo",
		`{"aid":"fz1","name":"F","mgmt_token":"tok"}`, `{"name":"N","api_disabled":true}`, `{"mgmt_token":null}`,
		`{"aid":"bad id"}`, `{"name":"\u0000"}`, `{}`, `[]`, `{"name":1}`)
}

// FuzzFolderBody fuzzes the bodies of POST and PATCH /api/v1/folders.
func FuzzFolderBody(f *testing.F) {
	fuzzCatalogBody(f, "/api/v1/folders", "f-demo",
		`{"aid":"demo","name":"F","token":"abc","cors":"*"}`, `{"cors":"https://a.example","status":"inactive"}`,
		`{"fields":[{"name":"colour","type":"text"}]}`, `{"fields":null,"token":""}`, `{"status":"Active"}`, `{"aid":"other"}`)
}

// FuzzGroupBody fuzzes the bodies of POST and PATCH /api/v1/groups.
func FuzzGroupBody(f *testing.F) {
	fuzzCatalogBody(f, "/api/v1/groups", "g-demo",
		`{"folder_id":"f-demo","name":"G","type":"standard","ruleset":{"default":"Found"}}`,
		`{"folder_id":"f-demo","name":"A","type":"authentication","profile":{"mode":"aes","mac_input":"empty","file_key_source":"static","tamper_offset":-1},"keys":{"meta":"00112233445566778899AABBCCDDEEFF"}}`,
		`{"ruleset":{"default":"x","groups":[{"response":"r","rules":[{"type":"scan_count","op":"gt","value":"3"}]}]}}`,
		`{"extended":{"colour":"red"},"status":"inactive"}`, `{"profile":null,"keys":null}`, `{"keys":{"file":"zz"}}`, `{"type":"authentication"}`)
}

// FuzzBatchBody fuzzes the bodies of POST and PATCH /api/v1/batches.
func FuzzBatchBody(f *testing.F) {
	fuzzCatalogBody(f, "/api/v1/batches", "b-demo",
		`{"id":"fzb1","group_id":"g-demo","name":"B"}`, `{"name":"B2","status":"inactive"}`, `{"group_id":"g-other"}`, `{"group_id":null}`)
}

// FuzzTagBody fuzzes the bodies of POST and PATCH /api/v1/tags.
func FuzzTagBody(f *testing.F) {
	fuzzCatalogBody(f, "/api/v1/tags", mgXUID,
		`{"xuid":"fuzztag1","batch_id":"b-demo","uid":"04A1B2C3D4E5F6","cuid":"c1"}`, `{"batch_id":"b-demo"}`,
		`{"name":"T","status":"Inactive","assigned":true}`, `{"nft":{"chain":"polygon_main","contract":"c","token":"t","owner":"o"}}`,
		`{"ruleset":{"default":"Mine"},"extended":{"k":"v"}}`, `{"ruleset":null,"nft":null,"extended":null}`, `{"uid":"zz"}`, `{"cuid":"`+mgCUID+`"}`)
}

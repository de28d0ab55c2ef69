package httpapi_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/httpapi"
)

// EachScan walks the fake log newest first with the query's own Match, as
// the store does.
func (f *fakeLog) EachScan(ctx context.Context, q tagd.ScanQuery, fn func(*tagd.Scan) error) error {
	return f.eachScan(q, 0, fn)
}

// eachScan is EachScan failing after failAfter scans read (0: never).
func (f *fakeLog) eachScan(q tagd.ScanQuery, failAfter int, fn func(*tagd.Scan) error) error {
	if err := q.Validate(); err != nil {
		return err
	}
	f.mu.Lock()
	scans := append([]tagd.Scan(nil), f.scans...)
	f.mu.Unlock()
	n := 0
	for i := len(scans) - 1; i >= 0; i-- {
		if failAfter > 0 && len(scans)-i > failAfter {
			return errors.New("disk on fire")
		}
		s := scans[i]
		if !q.Match(&s) {
			continue
		}
		if err := fn(&s); err != nil {
			return err
		}
		if n++; q.Limit > 0 && n >= q.Limit {
			return nil
		}
	}
	return nil
}

// failingLog is a fakeLog whose EachScan fails after failAfter scans.
type failingLog struct {
	*fakeLog
	failAfter int
}

func (f failingLog) EachScan(ctx context.Context, q tagd.ScanQuery, fn func(*tagd.Scan) error) error {
	return f.eachScan(q, f.failAfter, fn)
}

var (
	_ httpapi.ScanLister = (*fakeLog)(nil)
	_ httpapi.ScanLister = failingLog{}
)

// scanFixture is a log of 30 scans: every third a passing SUN tap of
// account acme on a reader, the others API lookups of account other; the
// times one minute apart from scanT0.
func scanFixture() *fakeLog {
	log := &fakeLog{}
	for i := range 30 {
		s := tagd.Scan{Time: scanT0.Add(time.Duration(i) * time.Minute), Source: "api", XUID: "othr0001", AID: "other", Response: "Found"}
		if i%3 == 0 {
			s = tagd.Scan{Time: scanT0.Add(time.Duration(i) * time.Minute), Source: "reader:acr", XUID: "acme0001", AID: "acme", UID: "04DE5F1EACC040",
				Auth: "pass", Counter: uint32(i), HasCounter: true, Response: "Pass, \"genuine\"", ScanCount: uint64(i/3 + 1)}
		}
		log.add(s)
	}
	return log
}

var scanT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// getScans sends GET target with the key (if any) to h.
func getScans(t *testing.T, h http.Handler, target, key string) authReply {
	t.Helper()
	hdr := []string{}
	if key != "" {
		hdr = append(hdr, "X-Api-Key", key)
	}
	return authServe(h, "GET", target, "192.0.2.7:5000", hdr...)
}

// decodeScans decodes a JSON page.
func decodeScans(t *testing.T, rep authReply) []tagd.Scan {
	t.Helper()
	if rep.status != 200 || rep.header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d %s: %s", rep.status, rep.header.Get("Content-Type"), rep.body)
	}
	var out []tagd.Scan
	if err := json.Unmarshal([]byte(rep.body), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestScans_Scopes: on the LAN handler the scan log needs the private
// scope and the reader status the public one; the admin socket needs no
// key.
func TestScans_Scopes(t *testing.T) {
	a := newAuthServer(t, httpapi.KeyRate{PerSecond: 1000, Burst: 1000})
	a.Scans = scanFixture()
	a.Readers = func() []tagd.ReaderStatus {
		return []tagd.ReaderStatus{{Reader: "ACR122", State: tagd.ReaderReady, Since: scanT0}}
	}
	public := a.keys.add("tagd_pub", secretA, func(k *tagd.APIKey) { k.Scopes = []string{tagd.ScopePublic} })
	private := a.keys.add("tagd_priv", secretA, func(k *tagd.APIKey) { k.Scopes = []string{tagd.ScopePrivate} })
	syncKey := a.keys.add("tagd_sync", secretA, func(k *tagd.APIKey) { k.Scopes = []string{tagd.ScopeSync} })
	admin := a.keys.add("tagd_admin", secretA, func(k *tagd.APIKey) { k.Scopes = []string{tagd.ScopeAdmin} })
	lan, sock := a.Handler(), a.AdminHandler()

	wantAPIError(t, getScans(t, lan, "/api/v1/scans", ""), httpapi.CodeMissingAPIKey)
	wantAPIError(t, getScans(t, lan, "/api/v1/readers", ""), httpapi.CodeMissingAPIKey)
	wantAPIError(t, getScans(t, lan, "/api/v1/scans", public), httpapi.CodeInsufficientScope)
	wantAPIError(t, getScans(t, lan, "/api/v1/scans", syncKey), httpapi.CodeInsufficientScope)
	wantAPIError(t, getScans(t, lan, "/api/v1/readers", syncKey), httpapi.CodeInsufficientScope)
	for _, key := range []string{private, admin} {
		if got := decodeScans(t, getScans(t, lan, "/api/v1/scans?last=2", key)); len(got) != 2 || got[0].Seq != 30 {
			t.Errorf("scans with %s: %+v", key[:9], got)
		}
	}
	for _, key := range []string{public, private, admin} {
		rep := getScans(t, lan, "/api/v1/readers", key)
		if rep.status != 200 || rep.body != `[{"reader":"ACR122","state":"ready","since":"2026-03-01T12:00:00Z"}]` {
			t.Errorf("readers with %s: %d %s", key[:9], rep.status, rep.body)
		}
	}
	if got := decodeScans(t, getScans(t, sock, "/api/v1/scans?limit=1", "")); len(got) != 1 || got[0].Seq != 30 {
		t.Errorf("scans on the socket: %+v", got)
	}
	if rep := getScans(t, sock, "/api/v1/readers", ""); rep.status != 200 || !strings.HasPrefix(rep.body, `[{"reader":"ACR122"`) {
		t.Errorf("readers on the socket: %d %s", rep.status, rep.body)
	}
}

// TestScans_FiltersAndPages follows the Link header through the pages of
// a filtered listing: every selected scan once, newest first, and no Link
// on the last page.
func TestScans_FiltersAndPages(t *testing.T) {
	a := newAuthServer(t, httpapi.KeyRate{PerSecond: 1000, Burst: 1000})
	a.Scans = scanFixture()
	h := a.AdminHandler()
	// acme's taps are seqs 1, 4, …, 28; since 12:10 (seq 11) leaves 13 … 28
	target := "/api/v1/scans?aid=acme&verdict=pass&since=2026-03-01T12:10:00Z&limit=2"
	var seqs []uint64
	for pages := 0; target != ""; pages++ {
		if pages > 10 {
			t.Fatal("the pages do not end")
		}
		rep := getScans(t, h, target, "")
		for _, s := range decodeScans(t, rep) {
			if s.AID != "acme" || s.Auth != "pass" {
				t.Errorf("page %s holds %+v", target, s)
			}
			seqs = append(seqs, s.Seq)
		}
		target = ""
		if l := rep.header.Get("Link"); l != "" {
			next, ok := strings.CutPrefix(l, "<")
			next, rel, _ := strings.Cut(next, ">")
			if !ok || rel != `; rel="next"` || !strings.HasPrefix(next, "/api/v1/scans?") {
				t.Fatalf("Link %q", l)
			}
			target = next
		}
	}
	if got := fmtSeqs(seqs); got != "28 25 22 19 16 13" {
		t.Errorf("pages gave %s, want 28 25 22 19 16 13", got)
	}
	// a page that ends exactly at the last match has no Link
	rep := getScans(t, h, "/api/v1/scans?xuid=acme0001&before=5", "")
	if got := decodeScans(t, rep); fmtSeqs(seqsOf(got)) != "4 1" || rep.header.Get("Link") != "" {
		t.Errorf("before=5: %s, Link %q", rep.body, rep.header.Get("Link"))
	}
	// nothing selected is an empty array
	if rep := getScans(t, h, "/api/v1/scans?xuid=nobody01", ""); rep.status != 200 || rep.body != "[]" {
		t.Errorf("no match: %d %s", rep.status, rep.body)
	}
	// a bad value names its parameter
	rep = getScans(t, h, "/api/v1/scans?uid=xyz", "")
	if rep.status != 400 || rep.body != `{"Code":"invalid","Message":"uid: want the chip UID in hex, such as 04AABBCC112233"}` {
		t.Errorf("bad uid: %d %s", rep.status, rep.body)
	}
}

func seqsOf(scans []tagd.Scan) []uint64 {
	out := make([]uint64, 0, len(scans))
	for _, s := range scans {
		out = append(out, s.Seq)
	}
	return out
}

func fmtSeqs(seqs []uint64) string {
	parts := make([]string, 0, len(seqs))
	for _, s := range seqs {
		parts = append(parts, strconv.FormatUint(s, 10))
	}
	return strings.Join(parts, " ")
}

// TestScans_AccountKey: a key of one account sees only that account's
// scans, and asking for another account is refused.
func TestScans_AccountKey(t *testing.T) {
	a := newAuthServer(t, httpapi.KeyRate{PerSecond: 1000, Burst: 1000})
	a.Scans = scanFixture()
	a.keys.accounts["acme"] = tagd.Account{AID: "acme", Name: "Acme"}
	acme := a.keys.add("tagd_acme", secretA, func(k *tagd.APIKey) { k.Scopes = []string{tagd.ScopePrivate}; k.AID = "acme" })
	h := a.Handler()
	rep := getScans(t, h, "/api/v1/scans?limit=3", acme)
	if got := decodeScans(t, rep); fmtSeqs(seqsOf(got)) != "28 25 22" {
		t.Errorf("acme's key: %s", rep.body)
	}
	if l := rep.header.Get("Link"); l != `</api/v1/scans?before=22&limit=3>; rel="next"` {
		t.Errorf("Link %q", l)
	}
	rep = getScans(t, h, "/api/v1/scans?format=csv", acme)
	if n := strings.Count(rep.body, "\n"); rep.status != 200 || n != 11 {
		t.Errorf("acme's CSV: %d, %d lines: %s", rep.status, n, rep.body)
	}
	wantAPIError(t, getScans(t, h, "/api/v1/scans?aid=other", acme), httpapi.CodeInsufficientScope)
}

// TestScans_CSV streams the export over real HTTP: the header row, one
// row per selected scan in the JSON's order and values, quoting where
// needed; a store failure before the first byte is a JSON error, after it
// a cut connection.
func TestScans_CSV(t *testing.T) {
	a := newAuthServer(t, httpapi.KeyRate{PerSecond: 1000, Burst: 1000})
	log := scanFixture()
	a.Scans = log
	srv := httptest.NewServer(a.AdminHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/scans?format=csv&source=reader:acr")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename="scans.csv"` {
		t.Fatalf("%s %v", resp.Status, resp.Header)
	}
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if strings.Join(rows[0], ",") != "seq,time,source,xuid,aid,uid,counter,auth,reason,tamper,response,error,scan_count" {
		t.Errorf("header %q", rows[0])
	}
	if len(rows) != 11 {
		t.Fatalf("%d rows, want the header and 10 taps:\n%s", len(rows), body)
	}
	want := []string{"28", "2026-03-01T12:27:00Z", "reader:acr", "acme0001", "acme", "04DE5F1EACC040", "27", "pass", "", "", `Pass, "genuine"`, "", "10"}
	if strings.Join(rows[1], "|") != strings.Join(want, "|") {
		t.Errorf("first row %q, want %q", rows[1], want)
	}
	if !strings.Contains(string(body), `"Pass, ""genuine"""`) {
		t.Errorf("the response is not quoted as CSV quotes: %s", body)
	}
	if rows[10][0] != "1" {
		t.Errorf("last row %q, want seq 1", rows[10])
	}
	// limit bounds the export; the JSON default of 100 does not apply
	resp, err = http.Get(srv.URL + "/api/v1/scans?format=csv&limit=2")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Count(string(body), "\n") != 3 {
		t.Errorf("limit=2: %s", body)
	}

	// the store fails at once: an ordinary error answer
	a.Scans = failingLog{log, 1}
	resp, err = http.Get(srv.URL + "/api/v1/scans?format=csv&source=nowhere")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || string(body) != `{"Code":"internal","Message":"internal error"}` || resp.Header.Get("Content-Disposition") != "" {
		t.Errorf("failure before the first byte: %s %v %s", resp.Status, resp.Header, body)
	}
}

// TestScans_CSVCut: when the store fails after the export has started,
// the client sees a broken transfer, not a complete-looking file.
func TestScans_CSVCut(t *testing.T) {
	a := newAuthServer(t, httpapi.KeyRate{PerSecond: 1000, Burst: 1000})
	log := &fakeLog{}
	for range 3000 { // more than the 64 KiB buffer
		log.add(tagd.Scan{Time: scanT0, Source: "api", XUID: "bigrow01", Response: strings.Repeat("x", 100)})
	}
	a.Scans = failingLog{log, 2000}
	srv := httptest.NewServer(a.AdminHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/scans?format=csv")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s", resp.Status)
	}
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Errorf("a cut export read as complete")
	}
	if !strings.Contains(a.log.String(), "scan export aborted") {
		t.Errorf("the abort is not logged: %s", a.log.String())
	}
}

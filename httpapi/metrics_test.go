package httpapi_test

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/httpapi"
)

// fakeLog is a scan log and backup source for the metrics and backup
// tests.
type fakeLog struct {
	mu    sync.Mutex
	scans []tagd.Scan // oldest first
}

func (f *fakeLog) add(s tagd.Scan) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s.Seq = uint64(len(f.scans) + 1)
	f.scans = append(f.scans, s)
}

func (f *fakeLog) Scans(_ context.Context, last int) ([]tagd.Scan, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []tagd.Scan
	for i := len(f.scans) - 1; i >= 0 && len(out) < last; i-- {
		out = append(out, f.scans[i])
	}
	return out, nil
}

func (f *fakeLog) ScanLogSize(context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.scans), nil
}

const fakeDB = "bbolt bytes of a tagd database"

func (f *fakeLog) BackupTo(_ context.Context, w io.Writer, start func(int64)) (int64, error) {
	start(int64(len(fakeDB)))
	n, err := io.WriteString(w, fakeDB)
	return int64(n), err
}

// TestMetrics scrapes /metrics after a few taps: the counters are there,
// only admin keys may read them, and no label or value carries a key,
// token, UID, XUID, URL or reader name.
func TestMetrics(t *testing.T) {
	a := newAuthServer(t, httpapi.KeyRate{PerSecond: 1000, Burst: 1000})
	admin := a.keys.add("tagd_admin", secretA, func(k *tagd.APIKey) { k.Scopes = []string{tagd.ScopeAdmin} })
	public := a.keys.add("tagd_public", secretA, func(k *tagd.APIKey) { k.Scopes = []string{tagd.ScopePublic} })
	log := &fakeLog{}
	log.add(tagd.Scan{Source: "api", XUID: "oldtap00", Auth: "pass"}) // before start: not counted
	a.Scans = log
	a.Readers = func() []tagd.ReaderStatus {
		return []tagd.ReaderStatus{{Reader: "ACME Reader SN-SECRET-42", State: tagd.ReaderReady, Detail: "https://detail.example/"}}
	}
	h := a.Handler()

	const uid, xuid = "04AABBCC112233", "q8w3sbcz"
	log.add(tagd.Scan{Source: "reader:ACME Reader SN-SECRET-42", XUID: xuid, UID: uid, Auth: "pass", Response: "https://shop.example/p?tok=abc"})
	log.add(tagd.Scan{Source: "api", XUID: xuid, UID: uid, Auth: "fail", Reason: "replay"})
	log.add(tagd.Scan{Source: "api", XUID: xuid, UID: uid, Auth: "fail", Reason: tagd.Code("Weird Reason With https://x")})
	log.add(tagd.Scan{Source: "api", XUID: xuid})
	authServe(h, "GET", "/v1/t?x="+xuid+"&r=sekrit-token", "127.0.0.1:1") // a check (no Checker: internal error)

	if rep := authServe(h, "GET", "/metrics", "127.0.0.1:1"); rep.status != 400 {
		t.Errorf("without a key: %d", rep.status)
	}
	if rep := authServe(h, "GET", "/metrics", "127.0.0.1:1", "X-Api-Key", public); rep.status != 403 {
		t.Errorf("public key: %d", rep.status)
	}
	rep := authServe(h, "GET", "/metrics", "127.0.0.1:1", "X-Api-Key", admin)
	if rep.status != 200 {
		t.Fatalf("admin key: %+v", rep)
	}
	body := rep.body
	for _, want := range []string{
		`tagd_taps_total{reason="",verdict="pass"} 1`,
		`tagd_taps_total{reason="replay",verdict="fail"} 1`,
		`tagd_taps_total{reason="other",verdict="fail"} 1`,
		`tagd_taps_total{reason="",verdict="none"} 1`,
		`tagd_scan_log_entries 5`,
		`tagd_readers{state="ready"} 1`,
		`tagd_readers{state="absent"} 0`,
		`tagd_check_duration_seconds_count 1`,
		`tagd_http_requests_total{route="/v1/t",status="200"} 1`,
		`tagd_http_requests_total{route="GET /metrics",status="403"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	for _, secret := range []string{secretA, admin, public, uid, xuid, "sekrit", "tok=abc", "https:", "example", "SN-SECRET", "oldtap00", "Weird"} {
		if strings.Contains(body, secret) {
			t.Errorf("/metrics shows %q", secret)
		}
	}
	// The admin socket serves it without a key.
	if rep := authServe(a.AdminHandler(), "GET", "/metrics", "@"); rep.status != 200 || !strings.Contains(rep.body, "tagd_taps_total") {
		t.Errorf("admin socket /metrics: %d", rep.status)
	}
}

// TestBackupEndpoint streams the backup with its headers, for admin keys
// only, and keyless on the admin socket.
func TestBackupEndpoint(t *testing.T) {
	a := newAuthServer(t, httpapi.KeyRate{PerSecond: 1000, Burst: 1000})
	admin := a.keys.add("tagd_admin", secretA, func(k *tagd.APIKey) { k.Scopes = []string{tagd.ScopeAdmin} })
	private := a.keys.add("tagd_private", secretA, func(k *tagd.APIKey) { k.Scopes = []string{tagd.ScopePrivate} })
	a.Scans = &fakeLog{}
	h := a.Handler()
	if rep := authServe(h, "GET", "/api/v1/backup", "127.0.0.1:1", "X-Api-Key", private); rep.status != 403 {
		t.Errorf("private key: %d %s", rep.status, rep.body)
	}
	for name, rep := range map[string]authReply{
		"admin key":    authServe(h, "GET", "/api/v1/backup", "127.0.0.1:1", "X-Api-Key", admin),
		"admin socket": authServe(a.AdminHandler(), "GET", "/api/v1/backup", "@"),
	} {
		if rep.status != 200 || rep.body != fakeDB {
			t.Errorf("%s: %d %q", name, rep.status, rep.body)
		}
		if ct := rep.header.Get("Content-Type"); ct != "application/octet-stream" {
			t.Errorf("%s: Content-Type %q", name, ct)
		}
		if cd := rep.header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="tagd-`) || !strings.HasSuffix(cd, `.db"`) {
			t.Errorf("%s: Content-Disposition %q", name, cd)
		}
		if cl := rep.header.Get("Content-Length"); cl != "30" {
			t.Errorf("%s: Content-Length %q", name, cl)
		}
	}
}

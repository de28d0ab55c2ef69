package httpapi_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/httpapi"
	"github.com/tagd-nfc/tagd/internal/syncbuf"
)

// fakeChecker answers with canned Results keyed by the request's RawURL
// (or fn, when set) and records every request it gets.
type fakeChecker struct {
	results map[string]tagd.Result
	fn      func(ctx context.Context, req tagd.Request) (tagd.Result, error)

	mu   sync.Mutex
	reqs []tagd.Request
}

// Check implements httpapi.Checker.
func (f *fakeChecker) Check(ctx context.Context, req tagd.Request) (tagd.Result, error) {
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	if f.fn != nil {
		return f.fn(ctx, req)
	}
	res, ok := f.results[req.RawURL]
	if !ok {
		return tagd.Result{Error: tagd.ErrXUIDNotFound}, nil
	}
	return res, nil
}

// requests returns the requests seen so far.
func (f *fakeChecker) requests() []tagd.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]tagd.Request(nil), f.reqs...)
}

// last returns the one request seen, failing unless there was exactly one.
func (f *fakeChecker) last(t *testing.T) tagd.Request {
	t.Helper()
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("checker got %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

var _ httpapi.Checker = (*fakeChecker)(nil)

// testNow is the clock of the test servers.
var testNow = time.Date(2025, 11, 25, 12, 0, 0, 0, time.UTC)

// MustServe returns a Server around c, its test HTTP server and its log.
func MustServe(t testing.TB, c httpapi.Checker) (*httpapi.Server, *httptest.Server, *syncbuf.Buffer) {
	t.Helper()
	log := &syncbuf.Buffer{}
	s := &httpapi.Server{
		Checker: c,
		Now:     func() time.Time { return testNow },
		Logger:  slog.New(slog.NewTextHandler(log, nil)),
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts, log
}

// do sends a request and returns the status, headers and body; hdr holds
// header name/value pairs.
func do(t *testing.T, method, url string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
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

// get sends a GET and fails unless the reply is an ixkio reply (200, JSON).
func get(t *testing.T, url string, hdr ...string) (http.Header, string) {
	t.Helper()
	status, h, body := do(t, http.MethodGet, url, hdr...)
	if status != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200 (body %s)", url, status, body)
	}
	if got := h.Get("Content-Type"); got != "application/json" {
		t.Fatalf("GET %s: Content-Type %q, want application/json", url, got)
	}
	return h, body
}

func TestLookup_KeyOrder(t *testing.T) {
	extra := []tagd.Field{
		{Key: "scancount", Value: "123"},
		{Key: "nft", Value: "{\n  \"owner\": \"0xAB\",\n  \"n\": [1, 2]\n}", JSON: true},
		{Key: "broken", Value: `{"owner":`, JSON: true},
		{Key: "note", Value: `say "hi" <b>&</b>`},
		{Key: "xuid", Value: "shadow"},     // already in the reply: left out
		{Key: "scancount", Value: "again"}, // repeated: left out
		{Key: "", Value: "nameless"},       // no key: left out
		{Key: "uid", Value: "04AA"},        // not in an x reply: kept
		{Key: "empty", Value: "", JSON: true},
	}
	c := &fakeChecker{results: map[string]tagd.Result{
		"?x=q8w3sbcz":                         {Kind: tagd.ByXUID, XUID: "q8w3sbcz", Response: "Found"},
		"?a=demo&c=yourcuid":                  {Kind: tagd.ByCUID, XUID: "q8w3sbcz", CUID: "yourcuid", Response: "Found"},
		"?a=demo&u=04AABBCC112233":            {Kind: tagd.ByUID, XUID: "q8w3sbcz", UID: "04AABBCC112233", Response: "Found"},
		"?x=batchoff":                         {Kind: tagd.ByXUID, XUID: "batchoff", Error: tagd.ErrBatchInactive},
		"?a=nope&c=yourcuid":                  {Kind: tagd.ByCUID, CUID: "yourcuid", Error: tagd.ErrAIDNotFound},
		"?a=demo&c=other":                     {Kind: tagd.ByCUID, CUID: "other", Error: tagd.ErrCUIDNotFound},
		"?a=demo&u=04FF":                      {Kind: tagd.ByUID, UID: "04FF", Error: tagd.ErrUIDNotFound},
		"?picc_data=EF96&cmac=94EE":           {Kind: tagd.BySUN, XUID: "an12196a", UID: "04DE5F1EACC040", Response: "Pass"},
		"?x=extra":                            {Kind: tagd.ByXUID, XUID: "extra", Response: "Pass", Extra: extra},
		"?x=":                                 {Error: tagd.ErrMissingIdentifier},
		"?x=q8w3sbcz&n=000001&e=abcde1234567": {Kind: tagd.ByXUID, XUID: "q8w3sbcz", Response: "Fail"},
	}}
	_, ts, _ := MustServe(t, c)
	for _, tt := range []struct{ query, want string }{
		{"?x=q8w3sbcz", `{"xuid":"q8w3sbcz","response":"Found"}`},
		{"?a=demo&c=yourcuid", `{"xuid":"q8w3sbcz","cuid":"yourcuid","response":"Found"}`},
		{"?a=demo&u=04AABBCC112233", `{"xuid":"q8w3sbcz","uid":"04AABBCC112233","response":"Found"}`},
		{"?x=batchoff", `{"xuid":"batchoff","error":"batch_inactive"}`},
		{"?a=nope&c=yourcuid", `{"xuid":"","cuid":"yourcuid","error":"aid_not_found"}`},
		{"?a=demo&c=other", `{"xuid":"","cuid":"other","error":"cuid_not_found"}`},
		{"?a=demo&u=04FF", `{"xuid":"","uid":"04FF","error":"uid_not_found"}`},
		{"?picc_data=EF96&cmac=94EE", `{"xuid":"an12196a","response":"Pass"}`},
		{"?x=unknown", `{"xuid":"","error":"xuid_not_found"}`},
		{"", `{"xuid":"","error":"xuid_not_found"}`},
		{"?x=", `{"xuid":"","error":"missing_identifier"}`},
		{"?x=q8w3sbcz&n=000001&e=abcde1234567", `{"xuid":"q8w3sbcz","response":"Fail"}`},
		{"?x=extra", `{"xuid":"extra","response":"Pass","scancount":"123","nft":{"owner":"0xAB","n":[1,2]},` +
			`"broken":"{\"owner\":","note":"say \"hi\" \u003cb\u003e\u0026\u003c/b\u003e","uid":"04AA","empty":""}`},
	} {
		t.Run(tt.query, func(t *testing.T) {
			_, body := get(t, ts.URL+"/v1/t"+tt.query)
			if body != tt.want {
				t.Fatalf("body\n %s\nwant\n %s", body, tt.want)
			}
		})
	}
}

func TestLookup_Request(t *testing.T) {
	c := &fakeChecker{}
	_, ts, _ := MustServe(t, c)
	get(t, ts.URL+"/v1/t?a=my%20shop&c=cu+id%2F1&u=04aa&x=q8w3sbcz&n=000001")
	got := c.last(t)
	want := tagd.Request{
		Source: "api",
		Lookup: tagd.Lookup{XUID: "q8w3sbcz", AID: "my shop", CUID: "cu id/1", UID: "04aa"},
		RawURL: "?a=my%20shop&c=cu+id%2F1&u=04aa&x=q8w3sbcz&n=000001",
		Time:   testNow,
	}
	if got.Source != want.Source || got.Lookup != want.Lookup || got.RawURL != want.RawURL ||
		!got.Time.Equal(want.Time) || got.HasToken || got.Token != "" {
		t.Fatalf("request\n %+v\nwant\n %+v", got, want)
	}
}

func TestLookup_RawQueryUnmodified(t *testing.T) {
	for _, raw := range []string{
		"x=a&picc_data=AB&cmac=CD",
		"x=%41b&picc_data=%41B&cmac=CD",
		"picc_data=EF963FF7828658A599F3041510671E88&cmac=94EED9EE65337086",
		"cmac=CD&x=q8w3sbcz&picc_data=AB&x2=1&",
		"x=q8w3sbcz&enc=&cmac=CD;z=%zz&&+=+",
		"u=04DE5F1EACC040&a=demo&ctr=00003D&cmac=%2b%2B",
	} {
		t.Run(raw, func(t *testing.T) {
			c := &fakeChecker{}
			_, ts, _ := MustServe(t, c)
			get(t, ts.URL+"/v1/t?"+raw)
			if got := c.last(t).RawURL; got != "?"+raw {
				t.Fatalf("RawURL %q, want %q", got, "?"+raw)
			}
		})
	}
}

func TestLookup_Token(t *testing.T) {
	for _, tt := range []struct {
		name, path string
		hdr        []string
		token      string
		has        bool
	}{
		{"None", "/v1/t?x=q8w3sbcz", nil, "", false},
		{"Query", "/v1/t?x=q8w3sbcz&r=Tok3n", nil, "Tok3n", true},
		{"QueryEscaped", "/v1/t?r=Tok%33n&x=q8w3sbcz", nil, "Tok3n", true},
		{"QueryEmpty", "/v1/t?x=q8w3sbcz&r=", nil, "", true},
		{"XAPIKey", "/v1/t?x=q8w3sbcz", []string{"X-API-Key", "HdrTok"}, "HdrTok", true},
		{"XApiKey", "/v1/t?x=q8w3sbcz", []string{"X-Api-Key", "HdrTok"}, "HdrTok", true},
		{"IxkioR", "/v1/t?x=q8w3sbcz", []string{"Ixkio-R", "RTok"}, "RTok", true},
		{"QueryFirst", "/v1/t?x=q8w3sbcz&r=Q", []string{"X-API-Key", "H", "Ixkio-R", "I"}, "Q", true},
		{"XAPIKeyBeforeIxkioR", "/v1/t?x=q8w3sbcz", []string{"Ixkio-R", "I", "X-API-Key", "H"}, "H", true},
		{"KQuery", "/k?x=q8w3sbcz&r=Tok3n", nil, "Tok3n", true},
		{"KXAPIKey", "/k?x=q8w3sbcz", []string{"X-API-Key", "HdrTok"}, "HdrTok", true},
		{"KIxkioR", "/k?x=q8w3sbcz", []string{"Ixkio-R", "RTok"}, "RTok", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &fakeChecker{}
			_, ts, _ := MustServe(t, c)
			get(t, ts.URL+tt.path, tt.hdr...)
			got := c.last(t)
			if got.Token != tt.token || got.HasToken != tt.has {
				t.Fatalf("Token %q HasToken %v, want %q %v", got.Token, got.HasToken, tt.token, tt.has)
			}
		})
	}
}

// TestLookup_K checks that /k is the same handler as /v1/t: the same
// request reaches the checker and the same bytes come back.
func TestLookup_K(t *testing.T) {
	c := &fakeChecker{results: map[string]tagd.Result{
		"?a=demo&c=yourcuid&r=t": {Kind: tagd.ByCUID, XUID: "q8w3sbcz", CUID: "yourcuid", Response: "Found", CORS: "*"},
	}}
	_, ts, _ := MustServe(t, c)
	h1, b1 := get(t, ts.URL+"/v1/t?a=demo&c=yourcuid&r=t")
	h2, b2 := get(t, ts.URL+"/k?a=demo&c=yourcuid&r=t")
	if b1 != b2 || b1 != `{"xuid":"q8w3sbcz","cuid":"yourcuid","response":"Found"}` {
		t.Fatalf("bodies %s and %s", b1, b2)
	}
	if h1.Get("Access-Control-Allow-Origin") != "*" || h2.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("ACAO %q and %q, want *", h1.Get("Access-Control-Allow-Origin"), h2.Get("Access-Control-Allow-Origin"))
	}
	reqs := c.requests()
	if len(reqs) != 2 || reqs[0] != reqs[1] {
		t.Fatalf("requests %+v", reqs)
	}
}

func TestLookup_CORS(t *testing.T) {
	c := &fakeChecker{results: map[string]tagd.Result{
		"?x=blank":  {XUID: "blank", Response: "Found"},
		"?x=star":   {XUID: "star", Response: "Found", CORS: "*"},
		"?x=origin": {XUID: "origin", Response: "Found", CORS: "https://shop.example.com"},
		"?x=err":    {XUID: "err", Error: tagd.ErrTokenInvalid, CORS: "https://shop.example.com"},
	}}
	_, ts, _ := MustServe(t, c)
	for _, tt := range []struct{ x, want string }{
		{"blank", ""},
		{"star", "*"},
		{"origin", "https://shop.example.com"},
		{"err", "https://shop.example.com"},
		{"unknown", ""},
	} {
		t.Run(tt.x, func(t *testing.T) {
			h, _ := get(t, ts.URL+"/v1/t?x="+tt.x, "Origin", "https://other.example.org")
			if got := h.Values("Access-Control-Allow-Origin"); strings.Join(got, ",") != tt.want {
				t.Fatalf("Access-Control-Allow-Origin %q, want %q", got, tt.want)
			}
			if got := h.Get("Vary"); got != "" {
				t.Fatalf("Vary %q, want none", got)
			}
		})
	}
}

func TestLookup_RepeatedParam(t *testing.T) {
	c := &fakeChecker{}
	_, ts, _ := MustServe(t, c)
	for _, q := range []string{
		"x=a&x=b", "x=a&x=a", "a=demo&c=one&c=two", "a=1&a=2&u=04AA", "u=04AA&a=d&u=04BB", "x=a&r=t1&r=t2", "x&x",
	} {
		t.Run(q, func(t *testing.T) {
			_, body := get(t, ts.URL+"/v1/t?"+q)
			if want := `{"xuid":"","error":"missing_identifier"}`; body != want {
				t.Fatalf("body %s, want %s", body, want)
			}
		})
	}
	if n := len(c.requests()); n != 0 {
		t.Fatalf("checker ran %d times for rejected queries", n)
	}
	// Repeats of other parameters are the verifier's business.
	get(t, ts.URL+"/v1/t?x=a&cmac=1&cmac=2&X=b&x2=c")
	if got := c.last(t).Lookup.XUID; got != "a" {
		t.Fatalf("XUID %q, want a", got)
	}
}

func TestLookup_InternalError(t *testing.T) {
	for _, tt := range []struct {
		name string
		fn   func(context.Context, tagd.Request) (tagd.Result, error)
	}{
		{"Error", func(context.Context, tagd.Request) (tagd.Result, error) {
			return tagd.Result{XUID: "q8w3sbcz", CORS: "*"}, errors.New("store: disk on fire")
		}},
		{"Panic", func(context.Context, tagd.Request) (tagd.Result, error) {
			panic("store: disk on fire")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, ts, log := MustServe(t, &fakeChecker{fn: tt.fn})
			h, body := get(t, ts.URL+"/v1/t?x=q8w3sbcz&picc_data=PICCSECRET0123&cmac=MACSECRET4567&r=QueryTok3n",
				"X-API-Key", "HeaderTok3n", "Ixkio-R", "IxkioTok3n")
			if want := `{"xuid":"","error":"internal_error"}`; body != want {
				t.Fatalf("body %s, want %s", body, want)
			}
			if got := h.Get("Access-Control-Allow-Origin"); got != "" {
				t.Fatalf("Access-Control-Allow-Origin %q on an internal error", got)
			}
			out := log.String()
			for _, want := range []string{"disk on fire", "x=q8w3sbcz", "/v1/t"} {
				if !strings.Contains(out, want) {
					t.Errorf("log lacks %q:\n%s", want, out)
				}
			}
			for _, secret := range []string{"Tok3n", "PICCSECRET", "MACSECRET"} {
				if strings.Contains(out, secret) {
					t.Errorf("log contains %q:\n%s", secret, out)
				}
			}
		})
	}
}

func TestLookup_NoChecker(t *testing.T) {
	log := &syncbuf.Buffer{}
	s := &httpapi.Server{Logger: slog.New(slog.NewTextHandler(log, nil))}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	if _, body := get(t, ts.URL+"/v1/t?x=q8w3sbcz"); body != `{"xuid":"","error":"internal_error"}` {
		t.Fatalf("body %s", body)
	}
	if !strings.Contains(log.String(), "no Checker") {
		t.Fatalf("log does not say why:\n%s", log)
	}
}

func TestLookup_Methods(t *testing.T) {
	c := &fakeChecker{}
	_, ts, _ := MustServe(t, c)
	for _, path := range []string{"/v1/t", "/k"} {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead} {
			t.Run(m+path, func(t *testing.T) {
				status, h, _ := do(t, m, ts.URL+path+"?x=q8w3sbcz")
				if status != http.StatusMethodNotAllowed {
					t.Fatalf("status %d, want 405", status)
				}
				if got := h.Get("Allow"); got != "GET, OPTIONS" {
					t.Fatalf("Allow %q", got)
				}
			})
		}
		t.Run("OPTIONS"+path, func(t *testing.T) {
			status, h, body := do(t, http.MethodOptions, ts.URL+path+"?x=q8w3sbcz",
				"Origin", "https://shop.example.com", "Access-Control-Request-Method", "GET",
				"Access-Control-Request-Headers", "x-api-key")
			if status != http.StatusNoContent || body != "" {
				t.Fatalf("status %d body %q, want 204 and none", status, body)
			}
			for k, want := range map[string]string{
				"Access-Control-Allow-Methods": "GET, OPTIONS",
				"Access-Control-Allow-Headers": "X-API-Key, Ixkio-R",
				"Access-Control-Allow-Origin":  "",
			} {
				if got := h.Get(k); got != want {
					t.Errorf("%s %q, want %q", k, got, want)
				}
			}
		})
	}
	if n := len(c.requests()); n != 0 {
		t.Fatalf("checker ran %d times", n)
	}
}

func TestLookup_LongQuery(t *testing.T) {
	c := &fakeChecker{}
	_, ts, _ := MustServe(t, c)
	q := "x=q8w3sbcz&e=" + strings.Repeat("A", 4095-len("x=q8w3sbcz&e="))
	if _, body := get(t, ts.URL+"/v1/t?"+q); body != `{"xuid":"","error":"xuid_not_found"}` {
		t.Fatalf("4095-byte query: body %s", body)
	}
	status, h, body := do(t, http.MethodGet, ts.URL+"/v1/t?"+q+"A")
	if status != http.StatusRequestURITooLong || h.Get("Content-Type") != "application/json" ||
		body != `{"Code":"invalid","Message":"query is 4096 bytes; at most 4095 are accepted"}` {
		t.Fatalf("4096-byte query: status %d, body %s", status, body)
	}
	if n := len(c.requests()); n != 1 {
		t.Fatalf("checker ran %d times, want 1", n)
	}
}

func TestHealth(t *testing.T) {
	var readyErr error
	var mu sync.Mutex
	s := &httpapi.Server{Checker: &fakeChecker{}, Ready: func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		return readyErr
	}}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	check := func(path string, wantStatus int, wantBody string) {
		t.Helper()
		status, h, body := do(t, http.MethodGet, ts.URL+path)
		if status != wantStatus || body != wantBody || h.Get("Content-Type") != "application/json" {
			t.Fatalf("GET %s: %d %s (%s), want %d %s", path, status, body, h.Get("Content-Type"), wantStatus, wantBody)
		}
	}
	check("/healthz", 200, `{"status":"ok"}`)
	check("/readyz", 200, `{"status":"ok"}`)
	mu.Lock()
	readyErr = errors.New(`store: "tagd.db" not open`)
	mu.Unlock()
	check("/healthz", 200, `{"status":"ok"}`)
	check("/readyz", 503, `{"status":"not ready","reason":"store: \"tagd.db\" not open"}`)

	if status, _, _ := do(t, http.MethodPost, ts.URL+"/healthz"); status != http.StatusMethodNotAllowed {
		t.Fatalf("POST /healthz: %d, want 405", status)
	}

	// Without Ready the server is ready.
	ts2 := httptest.NewServer((&httpapi.Server{}).Handler())
	defer ts2.Close()
	if status, _, body := do(t, http.MethodGet, ts2.URL+"/readyz"); status != 200 || body != `{"status":"ok"}` {
		t.Fatalf("GET /readyz without Ready: %d %s", status, body)
	}
}

// notifyListener closes closed when the server closes it, which Shutdown
// does before it starts waiting for in-flight requests.
type notifyListener struct {
	net.Listener
	once   sync.Once
	closed chan struct{}
}

func (l *notifyListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// blockingServer serves a Server whose checker blocks until release is
// closed; entered receives a value when a check has started.
func blockingServer(t *testing.T) (s *httpapi.Server, l *notifyListener, entered chan struct{}, release chan struct{}, served chan error) {
	t.Helper()
	entered, release = make(chan struct{}, 1), make(chan struct{})
	s = &httpapi.Server{Checker: &fakeChecker{fn: func(ctx context.Context, req tagd.Request) (tagd.Result, error) {
		entered <- struct{}{}
		<-release
		return tagd.Result{XUID: "q8w3sbcz", Response: "Found"}, nil
	}}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l = &notifyListener{Listener: ln, closed: make(chan struct{})}
	served = make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	return s, l, entered, release, served
}

type reply struct {
	status int
	body   string
	err    error
}

// getAsync sends a GET on its own connection and delivers the reply.
func getAsync(url string) chan reply {
	ch := make(chan reply, 1)
	go func() {
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Get(url)
		if err != nil {
			ch <- reply{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		ch <- reply{status: resp.StatusCode, body: string(b), err: err}
	}()
	return ch
}

func TestServer_Shutdown(t *testing.T) {
	t.Run("WaitsForInFlight", func(t *testing.T) {
		s, l, entered, release, served := blockingServer(t)
		got := getAsync("http://" + l.Addr().String() + "/v1/t?x=q8w3sbcz")
		<-entered

		shut := make(chan error, 1)
		go func() { shut <- s.Shutdown(context.Background()) }()
		<-l.closed // Shutdown has stopped accepting and now waits
		if err := <-served; err != nil {
			t.Fatalf("Serve: %v, want nil after Shutdown", err)
		}
		select {
		case err := <-shut:
			t.Fatalf("Shutdown returned (%v) while a request was in flight", err)
		default:
		}

		close(release)
		r := <-got
		if r.err != nil || r.status != 200 || r.body != `{"xuid":"q8w3sbcz","response":"Found"}` {
			t.Fatalf("in-flight request: %+v", r)
		}
		if err := <-shut; err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		// A stopped server serves nothing more.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Serve(ln); err != nil {
			t.Fatalf("Serve after Shutdown: %v", err)
		}
	})
	t.Run("ContextEnds", func(t *testing.T) {
		s, l, entered, release, served := blockingServer(t)
		got := getAsync("http://" + l.Addr().String() + "/v1/t?x=q8w3sbcz")
		<-entered

		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Shutdown(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Shutdown: %v, want context.Canceled", err)
		}
		if err := <-served; err != nil {
			t.Fatalf("Serve: %v", err)
		}
		if r := <-got; r.err == nil {
			t.Fatalf("request survived a forced shutdown: %+v", r)
		}
		close(release)
	})
}

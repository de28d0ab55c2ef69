package ui_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/ui"
)

// start serves s on a test server; both are closed at the end of the test.
func start(t *testing.T, s *ui.Server) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		s.Close()
		ts.Close()
	})
	return ts
}

// wsURL is the websocket URL of a test server.
func wsURL(ts *httptest.Server) string {
	return "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"
}

// dial opens a websocket to ts; it is closed at the end of the test.
func dial(t *testing.T, ts *httptest.Server, h http.Header) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(wsURL(ts), h)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// read reads one message, failing the test after 10 s.
func read(t *testing.T, c *websocket.Conn) ui.Message {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m ui.Message
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("message %s: %v", b, err)
	}
	return m
}

// tapEvent is a tap of an authentication tag with some extended data.
func tapEvent(xuid, name, auth string, reason tagd.Code, at time.Time) tagd.Event {
	return tagd.Event{Kind: tagd.EventTap, Time: at, Result: &tagd.Result{
		XUID: xuid, Auth: auth, Reason: reason, Response: "Thank you",
		Tag: &tagd.TagView{
			Tag: tagd.Tag{XUID: xuid, Name: name, ScanCount: 3, Status: tagd.TagActive,
				Extended: map[string]string{"Vintage": "2015", "Region": "Pomerol"}},
			Group: tagd.TagGroup{Type: tagd.GroupAuthentication, Name: "Wine"},
		},
		Scan: tagd.Scan{Source: "reader:pcsc0", ScanCount: 3, Time: at},
	}}
}

// readerEvent is a change of a reader's status.
func readerEvent(name string, st tagd.ReaderState, at time.Time) tagd.Event {
	return tagd.Event{Kind: tagd.EventReader, Time: at, Reader: &tagd.ReaderStatus{Reader: name, State: st, Since: at}}
}

// uiGoroutines counts the goroutines running code of this package.
func uiGoroutines() int {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "tagd/ui.(*Server)") {
			n++
		}
	}
	return n
}

// waitNoUIGoroutines yields until the goroutines that have signalled
// their end have also returned (goleak-style), and fails after 5 s.
func waitNoUIGoroutines(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for uiGoroutines() > 0 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines of ui still running:\n%s", buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}
}

func TestServer_Page(t *testing.T) {
	for _, tc := range []struct{ lang, wantLang, idle string }{
		{"", "en", "Tap a product"},
		{"fr", "fr", "Présentez un produit"},
		{"fr-CH", "fr", "Présentez un produit"},
		{"de", "de", "Produkt auflegen"},
		{"xx", "en", "Tap a product"},
	} {
		t.Run("Lang="+tc.lang, func(t *testing.T) {
			s := &ui.Server{Lang: tc.lang, IdleAfter: 4 * time.Second}
			ts := start(t, s)
			res, err := http.Get(ts.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			page := string(b)
			if res.StatusCode != 200 || !strings.Contains(page, tc.idle) {
				t.Fatalf("GET / = %d, want the idle text %q:\n%s", res.StatusCode, tc.idle, page)
			}
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("CSP = %q", csp)
			}
			if !strings.Contains(page, `lang="`+tc.wantLang+`"`) || !strings.Contains(page, `data-idle-ms="4000"`) {
				t.Errorf("page attributes: %s", page[:200])
			}
			for _, bad := range []string{"http://", "https://", "//fonts", "@import"} {
				if strings.Contains(page, bad) {
					t.Errorf("page refers to an external resource (%q)", bad)
				}
			}
			m := regexp.MustCompile(`<script type="application/json" id="strings">(.*?)</script>`).FindStringSubmatch(page)
			var strs map[string]string
			if m == nil || json.Unmarshal([]byte(m[1]), &strs) != nil || strs["idle"] != tc.idle {
				t.Fatalf("strings in the page: %v", m)
			}
			ver := regexp.MustCompile(`data-version="([^"]+)"`).FindStringSubmatch(page)
			if ver == nil {
				t.Fatal("no data-version")
			}
			c := dial(t, ts, nil)
			if h := read(t, c); h.Type != ui.TypeHello || h.Version != ver[1] || h.Lang != tc.wantLang || h.IdleAfterMS != 4000 {
				t.Errorf("hello = %+v, want version %s", h, ver[1])
			}
		})
	}
}

func TestServer_Assets(t *testing.T) {
	ts := start(t, &ui.Server{})
	for path, want := range map[string]int{
		"/assets/kiosk.js":      200,
		"/assets/kiosk.css":     200,
		"/assets/strings.json":  200,
		"/assets/":              404,
		"/assets/index.html":    404,
		"/assets/../server.go":  404,
		"/assets/missing.js":    404,
		"/nothing":              404,
		"/assets/kiosk.js?v=x1": 200,
	} {
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, res.StatusCode, want)
		}
		if want == 200 && res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", path)
		}
		if strings.HasSuffix(path, ".js") || strings.HasSuffix(path, ".css") {
			// The SVG namespace is a name, not something fetched.
			b = []byte(strings.ReplaceAll(string(b), "http://www.w3.org/2000/svg", ""))
			if regexp.MustCompile(`https?://`).Match(b) {
				t.Errorf("%s refers to an external URL", path)
			}
		}
	}
}

func TestServer_Hello(t *testing.T) {
	var mu sync.Mutex
	clock := time.Date(2026, 5, 14, 14, 32, 5, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }

	ev := &tagd.Events{}
	// Published before the server subscribes: Events hands it over.
	ev.Publish(readerEvent("pcsc1", tagd.ReaderReady, clock))
	ev.Publish(readerEvent("pcsc0", tagd.ReaderAbsent, clock))
	s := &ui.Server{Events: ev, Now: now, IdleAfter: 6 * time.Second}
	ts := start(t, s)

	c1 := dial(t, ts, nil)
	h := read(t, c1)
	if h.Type != ui.TypeHello || h.Tap != nil || h.Sync == nil || h.Sync.State != ui.SyncNotConfigured {
		t.Fatalf("first hello = %+v", h)
	}
	if len(h.Readers) != 2 || h.Readers[0].Name != "pcsc0" || h.Readers[0].State != tagd.ReaderAbsent || h.Readers[1].State != tagd.ReaderReady {
		t.Fatalf("hello readers = %+v", h.Readers)
	}

	ev.Publish(tapEvent("X1", "Bottle 1", "pass", "", now()))
	m := read(t, c1)
	if m.Type != ui.TypeTap || m.Tap.XUID != "X1" || m.Tap.Verdict != ui.VerdictGenuine || m.Tap.ShowMS != 6000 || m.Tap.ID == "" {
		t.Fatalf("tap = %+v", m.Tap)
	}

	// A page that connects 2 s later still shows the tap, for 4 s.
	advance(2 * time.Second)
	h = read(t, dial(t, ts, nil))
	if h.Tap == nil || h.Tap.ID != m.Tap.ID || h.Tap.ShowMS != 4000 {
		t.Fatalf("hello 2 s after the tap: %+v", h.Tap)
	}
	// 7 s after the tap it is too old.
	advance(5 * time.Second)
	if h = read(t, dial(t, ts, nil)); h.Tap != nil {
		t.Fatalf("hello 7 s after the tap shows it: %+v", h.Tap)
	}

	ev.Publish(readerEvent("pcsc0", tagd.ReaderReady, now()))
	if m = read(t, c1); m.Type != ui.TypeReader || m.Reader.Name != "pcsc0" || m.Reader.State != tagd.ReaderReady {
		t.Fatalf("reader message = %+v", m)
	}
	s.SetSync(ui.Sync{State: ui.SyncPending, Pending: 3})
	if m = read(t, c1); m.Type != ui.TypeSync || m.Sync.State != ui.SyncPending || m.Sync.Pending != 3 {
		t.Fatalf("sync message = %+v", m)
	}
	if h = read(t, dial(t, ts, nil)); h.Sync.State != ui.SyncPending || h.Readers[0].State != tagd.ReaderReady {
		t.Fatalf("hello after changes = %+v", h)
	}
}

func TestServer_Origin(t *testing.T) {
	s := &ui.Server{Events: &tagd.Events{}, AllowedOrigins: []string{"http://kiosk.lan:8080"}}
	ts := start(t, s)
	host := strings.TrimPrefix(ts.URL, "http://")
	_, port, _ := net.SplitHostPort(host)
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"", true}, // not a browser
		{ts.URL, true},
		{"http://kiosk.lan:8080", true},
		{"HTTP://KIOSK.LAN:8080", true},
		{"http://evil.example", false},
		{"http://evil.example:" + port, false},
		{"http://localhost:" + port, false}, // not the host the page was loaded from
		{"null", false},
	} {
		h := http.Header{}
		if tc.origin != "" {
			h.Set("Origin", tc.origin)
		}
		c, res, err := websocket.DefaultDialer.Dial(wsURL(ts), h)
		if tc.ok {
			if err != nil {
				t.Errorf("origin %q refused: %v", tc.origin, err)
				continue
			}
			read(t, c)
			c.Close()
			continue
		}
		if err == nil {
			c.Close()
			t.Errorf("origin %q accepted", tc.origin)
			continue
		}
		if res == nil || res.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: %v, want 403", tc.origin, err)
		}
	}
}

func TestServer_PingPong(t *testing.T) {
	ev := &tagd.Events{}
	const pongWait = 300 * time.Millisecond
	s := &ui.Server{Events: ev, PongWait: pongWait, PingPeriod: 100 * time.Millisecond}
	ts := start(t, s)

	// A page that answers pings stays connected over many pong waits.
	good := dial(t, ts, nil)
	read(t, good)
	pings := make(chan struct{}, 100)
	good.SetPingHandler(func(d string) error {
		select {
		case pings <- struct{}{}:
		default:
		}
		return good.WriteControl(websocket.PongMessage, []byte(d), time.Now().Add(time.Second))
	})
	msgs := make(chan ui.Message, 10)
	go func() {
		for {
			_, b, err := good.ReadMessage()
			if err != nil {
				close(msgs)
				return
			}
			var m ui.Message
			json.Unmarshal(b, &m)
			msgs <- m
		}
	}()

	// A page that never answers is cut after PongWait.
	bad := dial(t, ts, nil)
	read(t, bad)
	bad.SetPingHandler(func(string) error { return nil })
	began := time.Now()
	badDone := make(chan error, 1)
	go func() {
		bad.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			if _, _, err := bad.ReadMessage(); err != nil {
				badDone <- err
				return
			}
		}
	}()

	select {
	case err := <-badDone:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the silent page was not disconnected: %v", err)
		}
		if d := time.Since(began); d < pongWait/2 {
			t.Errorf("the silent page was cut after %v, before the pong wait %v", d, pongWait)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the silent page is still connected")
	}

	for range 8 { // 800 ms of pings: more than twice the pong wait
		select {
		case <-pings:
		case <-time.After(10 * time.Second):
			t.Fatal("no pings")
		}
	}
	ev.Publish(tapEvent("X1", "Bottle", "pass", "", time.Now()))
	select {
	case m, ok := <-msgs:
		if !ok || m.Type != ui.TypeTap {
			t.Fatalf("the answering page was disconnected (%v) or got %+v", ok, m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no tap")
	}
	if n := s.Clients(); n != 1 {
		t.Errorf("Clients = %d, want 1", n)
	}
}

// smallBuffers makes a dialer whose sockets have a small receive buffer,
// so that a page that does not read fills its TCP window quickly.
func smallBuffers() *websocket.Dialer {
	d := *websocket.DefaultDialer
	nd := &net.Dialer{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return errors.Join(err, serr)
	}}
	d.NetDialContext = nd.DialContext
	return &d
}

// smallWriteBuffers gives the connections it accepts a small send buffer.
type smallWriteBuffers struct{ net.Listener }

// Accept accepts a connection and shrinks its send buffer.
func (l smallWriteBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}

// testWriter writes to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// percentile returns the p-th percentile of sorted durations.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d)-1) * p)
	return d[i]
}

func TestServer_SlowPageDropped(t *testing.T) {
	ev := &tagd.Events{}
	s := &ui.Server{Events: ev, SendBuffer: 8, Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	// Small socket buffers on the server side too (they stop the kernel
	// from growing them to megabytes), so that the stuck page fills its
	// TCP window, then its send buffer, after a few dozen taps.
	ts := httptest.NewUnstartedServer(s.Handler())
	ts.Listener = smallWriteBuffers{ts.Listener}
	ts.Start()
	t.Cleanup(func() {
		s.Close()
		ts.Close()
	})

	const pages = 50
	type delivery struct {
		page int
		xuid string
		at   time.Time
	}
	got := make(chan delivery, pages*4)
	for i := range pages {
		c := dial(t, ts, nil)
		read(t, c) // hello: the page is registered
		c.SetReadDeadline(time.Time{})
		go func() {
			for {
				_, b, err := c.ReadMessage()
				if err != nil {
					return
				}
				at := time.Now()
				var m ui.Message
				if json.Unmarshal(b, &m) == nil && m.Type == ui.TypeTap {
					got <- delivery{i, m.Tap.XUID, at}
				}
			}
		}()
	}
	// The stuck page reads its hello, then never reads again.
	stuck, _, err := smallBuffers().Dial(wsURL(ts), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	read(t, stuck)
	if n := s.Clients(); n != pages+1 {
		t.Fatalf("Clients = %d, want %d", n, pages+1)
	}

	extended := map[string]string{"Notes": strings.Repeat("n", 290)}
	for i := range 7 {
		extended[fmt.Sprintf("Field %d", i)] = strings.Repeat("v", 290)
	}
	const minTaps, maxTaps = 100, 20000
	var lat []time.Duration
	var maxPublish time.Duration
	taps, droppedAt := 0, 0
	for ; taps < maxTaps; taps++ {
		if droppedAt > 0 && taps >= minTaps {
			break
		}
		xuid := fmt.Sprintf("X%05d", taps)
		e := tapEvent(xuid, "Bottle "+xuid, "pass", "", time.Now())
		e.Result.Tag.Tag.Extended = extended
		t0 := time.Now()
		ev.Publish(e)
		if d := time.Since(t0); d > maxPublish {
			maxPublish = d
		}
		deadline := time.NewTimer(10 * time.Second)
		for seen := 0; seen < pages; seen++ {
			select {
			case d := <-got:
				if d.xuid != xuid {
					t.Fatalf("page %d got %s while waiting for %s", d.page, d.xuid, xuid)
				}
				lat = append(lat, d.at.Sub(t0))
			case <-deadline.C:
				t.Fatalf("tap %s reached only %d of %d pages in 10 s (Clients %d, Dropped %d)", xuid, seen, pages, s.Clients(), s.Dropped())
			}
		}
		deadline.Stop()
		if droppedAt == 0 && s.Dropped() > 0 {
			droppedAt = taps + 1
		}
	}
	if droppedAt == 0 {
		t.Fatalf("the stuck page was not dropped after %d taps", taps)
	}
	if s.Dropped() != 1 || s.Clients() != pages {
		t.Fatalf("Dropped = %d, Clients = %d; want 1 and %d", s.Dropped(), s.Clients(), pages)
	}
	slices.Sort(lat)
	t.Logf("%d taps to %d pages (%d deliveries): p50 %v, p99 %v, max %v; slowest Publish %v; stuck page dropped after %d taps",
		taps, pages, len(lat), percentile(lat, .5), percentile(lat, .99), lat[len(lat)-1], maxPublish, droppedAt)
	if p99 := percentile(lat, .99); p99 > 2*time.Second {
		t.Errorf("p99 delivery %v", p99)
	}
	if maxPublish > time.Second {
		t.Errorf("Publish took %v", maxPublish)
	}

	// The stuck page finds its connection closed once it reads again.
	stuck.SetReadDeadline(time.Now().Add(10 * time.Second))
	n := 0
	for {
		if _, _, err = stuck.ReadMessage(); err != nil {
			break
		}
		n++
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the stuck page's connection is still open (%d messages read)", n)
	}
	if n >= taps {
		t.Errorf("the stuck page read %d of %d taps", n, taps)
	}
}

func TestServer_Close(t *testing.T) {
	if n := uiGoroutines(); n != 0 {
		t.Fatalf("%d goroutines of ui before the test", n)
	}
	ev := &tagd.Events{}
	s := &ui.Server{Events: ev}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	var conns []*websocket.Conn
	for range 5 {
		c := dial(t, ts, nil)
		read(t, c)
		conns = append(conns, c)
	}
	stuck := dial(t, ts, nil)
	read(t, stuck) // then never reads again
	if n := uiGoroutines(); n != 1+2*6 {
		t.Errorf("%d goroutines of ui, want the hub and 2 per connection (13)", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	waitNoUIGoroutines(t)
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _, err := c.ReadMessage()
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Errorf("after Close: %v, want close 1001", err)
		}
	}
	_, res, err := websocket.DefaultDialer.Dial(wsURL(ts), nil)
	if err == nil || res == nil || res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dial after Close: %v, want 503", err)
	}
	ev.Publish(tapEvent("X1", "Bottle", "pass", "", time.Now())) // nobody listens
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

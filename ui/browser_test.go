package ui_test

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/ui"
)

// chromiumPath is Debian's chromium; the browser tests skip without it.
const chromiumPath = "/usr/bin/chromium"

// browser starts a headless Chromium for the test and returns its context.
// It skips the test, saying why, when Chromium is not installed.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("SKIP: the headless browser test needs Chromium at %s (apt-get install -y chromium): %v", chromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Without these, the closed network here makes Chromium misbehave.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Timers of a tab must not be throttled: the page's idle delay
		// and reconnection backoff are timers.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(800, 480),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return bctx
}

// tab opens a new tab of the browser, closed at the end of the test; every
// action on it fails after 2 minutes.
func tab(t *testing.T, bctx context.Context, w, h int64) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(bctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h)); err != nil {
		t.Fatal(err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	return ctx
}

// kiosk is a ui.Server on an httptest server with a given listener.
type kiosk struct {
	ui   *ui.Server
	http *httptest.Server
	stop func()
}

// serve starts s on ln (nil: a new loopback port); stop closes the
// listener and the server, also at the end of the test.
func serve(t *testing.T, ln net.Listener, s *ui.Server) *kiosk {
	t.Helper()
	ts := httptest.NewUnstartedServer(s.Handler())
	if ln != nil {
		ts.Listener.Close()
		ts.Listener = ln
	}
	ts.Start()
	k := &kiosk{ui: s, http: ts}
	k.stop = sync.OnceFunc(func() {
		ts.Close() // the listener, then the HTTP connections
		s.Close()  // the websockets
	})
	t.Cleanup(k.stop)
	return k
}

// do runs actions and fails the test on an error.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// textOf returns the text content of the element selected by css.
func textOf(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("text of %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

// observeTaps installs a MutationObserver that records when each verdict
// lands in the DOM (the page sets #tap's data-id last), as milliseconds
// since the epoch; __waitN(n) resolves with the time of the n-th.
const observeTaps = `(() => {
  const tap = document.getElementById('tap');
  window.__taps = [];
  let waiters = [];
  new MutationObserver((records) => {
    const at = performance.timeOrigin + performance.now();
    for (const r of records) __taps.push({at, xuid: tap.getAttribute('data-xuid')});
    waiters = waiters.filter((w) => {
      if (__taps.length < w.n) return true;
      w.resolve(__taps[w.n - 1].at);
      return false;
    });
  }).observe(tap, {attributes: true, attributeFilter: ['data-id']});
  window.__waitN = (n) => __taps.length >= n ? Promise.resolve(__taps[n - 1].at)
    : new Promise((resolve) => waiters.push({n, resolve}));
  return true;
})()`

// waitTap waits until the page has shown n taps since observeTaps and
// returns when the n-th reached the DOM.
func waitTap(t *testing.T, ctx context.Context, n int) time.Time {
	t.Helper()
	ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](fmt.Sprintf("__waitN(%d)", n), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("waiting for tap %d: %v", n, err)
	}
	return time.UnixMicro(int64(ms * 1000))
}

// Taps of the browser tests.
var (
	shotTime = time.Date(2026, 5, 14, 14, 32, 5, 0, time.UTC)
	// bottle is a product image as a data: URL.
	bottle = "data:image/svg+xml;utf8," + strings.NewReplacer("<", "%3C", ">", "%3E", "#", "%23", `"`, "'").Replace(
		`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 60 160"><rect width="60" height="160" fill="#f4efe6"/>`+
			`<path d="M24 8h12v34c0 6 12 10 12 24v84H12V66c0-14 12-18 12-24z" fill="#3b1d2a"/>`+
			`<rect x="16" y="84" width="28" height="36" rx="2" fill="#efe4c8"/><rect x="22" y="4" width="16" height="10" fill="#8a6d3b"/></svg>`)
)

// product is the tag view of a bottle of wine.
func product(xuid string, withImage bool) *tagd.TagView {
	ext := map[string]string{"Vintage": "2015", "Region": "Pomerol, Bordeaux", "Bottled": "2017-06-12"}
	if withImage {
		ext["image"] = bottle
	}
	return &tagd.TagView{
		Tag: tagd.Tag{XUID: xuid, Name: "Château Lafleur 2015, bottle 0042", ScanCount: 3, Status: tagd.TagActive, Extended: ext},
		Group: tagd.TagGroup{Name: "Château Lafleur", Type: tagd.GroupAuthentication,
			Extended: map[string]string{}},
		Folder: tagd.Folder{Fields: []tagd.ExtField{{Name: "Vintage"}, {Name: "Region"}, {Name: "Bottled"}}},
	}
}

// verdictEvent is a tap with the given verdict.
func verdictEvent(v ui.Verdict, xuid string, at time.Time) tagd.Event {
	r := &tagd.Result{XUID: xuid, Scan: tagd.Scan{Source: "reader:pcsc0", Time: at, ScanCount: 3}}
	switch v {
	case ui.VerdictGenuine:
		r.Auth, r.Response, r.Tamper, r.Tag = "pass", "Authentic Château Lafleur", "secure", product(xuid, true)
	case ui.VerdictNotGenuine:
		r.Auth, r.Reason, r.Tag = "fail", tagd.CodeMACMismatch, product(xuid, false)
	case ui.VerdictReplay:
		r.Auth, r.Reason, r.Tag = "fail", tagd.CodeReplay, product(xuid, false)
	case ui.VerdictUnknown:
		r.Error, r.XUID, r.Scan.ScanCount = tagd.ErrUnknownTag, "", 0
	case ui.VerdictInactive:
		r.Error, r.Tag = tagd.ErrTagInactive, product(xuid, false)
	case ui.VerdictFound:
		r.Response, r.Tag = "Welcome to Château Lafleur", product(xuid, true)
		r.Tag.Group.Type = tagd.GroupStandard
	}
	return tagd.Event{Kind: tagd.EventTap, Time: at, Result: r}
}

// durations sorts d and returns its p50, p99 and max.
func durations(d []time.Duration) (p50, p99, maxd time.Duration) {
	slices.Sort(d)
	return percentile(d, .5), percentile(d, .99), d[len(d)-1]
}

func TestBrowser(t *testing.T) {
	bctx := browser(t)
	t.Run("Flow", func(t *testing.T) { testBrowserFlow(t, bctx) })
	t.Run("IdleAndHello", func(t *testing.T) { testBrowserIdle(t, bctx) })
	t.Run("Screenshots", func(t *testing.T) { testBrowserScreenshots(t, bctx) })
}

// testBrowserFlow: idle page, verdicts, reader status, latency, server
// restart on the same address, reload on a new asset version.
func testBrowserFlow(t *testing.T, bctx context.Context) {
	ev := &tagd.Events{}
	ev.Publish(readerEvent("pcsc0", tagd.ReaderReady, time.Now()))
	k := serve(t, nil, &ui.Server{Events: ev, IdleAfter: time.Hour})
	addr := k.http.Listener.Addr().String()
	url := "http://" + addr + "/"
	ctx := tab(t, bctx, 800, 480)

	do(t, ctx, "load the page",
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.ID("idle")),
		chromedp.WaitVisible(chromedp.CSS(`#readers .chip[data-state="ready"]`)), // hello arrived
	)
	if got := textOf(t, ctx, "#idle-text"); got != "Tap a product" {
		t.Fatalf("idle text = %q", got)
	}
	if got := textOf(t, ctx, "#sync"); got != "Sync: not configured" {
		t.Errorf("sync status = %q", got)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](observeTaps)); err != nil {
		t.Fatal(err)
	}
	shown := 0
	expect := func(what string, e tagd.Event, verdict, word, name string) {
		t.Helper()
		ev.Publish(e)
		shown++
		waitTap(t, ctx, shown)
		if got := textOf(t, ctx, "#verdict-word"); got != word {
			t.Errorf("%s: verdict %q, want %q", what, got, word)
		}
		if got := textOf(t, ctx, "#tag-name"); got != name {
			t.Errorf("%s: name %q, want %q", what, got, name)
		}
		if got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.verdict`)); got != verdict {
			t.Errorf("%s: body verdict %q, want %q", what, got, verdict)
		}
	}
	expect("genuine", verdictEvent(ui.VerdictGenuine, "G1", time.Now()), "genuine", "Genuine", "Château Lafleur 2015, bottle 0042")
	// At 800x480 the fields that do not fit are left out.
	if got := textOf(t, ctx, "#fields"); !strings.HasPrefix(got, "Vintage2015RegionPomerol, Bordeaux") {
		t.Errorf("fields = %q", got)
	}
	if got := textOf(t, ctx, "#meta"); !strings.Contains(got, "Scans: 3") || !strings.Contains(got, "Tag G1") {
		t.Errorf("meta = %q", got)
	}
	if src, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('tag-image').hidden ? '' : document.getElementById('tag-image').src`)); !strings.HasPrefix(src, "data:image/svg+xml") {
		t.Errorf("image = %.40q", src)
	}
	expect("replay", verdictEvent(ui.VerdictReplay, "R1", time.Now()), "replay", "Already used", "Château Lafleur 2015, bottle 0042")
	expect("not genuine", verdictEvent(ui.VerdictNotGenuine, "N1", time.Now()), "not_genuine", "Not genuine", "Château Lafleur 2015, bottle 0042")
	expect("unknown", verdictEvent(ui.VerdictUnknown, "", time.Now()), "unknown", "Unknown tag", "")
	expect("inactive", verdictEvent(ui.VerdictInactive, "I1", time.Now()), "inactive", "Inactive", "Château Lafleur 2015, bottle 0042")
	expect("found", verdictEvent(ui.VerdictFound, "F1", time.Now()), "found", "Product found", "Château Lafleur 2015, bottle 0042")

	// A reader status change.
	ev.Publish(readerEvent("pcsc0", tagd.ReaderAbsent, time.Now()))
	do(t, ctx, "reader absent", chromedp.WaitVisible(chromedp.CSS(`#readers .chip[data-state="absent"]`)))
	if got := textOf(t, ctx, "#readers"); got != "Reader not connected" {
		t.Errorf("reader status = %q", got)
	}

	// Latency: from Publish to the verdict in the page's DOM (the page's
	// clock, performance.timeOrigin+now, against the server's), and the
	// round trip as the test sees it.
	const taps = 150
	var lat, rtt []time.Duration
	for i := range taps {
		verdict := []ui.Verdict{ui.VerdictGenuine, ui.VerdictReplay, ui.VerdictNotGenuine}[i%3]
		e := verdictEvent(verdict, fmt.Sprintf("L%03d", i), time.Now())
		t0 := time.Now()
		ev.Publish(e)
		shown++
		at := waitTap(t, ctx, shown)
		rtt = append(rtt, time.Since(t0))
		lat = append(lat, at.Sub(t0))
	}
	p50, p99, mx := durations(lat)
	r50, r99, rmx := durations(rtt)
	t.Logf("Publish to verdict in the DOM over %d taps: p50 %v, p99 %v, max %v (target < 50ms); round trip with chromedp: p50 %v, p99 %v, max %v",
		taps, p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond), mx.Round(10*time.Microsecond),
		r50.Round(10*time.Microsecond), r99.Round(10*time.Microsecond), rmx.Round(10*time.Microsecond))
	// The target is 50 ms; the test fails only far from it, since the
	// machine is shared.
	if p50 > 100*time.Millisecond {
		t.Errorf("p50 latency %v, want < 50ms", p50)
	}
	if p99 > time.Second {
		t.Errorf("p99 latency %v", p99)
	}
	if got := textOf(t, ctx, "#meta"); !strings.HasSuffix(got, fmt.Sprintf("Tag L%03d", taps-1)) {
		t.Errorf("last tap shown: %q", got)
	}

	// The server restarts on the same address: the page says it is
	// reconnecting, then comes back by itself and shows the next tap.
	k.stop()
	do(t, ctx, "reconnecting banner", chromedp.WaitVisible(chromedp.ID("banner")))
	if got := textOf(t, ctx, "#banner-text"); got != "Reconnecting…" {
		t.Errorf("banner = %q", got)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	k = serve(t, ln, &ui.Server{Events: ev, IdleAfter: time.Hour})
	do(t, ctx, "reconnected", chromedp.WaitNotVisible(chromedp.ID("banner")))
	// The new server's hello has the latest reader status.
	do(t, ctx, "reader status after restart", chromedp.WaitVisible(chromedp.CSS(`#readers .chip[data-state="absent"]`)))
	expect("after restart", verdictEvent(ui.VerdictGenuine, "AFTER", time.Now()), "genuine", "Genuine", "Château Lafleur 2015, bottle 0042")

	// A new asset version: the page reloads itself and keeps working.
	k.stop()
	do(t, ctx, "reconnecting banner", chromedp.WaitVisible(chromedp.ID("banner")))
	if ln, err = net.Listen("tcp", addr); err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	serve(t, ln, &ui.Server{Events: ev, IdleAfter: time.Hour, Version: "next-version"})
	do(t, ctx, "reloaded with the new version",
		chromedp.WaitReady(chromedp.CSS(`html[data-version="next-version"] #idle`)),
		chromedp.WaitVisible(chromedp.CSS(`#readers .chip[data-state="absent"]`)),
		chromedp.WaitNotVisible(chromedp.ID("banner")),
	)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](observeTaps)); err != nil {
		t.Fatal(err)
	}
	shown = 0
	expect("after reload", verdictEvent(ui.VerdictReplay, "RELOADED", time.Now()), "replay", "Already used", "Château Lafleur 2015, bottle 0042")
}

// testBrowserIdle: the verdict goes back to idle after IdleAfter; a page
// that connects while a tap is recent shows it.
func testBrowserIdle(t *testing.T, bctx context.Context) {
	ev := &tagd.Events{}
	k := serve(t, nil, &ui.Server{Events: ev, IdleAfter: 700 * time.Millisecond})
	ctx := tab(t, bctx, 800, 480)
	do(t, ctx, "load", chromedp.Navigate(k.http.URL+"/"), chromedp.WaitVisible(chromedp.ID("idle")),
		chromedp.WaitVisible(chromedp.CSS(`#readers .chip[data-state="unknown"]`)))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](observeTaps)); err != nil {
		t.Fatal(err)
	}
	ev.Publish(verdictEvent(ui.VerdictGenuine, "IDLE1", time.Now()))
	shownAt := waitTap(t, ctx, 1)
	do(t, ctx, "back to idle", chromedp.WaitVisible(chromedp.ID("idle")), chromedp.WaitNotVisible(chromedp.ID("tap")))
	if idle := time.Since(shownAt); idle < 600*time.Millisecond {
		t.Errorf("back to idle after %v, want 700ms", idle)
	}

	// A page that connects while the last tap is recent shows it.
	k2 := serve(t, nil, &ui.Server{Events: ev, IdleAfter: time.Hour})
	ctx1 := tab(t, bctx, 800, 480)
	do(t, ctx1, "load", chromedp.Navigate(k2.http.URL+"/"), chromedp.WaitVisible(chromedp.ID("idle")),
		chromedp.WaitVisible(chromedp.CSS(`#readers .chip[data-state="unknown"]`)))
	ev.Publish(verdictEvent(ui.VerdictNotGenuine, "LATE1", time.Now()))
	do(t, ctx1, "first page shows the tap", chromedp.WaitVisible(chromedp.CSS(`#tap[data-xuid="LATE1"]`)))
	ctx2 := tab(t, bctx, 800, 480)
	do(t, ctx2, "second page shows the recent tap", chromedp.Navigate(k2.http.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#tap[data-xuid="LATE1"]`)))
	if got := textOf(t, ctx2, "#verdict-word"); got != "Not genuine" {
		t.Errorf("verdict = %q", got)
	}
}

// testBrowserScreenshots writes the kiosk's states at 800x480 and
// 1920x1080: to docs/img with TAGD_SCREENSHOTS=1, to a temporary
// directory otherwise.
func testBrowserScreenshots(t *testing.T, bctx context.Context) {
	dir := t.TempDir()
	if os.Getenv("TAGD_SCREENSHOTS") == "1" {
		dir = filepath.Join("..", "docs", "img")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	states := []struct {
		name    string
		verdict ui.Verdict
	}{
		{"genuine", ui.VerdictGenuine},
		{"not-genuine", ui.VerdictNotGenuine},
		{"already-used", ui.VerdictReplay},
		{"unknown", ui.VerdictUnknown},
		{"inactive", ui.VerdictInactive},
	}
	for _, size := range [][2]int64{{800, 480}, {1920, 1080}} {
		w, h := size[0], size[1]
		ev := &tagd.Events{}
		ev.Publish(readerEvent("pcsc0", tagd.ReaderReady, shotTime))
		k := serve(t, nil, &ui.Server{Events: ev, IdleAfter: time.Hour})
		ctx := tab(t, bctx, w, h)
		shoot := func(state string) {
			t.Helper()
			png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatalf("screenshot %s: %v", state, err)
			}
			name := filepath.Join(dir, fmt.Sprintf("kiosk-%s-%dx%d.png", state, w, h))
			if err := os.WriteFile(name, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s", name)
		}
		do(t, ctx, "load", chromedp.Navigate(k.http.URL+"/"), chromedp.WaitVisible(chromedp.ID("idle")),
			chromedp.WaitVisible(chromedp.CSS(`#readers .chip[data-state="ready"]`)))
		shoot("idle")
		for _, st := range states {
			ev.Publish(verdictEvent(st.verdict, "04A1B2C3", shotTime))
			do(t, ctx, st.name, chromedp.WaitVisible(chromedp.CSS(`body[data-verdict="`+string(st.verdict)+`"] #tap`)))
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => { const i = document.getElementById('tag-image'); return i.hidden || (i.complete && i.naturalWidth > 0); })()`)); err != nil {
				t.Fatalf("image of %s: %v", st.name, err)
			}
			shoot(st.name)
			if st.verdict == ui.VerdictGenuine && h >= 1080 {
				// Every field fits on a large screen.
				if got, want := textOf(t, ctx, "#fields"), "Vintage2015RegionPomerol, BordeauxBottled2017-06-12Sealintact"; got != want {
					t.Errorf("fields at %dx%d = %q, want %q", w, h, got, want)
				}
			}
		}
		k.stop()
		do(t, ctx, "reconnecting", chromedp.WaitVisible(chromedp.ID("banner")))
		shoot("reconnecting")
	}
}

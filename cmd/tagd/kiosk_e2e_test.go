package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/device/sim"
)

const chromium = "/usr/bin/chromium"

// browser starts a headless Chromium (Debian's) and returns a tab.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("Chromium is not installed (apt-get install chromium): the kiosk page cannot be tested here")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-background-timer-throttling", true), chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(800, 480),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// waitVerdict waits until the page shows a verdict and returns it.
func waitVerdict(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(`body[data-verdict="`+want+`"]`))); err != nil {
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.verdict`))
		t.Fatalf("verdict %q not shown (page shows %q): %v", want, got, err)
	}
}

// freePort returns a loopback address that was free a moment ago, so that
// a restarted appliance can listen where the page expects it.
func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestKioskEndToEnd drives the real kiosk page in headless Chromium against
// the real appliance: taps on the PN532 simulator over a socat pty reach
// the page as verdicts (genuine, already used, unknown tag), the reader
// going away shows on the page, and after tagd restarts the page
// reconnects by itself and shows the next tap.
func TestKioskEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end kiosk test")
	}
	ctx := browser(t)
	rig := newPN532Rig(t)
	pn, serve := rig.pn, rig.serve
	dir, addr := t.TempDir(), freePort(t)
	cfg := filepath.Join(t.TempDir(), "tagd.json")
	if err := os.WriteFile(cfg, []byte(`{"idle_after":"30s"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	start := func() *appliance {
		return startAppliance(t, dir, "--config", cfg, "--reader", rig.reader(), "--http", addr)
	}
	a := start()
	w := a.watch(t)
	w.waitReader(10*time.Second, tagd.ReaderReady)
	if err := chromedp.Do(ctx, chromedp.Navigate(a.base+"/"), chromedp.WaitVisible(chromedp.ID("idle"))); err != nil {
		t.Fatal(err)
	}
	idle, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("idle-text")))
	if err != nil || idle != "Tap a product" {
		t.Fatalf("idle text %q, %v", idle, err)
	}
	tap := func(card sim.APDUHandler, verdict string) {
		t.Helper()
		pn.Present(card)
		w.nextTap(20 * time.Second)
		waitVerdict(t, ctx, verdict)
		pn.Remove()
		w.waitReader(10*time.Second, tagd.ReaderReady)
	}
	uid9, uid10 := demoSimTags()[8].UID, demoSimTags()[9].UID
	g9, g10 := demoCard(t, uid9, 0), demoCard(t, uid10, 0)
	tap(g9, "genuine")
	name, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("tag-name")))
	if name != "Demo bottle 9" {
		t.Errorf("tag name on the page %q", name)
	}
	tap(g10, "genuine")
	tap(demoCard(t, uid9, 0), "replay") // the same tag again with an old counter
	unknown, err := sim.NewDemoCard("04FFFFFFFFFF01", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	tap(unknown, "unknown")
	// the reader goes away: the page shows it
	pn.Disappear()
	w.waitReader(20*time.Second, tagd.ReaderError, tagd.ReaderAbsent)
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	err = chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(`#readers .chip:not([data-state="ready"])`)))
	cancel()
	if err != nil {
		t.Fatalf("reader loss not shown: %v", err)
	}
	serve()
	w.waitReader(20*time.Second, tagd.ReaderReady)
	// tagd restarts: the page reconnects by itself and shows the next tap
	a.stop()
	wctx, cancel = context.WithTimeout(ctx, 15*time.Second)
	err = chromedp.Do(wctx, chromedp.WaitVisible(chromedp.ID("banner")))
	cancel()
	if err != nil {
		t.Fatalf("reconnecting banner not shown: %v", err)
	}
	a = start()
	w = a.watch(t)
	w.waitReader(10*time.Second, tagd.ReaderReady)
	wctx, cancel = context.WithTimeout(ctx, 20*time.Second)
	err = chromedp.Do(wctx, chromedp.WaitNotVisible(chromedp.ID("banner")))
	cancel()
	if err != nil {
		t.Fatalf("page did not reconnect: %v", err)
	}
	tap(g10, "genuine")
}

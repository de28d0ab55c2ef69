package device

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/internal/syncbuf"
	"github.com/tagd-nfc/tagd/internal/testclock"
)

// within fails the test when ch yields nothing in time (a deadline, not a
// synchronisation sleep).
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// result is one scripted NextCard outcome.
type result struct {
	card Card
	err  error
	tick time.Duration // the clock moves by tick before NextCard returns
}

// fakeDriver returns scripted results from NextCard, then signals idle and
// blocks until ctx ends. Release returns at once.
type fakeDriver struct {
	clock    *testclock.Clock
	mu       sync.Mutex
	results  []result
	released int
	idle     chan struct{}
}

func (d *fakeDriver) Name() string { return "fake" }
func (d *fakeDriver) Close() error { return nil }

func (d *fakeDriver) NextCard(ctx context.Context) (Card, error) {
	d.mu.Lock()
	if len(d.results) == 0 {
		d.mu.Unlock()
		select {
		case d.idle <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	r := d.results[0]
	d.results = d.results[1:]
	d.mu.Unlock()
	if d.clock != nil {
		d.clock.Add(r.tick)
	}
	return r.card, r.err
}

func (d *fakeDriver) Release(ctx context.Context, c Card) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.released++
	return nil
}

// harness runs a Loop and collects its taps, statuses and back-offs.
type harness struct {
	loop     *Loop
	taps     chan Tap
	statuses chan tagd.ReaderStatus
	mu       sync.Mutex
	attempts []int
	cancel   context.CancelFunc
	done     chan error
}

func start(t *testing.T, l *Loop) *harness {
	h := &harness{loop: l, taps: make(chan Tap, 100), statuses: make(chan tagd.ReaderStatus, 100), done: make(chan error, 1)}
	l.OnTap = func(_ context.Context, tap Tap) { h.taps <- tap }
	l.OnStatus = func(s tagd.ReaderStatus) { h.statuses <- s }
	l.Backoff = func(a int) time.Duration {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.attempts = append(h.attempts, a)
		return 0
	}
	if l.ReadyAfter == 0 && l.afterFunc == nil {
		l.ReadyAfter = time.Hour
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := within(t, h.done, "Run to return"); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return h
}

// states drains the statuses seen so far into a list of "state:detail".
func (h *harness) states() []string {
	var out []string
	for {
		select {
		case s := <-h.statuses:
			d := s.State
			out = append(out, string(d)+":"+s.Detail)
		default:
			return out
		}
	}
}

// noTap checks that no tap is pending.
func (h *harness) noTap(t *testing.T) {
	t.Helper()
	select {
	case tap := <-h.taps:
		t.Fatalf("unexpected tap %+v", tap)
	default:
	}
}

func TestLoopType2(t *testing.T) {
	clk := testclock.New(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
	rec := uriRecord(0x04, "shop.example/t?x=1")
	card := &t2Card{mem: ntag213(append([]byte{0x03, byte(len(rec))}, rec...)...)}
	d := &fakeDriver{clock: clk, idle: make(chan struct{}), results: []result{{card: card, tick: time.Second}}}
	h := start(t, &Loop{Driver: d, Now: clk.Now})
	tap := within(t, h.taps, "tap")
	want := Tap{Reader: "fake", URL: "https://shop.example/t?x=1", UID: "04AABBCC112233", Time: clk.Now()}
	if tap != want {
		t.Errorf("tap %+v, want %+v", tap, want)
	}
	within(t, d.idle, "idle")
	if got := h.states(); !reflect.DeepEqual(got, []string{"starting:", "tag:", "ready:"}) {
		t.Errorf("states %v", got)
	}
	if st := h.loop.Status(); st.State != tagd.ReaderReady || !st.LastTap.Equal(want.Time) || st.Reader != "fake" || !st.Since.Equal(want.Time) {
		t.Errorf("status %+v", st)
	}
	if d.released != 1 {
		t.Errorf("released %d", d.released)
	}
}

// TestLoopDebounce: a driver that reports a held card on every poll gets
// it read once; after the card was gone long enough, it is read again.
func TestLoopDebounce(t *testing.T) {
	clk := testclock.New(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
	rec := uriRecord(0x04, "shop.example/t?x=1")
	card := &t2Card{mem: ntag213(append([]byte{0x03, byte(len(rec))}, rec...)...)}
	var rs []result
	for i := 0; i < 6; i++ {
		rs = append(rs, result{card: card, tick: 200 * time.Millisecond})
	}
	rs = append(rs, result{card: card, tick: 2 * time.Second})
	d := &fakeDriver{clock: clk, idle: make(chan struct{}), results: rs}
	h := start(t, &Loop{Driver: d, Now: clk.Now})
	within(t, d.idle, "idle")
	within(t, h.taps, "first tap")
	second := within(t, h.taps, "second tap")
	h.noTap(t)
	if !second.Time.Equal(clk.Now()) {
		t.Errorf("second tap at %v", second.Time)
	}
	if d.released != 7 {
		t.Errorf("released %d, want 7", d.released)
	}
	if n := len(card.reads); n != 4 { // two taps: pages 3 and 7 each
		t.Errorf("pages read %v", card.reads)
	}
}

func TestLoopReconnect(t *testing.T) {
	rec := uriRecord(0x04, "shop.example/t?x=1")
	card := &t2Card{mem: ntag213(append([]byte{0x03, byte(len(rec))}, rec...)...)}
	boom := errors.New("pcscd gone")
	d := &fakeDriver{idle: make(chan struct{}), results: []result{
		{err: boom},
		{err: fmt.Errorf("no reader: %w", ErrReaderAbsent)},
		{err: boom},
		{card: card},
		{err: boom},
	}}
	h := start(t, &Loop{Driver: d})
	within(t, d.idle, "idle")
	within(t, h.taps, "tap")
	h.mu.Lock()
	attempts := append([]int(nil), h.attempts...)
	h.mu.Unlock()
	if !reflect.DeepEqual(attempts, []int{1, 2, 3, 1}) {
		t.Errorf("back-off attempts %v", attempts)
	}
	want := []string{"starting:", "error:pcscd gone", "absent:no reader: device: reader absent", "error:pcscd gone", "tag:", "ready:", "error:pcscd gone"}
	if got := h.states(); !reflect.DeepEqual(got, want) {
		t.Errorf("states\n%q\nwant\n%q", got, want)
	}
}

// TestLoopReadyAfter: a reader that blocks without failing becomes ready,
// and a later failure starts the back-off from attempt 1 again.
func TestLoopReadyAfter(t *testing.T) {
	timers := make(chan func(), 10)
	d := &gateDriver{calls: func(n int) error {
		switch n {
		case 1, 2:
			return errors.New("down")
		case 3:
			// NextCard has blocked for ReadyAfter: the timer fires.
			(<-timers)()
			return errors.New("down again")
		}
		return nil
	}}
	l := &Loop{Driver: d}
	l.afterFunc = func(d time.Duration, f func()) func() bool {
		if d != DefaultReadyAfter {
			t.Errorf("ReadyAfter %v", d)
		}
		select {
		case <-timers: // an older timer that never fired
		default:
		}
		timers <- f
		return func() bool { return true }
	}
	h := start(t, l)
	var got []string
	for s := within(t, h.statuses, "status"); ; s = within(t, h.statuses, "status") {
		got = append(got, string(s.State)+":"+s.Detail)
		if s.Detail == "down again" {
			break
		}
	}
	if want := []string{"starting:", "error:down", "ready:", "error:down again"}; !reflect.DeepEqual(got, want) {
		t.Errorf("states %q, want %q", got, want)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !reflect.DeepEqual(h.attempts, []int{1, 2, 1}) {
		t.Errorf("attempts %v", h.attempts)
	}
}

// gateDriver calls calls(n) on the n-th NextCard and fails with its
// error; nil blocks until ctx ends.
type gateDriver struct {
	mu    sync.Mutex
	n     int
	calls func(n int) error
}

func (d *gateDriver) Name() string                        { return "gate" }
func (d *gateDriver) Close() error                        { return nil }
func (d *gateDriver) Release(context.Context, Card) error { return nil }
func (d *gateDriver) NextCard(ctx context.Context) (Card, error) {
	d.mu.Lock()
	d.n++
	n := d.n
	d.mu.Unlock()
	if err := d.calls(n); err != nil {
		return nil, err
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestLoopReadErrors(t *testing.T) {
	msg := uriRecord(0x04, "shop.example/t?x=1")
	steps := type4Script(factoryCC, msg, 0xF0)
	steps[5].resp = nil // the card left during the body read
	left := &scriptCard{steps: steps}
	blank := &t2Card{mem: ntag213()}
	notNDEF := &scriptCard{steps: []step{{nil, resp(SWNotFound)}}}
	d := &fakeDriver{idle: make(chan struct{}), results: []result{{card: left}, {card: blank}, {card: notNDEF}}}
	h := start(t, &Loop{Driver: d, Debounce: -1})
	within(t, d.idle, "idle")
	if tap := within(t, h.taps, "blank tap"); tap.URL != "" || tap.UID != "04AABBCC112233" {
		t.Errorf("blank tag: %+v", tap)
	}
	if tap := within(t, h.taps, "non-NDEF tap"); tap.URL != "" || tap.UID != "04010203040506" {
		t.Errorf("non-NDEF card: %+v", tap)
	}
	h.noTap(t)
	if d.released != 3 {
		t.Errorf("released %d", d.released)
	}
	got := h.states()
	if len(got) < 3 || !strings.HasPrefix(got[2], "tag:tag not read: ") || !strings.Contains(got[2], "card left during the exchange") ||
		!strings.HasPrefix(got[3], "ready:tag not read") {
		t.Errorf("states %q", got)
	}
	if st := h.loop.Status(); st.State != tagd.ReaderReady || !strings.Contains(st.Detail, "no URL on the tag") {
		t.Errorf("status %+v", st)
	}
}

// lineSource returns scripted lines (or errors), then blocks.
type lineSource struct {
	lines []any
	idle  chan struct{}
}

func (s *lineSource) Name() string { return "serial0" }
func (s *lineSource) Close() error { return nil }
func (s *lineSource) NextLine(ctx context.Context) (string, error) {
	if len(s.lines) == 0 {
		select {
		case s.idle <- struct{}{}:
		case <-ctx.Done():
		}
		<-ctx.Done()
		return "", ctx.Err()
	}
	l := s.lines[0]
	s.lines = s.lines[1:]
	if err, ok := l.(error); ok {
		return "", err
	}
	return l.(string), nil
}

func TestLoopLines(t *testing.T) {
	clk := testclock.New(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
	src := &lineSource{idle: make(chan struct{}), lines: []any{
		"https://shop.example/t?picc_data=AA&cmac=BB\r\n",
		"  04a1b2c3d4e501 ",
		"",
		"hello",
		"https://x.example/" + strings.Repeat("a", 2100),
		errors.New("port gone"),
		"ftp://x.example/",
		"04A1B2C3",
		"HTTP://y.example",
	}}
	h := start(t, &Loop{Lines: src, Now: clk.Now})
	within(t, src.idle, "idle")
	want := []Tap{
		{Reader: "serial0", URL: "https://shop.example/t?picc_data=AA&cmac=BB", Time: clk.Now()},
		{Reader: "serial0", UID: "04A1B2C3D4E501", Time: clk.Now()},
		{Reader: "serial0", UID: "04A1B2C3", Time: clk.Now()},
		{Reader: "serial0", URL: "HTTP://y.example", Time: clk.Now()},
	}
	for _, w := range want {
		if tap := within(t, h.taps, "tap"); tap != w {
			t.Errorf("tap %+v, want %+v", tap, w)
		}
	}
	h.noTap(t)
	got := strings.Join(h.states(), "\n")
	for _, s := range []string{"ready:line ignored: device: line is neither an http(s) URL nor a UID: \"hello\"", "longer than 2048", "error:port gone", "\"ftp://x.example/\""} {
		if !strings.Contains(got, s) {
			t.Errorf("states lack %q:\n%s", s, got)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !reflect.DeepEqual(h.attempts, []int{1}) {
		t.Errorf("attempts %v", h.attempts)
	}
}

func TestLoopConfigAndCancel(t *testing.T) {
	if err := (&Loop{}).Run(context.Background()); err == nil {
		t.Error("a loop without a reader ran")
	}
	if err := (&Loop{Driver: &fakeDriver{}, Lines: &lineSource{}}).Run(context.Background()); err == nil {
		t.Error("a loop with two readers ran")
	}
	// Cancelled during a back-off.
	ctx, cancel := context.WithCancel(context.Background())
	l := &Loop{Driver: &gateDriver{calls: func(int) error { cancel(); return errors.New("x") }}, Backoff: func(int) time.Duration { return time.Hour }}
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	if err := within(t, done, "Run"); err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Tap
		err  bool
	}{
		{"https://a.example/x?y=1", Tap{URL: "https://a.example/x?y=1"}, false},
		{" http://a.example \n", Tap{URL: "http://a.example"}, false},
		{"deadbeef", Tap{UID: "DEADBEEF"}, false},
		{"04aabbcc112233", Tap{UID: "04AABBCC112233"}, false},
		{"", Tap{}, false},
		{"  \t ", Tap{}, false},
		{"https://", Tap{}, true},
		{"mailto:x@y", Tap{}, true},
		{"04aabbcc11223", Tap{}, true},
		{"04aabbcc1122334", Tap{}, true},
		{"0xAABBCC", Tap{}, true},
		{"https://a.example/\x00", Tap{}, true},
		{strings.Repeat("a", 2049), Tap{}, true},
	} {
		got, err := ParseLine(tc.in)
		if got != tc.want || (err != nil) != tc.err || err != nil && !errors.Is(err, ErrLine) {
			t.Errorf("%.30q: %+v %v", tc.in, got, err)
		}
	}
}

func TestDefaultBackoff(t *testing.T) {
	want := []time.Duration{100, 200, 400, 800, 1600, 3200, 5000, 5000}
	for i, w := range want {
		if got := DefaultBackoff(i + 1); got != w*time.Millisecond {
			t.Errorf("attempt %d: %v", i+1, got)
		}
	}
	if DefaultBackoff(1000) != MaxBackoff || DefaultBackoff(0) != MinBackoff {
		t.Error("bounds")
	}
}

// TestLoopFailureWarnings: a reader that keeps failing with the same error
// is a warning at attempts 1, 2, 4, 8, 16, 32, 64 of 100, a debug line
// otherwise; another error is a warning at once; the status follows every
// change.
func TestLoopFailureWarnings(t *testing.T) {
	gone := fmt.Errorf("no reader: %w", ErrReaderAbsent)
	var results []result
	for range 100 {
		results = append(results, result{err: gone})
	}
	results = append(results, result{err: errors.New("pcscd gone")})
	var log syncbuf.Buffer
	d := &fakeDriver{idle: make(chan struct{}), results: results}
	h := start(t, &Loop{Driver: d, Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	within(t, d.idle, "idle")
	var warnAttempts []string
	debug := 0
	for _, line := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		switch {
		case strings.Contains(line, "level=WARN") && strings.Contains(line, "reader failed"):
			_, a, _ := strings.Cut(line, "attempt=")
			warnAttempts = append(warnAttempts, a)
		case strings.Contains(line, "level=DEBUG") && strings.Contains(line, "reader failed"):
			debug++
		}
	}
	want := []string{"1", "2", "4", "8", "16", "32", "64", "101"}
	if !reflect.DeepEqual(warnAttempts, want) {
		t.Errorf("warnings at attempts %v, want %v", warnAttempts, want)
	}
	if debug != 101-len(want) {
		t.Errorf("%d debug lines, want %d", debug, 101-len(want))
	}
	wantStates := []string{"starting:", "absent:no reader: device: reader absent", "error:pcscd gone"}
	if got := h.states(); !reflect.DeepEqual(got, wantStates) {
		t.Errorf("states %q, want %q", got, wantStates)
	}
}

// TestLoopRetryAfterFailedRead: a card whose read failed (a timeout on the
// line) and that the driver reports again at once, within the debounce
// time, is read then: only a card that was read counts as the same
// presence.
func TestLoopRetryAfterFailedRead(t *testing.T) {
	clk := testclock.New(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
	rec := uriRecord(0x04, "shop.example/t?x=1")
	mem := ntag213(append([]byte{0x03, byte(len(rec))}, rec...)...)
	failing := &t2Card{mem: mem, err: errors.New("pn532: timeout")}
	good := &t2Card{mem: mem} // the same UID
	d := &fakeDriver{clock: clk, idle: make(chan struct{}), results: []result{{card: failing}, {card: good}, {card: good}}}
	h := start(t, &Loop{Driver: d, Now: clk.Now})
	within(t, d.idle, "idle")
	if tap := within(t, h.taps, "tap after the failed read"); tap.URL != "https://shop.example/t?x=1" {
		t.Errorf("tap %+v", tap)
	}
	h.noTap(t) // the third report is the card just read: debounced
	if len(good.reads) != 2 {
		t.Errorf("pages read of the good card %v, want one read (pages 3 and 7)", good.reads)
	}
}

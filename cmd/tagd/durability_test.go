package main

// Durability of the running appliance: the real binary (tagdBin) is
// killed with SIGKILL in the middle of concurrent genuine SUN taps, and
// stopped with SIGTERM under the same load. A "Pass" that a client
// received is a promise: the counter is stored, the tap is in the scan
// log, and the URL is refused from then on.

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/internal/syncbuf"
	"github.com/tagd-nfc/tagd/store"
	"github.com/tagd-nfc/tagd/sun"
)

// Load of the durability tests.
const (
	durClients     = 16               // concurrent HTTP clients, two demo tags each
	durTagsEach    = 2                // demo tags per client
	killMinAnswers = 50               // SIGKILL after this many answered taps …
	killMaxAnswers = 500              // … at most
	durDeadline    = 60 * time.Second // and 10 s more per SIGKILL round
)

// addrRE finds the listener addresses in what `tagd run` prints.
var addrRE = regexp.MustCompile(`(kiosk|LAN): +(https?://127\.0\.0\.1:[0-9]+)/`)

// tagdProc is a `tagd run` process of the built binary, with all of its
// stdout and stderr kept.
type tagdProc struct {
	t       *testing.T
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:PORT
	tlsBase string // https://127.0.0.1:PORT, when started with lan
	stdout  *syncbuf.Buffer
	logs    *syncbuf.Buffer // stderr
	done    chan struct{}   // closed when the process has been waited for
	err     error           // Wait's result, once done is closed
}

// startTagd starts `tagd run --demo` on dir with a loopback HTTP listener
// on a free port, no HTTPS and no reader (the taps come over HTTP).
func startTagd(t *testing.T, dir string) *tagdProc {
	return startTagdWith(t, false, "--data", dir, "--demo", "--http", "127.0.0.1:0", "--https", "", "--reader", "none")
}

// startTagdWith starts `tagd run ARGS…` and waits until it prints its
// loopback address and, with lan, its HTTPS address (read from what tagd
// prints once it serves). It kills the process when the test ends.
func startTagdWith(t *testing.T, lan bool, args ...string) *tagdProc {
	t.Helper()
	p := &tagdProc{t: t, stdout: &syncbuf.Buffer{}, logs: &syncbuf.Buffer{}, done: make(chan struct{})}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(tagdBin, append([]string{"run"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = w, p.logs
	if err := p.cmd.Start(); err != nil {
		r.Close()
		w.Close()
		t.Fatal(err)
	}
	w.Close()
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	// A safety net, not a synchronisation: a binary that never says it
	// runs is killed, which ends the read below with EOF.
	watchdog := time.AfterFunc(30*time.Second, func() { p.cmd.Process.Kill() })
	defer watchdog.Stop()
	br := bufio.NewReader(r)
	for p.base == "" || lan && p.tlsBase == "" {
		line, err := br.ReadString('\n')
		p.stdout.Write([]byte(line))
		if err != nil {
			r.Close()
			<-p.done
			t.Fatalf("tagd run ended before serving (%v, %v)\nstdout:\n%s\nstderr:\n%s", err, p.err, p.stdout.String(), p.logs.String())
		}
		if m := addrRE.FindStringSubmatch(line); m != nil {
			if m[1] == "kiosk" {
				p.base = m[2]
			} else {
				p.tlsBase = m[2]
			}
		}
	}
	go func() { // keep all of stdout until the process ends
		io.Copy(p.stdout, br)
		r.Close()
	}()
	return p
}

// kill ends the process with SIGKILL and waits for it.
func (p *tagdProc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// terminate sends SIGTERM and waits for the process; it must exit 0.
func (p *tagdProc) terminate() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		p.t.Fatalf("tagd did not stop within 30 s of SIGTERM\n%s", p.logs.String())
	}
	if p.err != nil {
		p.t.Fatalf("tagd after SIGTERM: %v (want exit 0)\n%s", p.err, p.logs.String())
	}
}

// simTag is one demo tag as the simulated card taps it: genuine SUN
// messages with strictly increasing counters.
type simTag struct {
	xuid string
	e    *sun.Emitter
	ctr  uint32 // the last counter sent
}

// simTags returns the demo simulation tags, two per client.
func simTags(t *testing.T) [][]*simTag {
	t.Helper()
	demo := demoSimTags()
	if len(demo) < durClients*durTagsEach {
		t.Fatalf("%d demo tags, want at least %d", len(demo), durClients*durTagsEach)
	}
	zero := make([]byte, 16)
	out := make([][]*simTag, durClients)
	for i := range out {
		for j := range durTagsEach {
			d := demo[i*durTagsEach+j]
			out[i] = append(out[i], &simTag{xuid: d.XUID,
				e: &sun.Emitter{Mode: sun.ModeAES, MetaKey: zero, FileKey: zero, UID: mustUID(t, d.UID), Rand: rand.Reader}})
		}
	}
	return out
}

// next returns the next counter of the tag and its tap's path and query.
func (s *simTag) next() (uint32, string, error) {
	s.ctr++
	picc, err := s.e.PICCData(s.ctr)
	if err != nil {
		return 0, "", err
	}
	mac, err := s.e.MAC(s.ctr, "")
	if err != nil {
		return 0, "", err
	}
	return s.ctr, fmt.Sprintf("/v1/t?picc_data=%X&cmac=%X", picc, mac), nil
}

// tapKey names one tap.
type tapKey struct {
	xuid string
	ctr  uint32
}

// tapRecord is a tap whose answer came back.
type tapRecord struct {
	tapKey
	path string
}

// lookupReply is the body of a Response API answer.
type lookupReply struct {
	XUID     string `json:"xuid"`
	Response string `json:"response"`
	Error    string `json:"error"`
}

// tapOutcome is what became of one request.
type tapOutcome int

const (
	tapAnswered tapOutcome = iota // a complete, valid "Pass" answer
	tapNoAnswer                   // no response (connection error)
	tapBad                        // a response, but not a complete genuine "Pass"
)

// tapOnce sends one tap. A response is read in full and must be a
// complete, valid JSON "Pass" for the tag; anything else is tapBad with a
// description.
func tapOnce(ctx context.Context, cl *http.Client, base string, s *simTag, path string) (tapOutcome, string) {
	req, err := http.NewRequestWithContext(ctx, "GET", base+path, nil)
	if err != nil {
		return tapBad, err.Error()
	}
	resp, err := cl.Do(req)
	if err != nil {
		return tapNoAnswer, err.Error()
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return tapBad, fmt.Sprintf("%s: truncated body %q: %v", s.xuid, body, err)
	}
	var r lookupReply
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if resp.StatusCode != http.StatusOK || dec.Decode(&r) != nil || dec.More() {
		return tapBad, fmt.Sprintf("%s: %s %q", s.xuid, resp.Status, body)
	}
	if r.XUID != s.xuid || r.Response != "Pass" || r.Error != "" {
		return tapBad, fmt.Sprintf("%s counter %d: answer %s, want Pass", s.xuid, s.ctr, body)
	}
	return tapAnswered, ""
}

// loadResult is what a run of the clients saw.
type loadResult struct {
	passes   []tapRecord // answered "Pass"
	noAnswer []tapKey    // sent, no response
	bad      []string    // responses that were not a complete "Pass"
	early    []string    // connection errors before the process was stopped
	stopped  bool        // stop was called
}

// runClients drives one client per element of tags, each tapping its own
// tags in turn with increasing counters, until every client got a
// connection error or a bad answer. After the stopAt-th answer, stop is
// called once (it kills or terminates the process); connection errors
// before that are reported in early.
func runClients(ctx context.Context, base string, tags [][]*simTag, stopAt int, stop func()) loadResult {
	tr := &http.Transport{MaxIdleConns: len(tags), MaxIdleConnsPerHost: len(tags)}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var (
		mu       sync.Mutex
		res      loadResult
		answered atomic.Int64
		stopping atomic.Bool
		wg       sync.WaitGroup
	)
	for _, own := range tags {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				s := own[i%len(own)]
				ctr, path, err := s.next()
				if err != nil {
					mu.Lock()
					res.bad = append(res.bad, err.Error())
					mu.Unlock()
					return
				}
				out, msg := tapOnce(ctx, cl, base, s, path)
				mu.Lock()
				switch out {
				case tapAnswered:
					res.passes = append(res.passes, tapRecord{tapKey{s.xuid, ctr}, path})
				case tapNoAnswer:
					res.noAnswer = append(res.noAnswer, tapKey{s.xuid, ctr})
					if !stopping.Load() { // stopping is set before stop is called

						res.early = append(res.early, msg)
					}
				case tapBad:
					res.bad = append(res.bad, msg)
				}
				mu.Unlock()
				if out != tapAnswered {
					return
				}
				if answered.Add(1) == int64(stopAt) {
					stopping.Store(true)
					stop()
				}
			}
		})
	}
	wg.Wait()
	res.stopped = stopping.Load()
	return res
}

// scanLog returns the scan log through `tagd scans --json`.
func scanLog(t *testing.T, dir string) []tagd.Scan {
	t.Helper()
	out, errOut, code := runBin(t, "scans", "--data", dir, "--json", "--last", "1000000")
	if code != 0 {
		t.Fatalf("tagd scans: exit %d: %s", code, errOut)
	}
	var scans []tagd.Scan
	if err := json.Unmarshal([]byte(out), &scans); err != nil {
		t.Fatalf("tagd scans --json: %v", err)
	}
	return scans
}

// passScans indexes the scans that passed a SUN check by tag and counter;
// it reports duplicates.
func passScans(t *testing.T, scans []tagd.Scan) map[tapKey]tagd.Scan {
	t.Helper()
	m := map[tapKey]tagd.Scan{}
	for _, s := range scans {
		if s.Auth != "pass" {
			continue
		}
		k := tapKey{s.XUID, s.Counter}
		if prev, dup := m[k]; dup {
			t.Errorf("two passing scans of %s counter %d: seq %d and %d", s.XUID, s.Counter, prev.Seq, s.Seq)
		}
		m[k] = s
	}
	return m
}

// replayAll sends every URL again, from several clients; each must now
// answer "Fail" for its tag.
func replayAll(ctx context.Context, t *testing.T, base string, passes []tapRecord) {
	t.Helper()
	tr := &http.Transport{MaxIdleConns: durClients, MaxIdleConnsPerHost: durClients}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	work := make(chan tapRecord)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var bad []string
	for range durClients {
		wg.Go(func() {
			for p := range work {
				msg := ""
				req, _ := http.NewRequestWithContext(ctx, "GET", base+p.path, nil)
				resp, err := cl.Do(req)
				if err == nil {
					body, rerr := io.ReadAll(resp.Body)
					resp.Body.Close()
					var r lookupReply
					switch {
					case rerr != nil:
						msg = rerr.Error()
					case json.Unmarshal(body, &r) != nil || r.XUID != p.xuid || r.Response != "Fail":
						msg = fmt.Sprintf("answer %s, want Fail", body)
					}
				} else {
					msg = err.Error()
				}
				if msg != "" {
					mu.Lock()
					bad = append(bad, fmt.Sprintf("replay of %s counter %d: %s", p.xuid, p.ctr, msg))
					mu.Unlock()
				}
			}
		})
	}
	for _, p := range passes {
		work <- p
	}
	close(work)
	wg.Wait()
	for i, b := range bad {
		if i == 20 {
			t.Errorf("… and %d more", len(bad)-20)
			break
		}
		t.Error(b)
	}
}

// openTestStore opens the data directory's database the way tagd does.
func openTestStore(t *testing.T, dir string) *store.DB {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, kekFile))
	if err != nil {
		t.Fatal(err)
	}
	kek, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(dir, dbFile), store.Options{KEK: kek})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// reportLoad fails the test for answers that were not a complete "Pass"
// and for connection errors before the process was stopped.
func reportLoad(t *testing.T, what string, res loadResult) {
	t.Helper()
	for i, b := range res.bad {
		if i == 20 {
			t.Errorf("%s: … and %d more bad answers", what, len(res.bad)-20)
			break
		}
		t.Errorf("%s: bad answer: %s", what, b)
	}
	for i, e := range res.early {
		if i == 5 {
			t.Errorf("%s: … and %d more connection errors", what, len(res.early)-5)
			break
		}
		t.Errorf("%s: connection error before tagd was stopped: %s", what, e)
	}
}

// TestKill9NothingLost kills tagd with SIGKILL at a random moment of
// concurrent genuine taps, restarts it, and checks that every tap that was
// answered "Pass" is in the scan log and cannot be replayed; after the
// last round it stops tagd with SIGTERM and checks the database.
// TAGD_KILL_ROUNDS sets the number of rounds (default 3), TAGD_KILL_SEED
// the seed of the kill moments (logged).
func TestKill9NothingLost(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the SIGKILL durability test (it runs the tagd binary under load)")
	}
	rounds := 3
	if v := os.Getenv("TAGD_KILL_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("TAGD_KILL_ROUNDS=%q: want a positive number", v)
		}
		rounds = n
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("TAGD_KILL_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("TAGD_KILL_SEED=%q: %v", v, err)
		}
		seed = n
	}
	t.Logf("%d rounds, seed %d (rerun with TAGD_KILL_SEED=%d)", rounds, seed, seed)
	rng := mrand.New(mrand.NewPCG(seed, 0x7461_6764))
	ctx, cancel := context.WithTimeout(context.Background(), durDeadline+time.Duration(rounds)*10*time.Second)
	defer cancel()

	dir := t.TempDir()
	tags := simTags(t)
	var passes []tapRecord // every tap answered "Pass", all rounds
	p := startTagd(t, dir)
	for round := 1; round <= rounds; round++ {
		killAt := killMinAnswers + rng.IntN(killMaxAnswers-killMinAnswers+1)
		res := runClients(ctx, p.base, tags, killAt, p.kill)
		reportLoad(t, fmt.Sprintf("round %d", round), res)
		if !res.stopped {
			p.kill()
			t.Fatalf("round %d: the clients stopped before answer %d, when tagd was to be killed (%v)\n%s", round, killAt, ctx.Err(), p.logs.String())
		}
		t.Logf("round %d: SIGKILL after answer %d; %d taps answered Pass, %d without an answer", round, killAt, len(res.passes), len(res.noAnswer))
		if len(res.passes) < killAt {
			t.Fatalf("round %d: %d answers, the kill was due at %d", round, len(res.passes), killAt)
		}
		passes = append(passes, res.passes...)

		p = startTagd(t, dir)
		// (b) every answered pass is in the scan log, as a pass.
		inLog := passScans(t, scanLog(t, dir))
		lost := 0
		for _, a := range passes {
			s, ok := inLog[a.tapKey]
			switch {
			case !ok:
				lost++
				if lost <= 20 {
					t.Errorf("round %d: LOST: %s counter %d was answered Pass but is not in the scan log", round, a.xuid, a.ctr)
				}
			case s.Response != "Pass" || !s.HasCounter || s.XUID != a.xuid || s.Counter != a.ctr:
				t.Errorf("round %d: scan of %s counter %d: %+v", round, a.xuid, a.ctr, s)
			}
		}
		if lost > 0 {
			t.Fatalf("round %d: %d of %d answered passes are not in the scan log (seed %d)", round, lost, len(passes), seed)
		}
		inFlight := 0
		for _, k := range res.noAnswer {
			if _, ok := inLog[k]; ok {
				inFlight++
			}
		}
		t.Logf("round %d: %d of the %d taps without an answer were committed before the kill", round, inFlight, len(res.noAnswer))
		// No pass that was never sent.
		sent := map[string]uint32{}
		for _, own := range tags {
			for _, s := range own {
				sent[s.xuid] = s.ctr
			}
		}
		for k := range inLog {
			if last, ours := sent[k.xuid]; ours && k.ctr > last {
				t.Errorf("round %d: passing scan of %s counter %d, which was never sent (last sent %d)", round, k.xuid, k.ctr, last)
			}
		}
		// (a) every URL answered "Pass" is refused now.
		replayAll(ctx, t, p.base, passes)
		if t.Failed() {
			t.Fatalf("round %d failed (seed %d)", round, seed)
		}
	}
	p.terminate()
	// (c) the database is consistent.
	db := openTestStore(t, dir)
	if err := db.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d answered passes over %d kills, all kept", len(passes), rounds)
}

// TestSigtermFinishesInFlight stops tagd with SIGTERM while 16 clients tap
// and checks that every response received is complete and valid, that
// tagd exits 0, and that the scan log holds every answered tap and,
// besides them, only taps whose request got no response.
func TestSigtermFinishesInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the SIGTERM test (it runs the tagd binary under load)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), durDeadline)
	defer cancel()
	dir := t.TempDir()
	p := startTagd(t, dir)
	tags := simTags(t)
	const termAt = 300
	res := runClients(ctx, p.base, tags, termAt, func() {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Error(err)
		}
	})
	if !res.stopped {
		reportLoad(t, "SIGTERM", res)
		t.Fatalf("the clients stopped before answer %d, when SIGTERM was due (%v)\n%s", termAt, ctx.Err(), p.logs.String())
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		t.Fatal("tagd did not stop after SIGTERM")
	}
	if p.err != nil {
		t.Fatalf("tagd after SIGTERM: %v (want exit 0)\n%s", p.err, p.logs.String())
	}
	reportLoad(t, "SIGTERM", res)
	t.Logf("SIGTERM after answer %d: %d complete answers, %d requests without a response", termAt, len(res.passes), len(res.noAnswer))

	db := openTestStore(t, dir)
	if err := db.Check(ctx); err != nil {
		t.Error(err)
	}
	scans, err := db.Scans(ctx, 1000000)
	if err != nil {
		t.Fatal(err)
	}
	inLog := passScans(t, scans)
	if len(inLog) != len(scans) {
		t.Errorf("%d scans, %d of them passes: the log holds taps that did not pass", len(scans), len(inLog))
	}
	for _, a := range res.passes {
		if _, ok := inLog[a.tapKey]; !ok {
			t.Errorf("LOST: %s counter %d was answered but is not in the scan log", a.xuid, a.ctr)
		}
		delete(inLog, a.tapKey)
	}
	for _, k := range res.noAnswer {
		delete(inLog, k)
	}
	for k := range inLog {
		t.Errorf("scan of %s counter %d, a tap that was neither answered nor sent without an answer", k.xuid, k.ctr)
	}
	extra := len(scans) - len(res.passes)
	if extra < 0 || extra > len(res.noAnswer) {
		t.Errorf("%d scans in the log for %d answered requests and %d without a response", len(scans), len(res.passes), len(res.noAnswer))
	}
	t.Logf("%d scans in the log = %d answered + %d of the %d requests without a response", len(scans), len(res.passes), extra, len(res.noAnswer))
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("out of time")
	}
}

// Command tagd-load is a load generator for a running tagd (and for the
// bare net/http baseline that tagd's HTTP figures are compared with).
//
// Each of -c clients sends one request after the other for -d, over one
// shared http.Client whose Transport keeps -c idle connections per host,
// and checks every answer:
//
//	-mode lookup   GET URL/v1/t?x=q8w3sbcz; the answer must be
//	               {"xuid":"q8w3sbcz","response":"Found"} (the demo's
//	               standard tag; every lookup is also a durable scan).
//	-mode sun      genuine SUN taps of the demo authentication tags
//	               (factory all-zero AES keys): client i taps demo tags
//	               2i+1 and 2i+2 in turn with strictly increasing counters
//	               from -start-counter; every answer must be
//	               {"xuid":"demoNNNN","response":"Pass"}.
//	-bare          instead of -url, an in-process bare net/http server on
//	               127.0.0.1:0 that answers every request with the lookup's
//	               bytes and headers; the baseline for -mode lookup.
//
// Any other answer, a transport error or a non-200 status counts as an
// error. The report gives the requests sent, the errors, the rate of
// good answers (req/s) and the exact p50/p90/p99/max latency of all
// requests that got an answer, as one line of key=value text, or with
// -json as one JSON object, with the CPU time this generator used per
// good answer. With -pid it adds that process's CPU time per good answer
// (from /proc/PID/stat) and its peak and current resident set size
// (VmHWM, VmRSS, from /proc/PID/status at the end). In sun mode it also
// reports next_counter, the -start-counter of a further run against the
// same data. The exit status is 0 when there were no errors, 3 when there
// were some (the report is printed anyway), 2 for a usage error and 1
// otherwise.
//
// Example (scripts/load runs all three against a demo tagd):
//
//	tagd-load -bare -c 16 -d 10s
//	tagd-load -url http://127.0.0.1:8080 -mode lookup -c 16 -d 10s
//	tagd-load -url http://127.0.0.1:8080 -mode sun -c 16 -d 10s -pid $(pidof tagd)
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tagd-nfc/tagd/sun"
)

// The demo data of `tagd run --demo` (cmd/tagd/demo.go).
const (
	lookupXUID  = "q8w3sbcz"
	lookupBody  = `{"xuid":"q8w3sbcz","response":"Found"}`
	demoTags    = 32 // demo0001 … demo0032
	tagsEach    = 2  // per client in sun mode
	maxCounter  = 0xFFFFFF
	maxBodySize = 4096
)

// demoUID returns the UID of demo tag n (1-based): 04A1B2C3D4E5 ‖ n.
func demoUID(n int) []byte {
	return []byte{0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, byte(n)}
}

// config is the parsed command line.
type config struct {
	url          string
	mode         string
	clients      int
	duration     time.Duration
	bare         bool
	startCounter uint64
	pid          int
	json         bool
	serveBare    string
}

// usageError is a command-line mistake (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("tagd-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.url, "url", "", "base URL of tagd, e.g. http://127.0.0.1:8080")
	fs.StringVar(&c.mode, "mode", "lookup", "lookup (GET /v1/t?x="+lookupXUID+") or sun (genuine SUN taps of the demo tags)")
	fs.IntVar(&c.clients, "c", 16, "concurrent clients")
	fs.DurationVar(&c.duration, "d", 10*time.Second, "duration")
	fs.BoolVar(&c.bare, "bare", false, "load an in-process bare net/http server instead of -url (the baseline)")
	fs.Uint64Var(&c.startCounter, "start-counter", 1, "sun mode: the first SUN counter of every tag")
	fs.IntVar(&c.pid, "pid", 0, "report VmHWM/VmRSS of this process at the end")
	fs.BoolVar(&c.json, "json", false, "print the report as a JSON object")
	fs.StringVar(&c.serveBare, "serve-bare", "", "serve the bare baseline handler on this address in this process until SIGTERM (no load)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, &usageError{} // the flag package has said what is wrong
	}
	switch {
	case fs.NArg() > 0:
		return c, &usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	case c.serveBare != "" && (c.bare || c.url != ""):
		return c, &usageError{"-serve-bare only serves; it excludes -bare and -url"}
	case c.serveBare != "":
		return c, nil
	case c.mode != "lookup" && c.mode != "sun":
		return c, &usageError{fmt.Sprintf("-mode: want lookup or sun, not %q", c.mode)}
	case c.bare && c.url != "":
		return c, &usageError{"-bare and -url exclude each other"}
	case c.bare && c.mode != "lookup":
		return c, &usageError{"-bare serves the lookup answer only; use it with -mode lookup"}
	case !c.bare && c.url == "":
		return c, &usageError{"-url or -bare is required"}
	case c.clients < 1:
		return c, &usageError{"-c: want at least 1 client"}
	case c.mode == "sun" && c.clients*tagsEach > demoTags:
		return c, &usageError{fmt.Sprintf("-c: sun mode has %d demo tags, %d per client: at most %d clients", demoTags, tagsEach, demoTags/tagsEach)}
	case c.duration <= 0:
		return c, &usageError{"-d: want a positive duration"}
	case c.startCounter < 1 || c.startCounter > maxCounter:
		return c, &usageError{fmt.Sprintf("-start-counter: want 1 to %d", maxCounter)}
	case c.pid < 0:
		return c, &usageError{"-pid: want a process id"}
	}
	c.url = strings.TrimSuffix(c.url, "/")
	return c, nil
}

// report is the result of a run.
type report struct {
	Mode        string  `json:"mode"`
	URL         string  `json:"url"`
	Clients     int     `json:"clients"`
	Seconds     float64 `json:"seconds"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	ReqPerSec   float64 `json:"req_per_s"`
	P50us       float64 `json:"p50_us"`
	P90us       float64 `json:"p90_us"`
	P99us       float64 `json:"p99_us"`
	Maxus       float64 `json:"max_us"`
	FirstError  string  `json:"first_error,omitempty"`
	NextCounter uint64  `json:"next_counter,omitempty"`
	// SelfCPUus is the CPU time of this generator (and of the bare
	// server, which runs in it) per good answer.
	SelfCPUus float64 `json:"self_cpu_us_per_req"`
	PID       int     `json:"pid,omitempty"`
	// PIDCPUus is the CPU time of process PID per good answer.
	PIDCPUus float64 `json:"pid_cpu_us_per_req,omitempty"`
	VmHWMkB  int64   `json:"vm_hwm_kb,omitempty"`
	VmRSSkB  int64   `json:"vm_rss_kb,omitempty"`
}

// text renders the report as one line of key=value pairs.
func (r *report) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mode=%s url=%s clients=%d seconds=%.2f requests=%d errors=%d req/s=%.0f p50=%s p90=%s p99=%s max=%s",
		r.Mode, r.URL, r.Clients, r.Seconds, r.Requests, r.Errors, r.ReqPerSec, us(r.P50us), us(r.P90us), us(r.P99us), us(r.Maxus))
	if r.NextCounter != 0 {
		fmt.Fprintf(&b, " next_counter=%d", r.NextCounter)
	}
	fmt.Fprintf(&b, " self_cpu/req=%.0fus", r.SelfCPUus)
	if r.PID != 0 {
		fmt.Fprintf(&b, " pid=%d pid_cpu/req=%.0fus vm_hwm=%s vm_rss=%s", r.PID, r.PIDCPUus, mib(r.VmHWMkB), mib(r.VmRSSkB))
	}
	if r.FirstError != "" {
		fmt.Fprintf(&b, " first_error=%q", r.FirstError)
	}
	return b.String()
}

// us formats microseconds as milliseconds.
func us(v float64) string { return strconv.FormatFloat(v/1000, 'f', 3, 64) + "ms" }

// mib formats kB as MiB.
func mib(kb int64) string { return strconv.FormatFloat(float64(kb)/1024, 'f', 1, 64) + "MiB" }

// client is one load client: what it sends and what it saw.
type client struct {
	next      func() (url, want string, err error)
	latencies []time.Duration // of the requests that got an answer
	requests  int
	errors    int
	firstErr  string
}

// fail counts an error, keeping the first message.
func (c *client) fail(format string, args ...any) {
	c.errors++
	if c.firstErr == "" {
		c.firstErr = fmt.Sprintf(format, args...)
	}
}

// run sends requests until the deadline.
func (c *client) run(hc *http.Client, deadline time.Time) {
	buf := make([]byte, maxBodySize)
	for time.Now().Before(deadline) {
		url, want, err := c.next()
		if err != nil {
			c.fail("%v", err)
			return
		}
		c.requests++
		start := time.Now()
		resp, err := hc.Get(url)
		if err != nil {
			c.fail("%v", err)
			continue
		}
		n, rerr := io.ReadFull(resp.Body, buf)
		if rerr == nil { // a body longer than any answer: drain it
			_, rerr = io.Copy(io.Discard, resp.Body)
			rerr = errors.Join(rerr, fmt.Errorf("answer longer than %d bytes", len(buf)))
		} else if errors.Is(rerr, io.ErrUnexpectedEOF) || errors.Is(rerr, io.EOF) {
			rerr = nil
		}
		resp.Body.Close()
		c.latencies = append(c.latencies, time.Since(start))
		switch {
		case rerr != nil:
			c.fail("reading the answer: %v", rerr)
		case resp.StatusCode != http.StatusOK:
			c.fail("%s: %q", resp.Status, buf[:n])
		case string(buf[:n]) != want:
			c.fail("answer %s, want %s", buf[:n], want)
		}
	}
}

// lookupNext is the request of lookup mode.
func lookupNext(base string) func() (string, string, error) {
	url := base + "/v1/t?x=" + lookupXUID
	return func() (string, string, error) { return url, lookupBody, nil }
}

// sunTag is a demo tag tapped by a sun-mode client.
type sunTag struct {
	xuid string
	e    *sun.Emitter
	ctr  uint64 // the next counter
}

// sunNext returns the taps of client i: its tags in turn, each with
// strictly increasing counters from start; and a function that returns the
// first counter that the client has not sent yet. The tag's random padding comes
// from a per-client generator (it needs no secrecy; tags differ by UID
// and counter).
func sunNext(base string, i int, start uint64) (func() (string, string, error), func() uint64) {
	zero := make([]byte, 16)
	rng := rand.NewChaCha8([32]byte{byte(i), 't', 'a', 'g', 'd'})
	var tags []*sunTag
	for j := range tagsEach {
		n := i*tagsEach + j + 1
		tags = append(tags, &sunTag{xuid: fmt.Sprintf("demo%04d", n), ctr: start,
			e: &sun.Emitter{Mode: sun.ModeAES, MetaKey: zero, FileKey: zero, UID: demoUID(n), Rand: rng}})
	}
	k := 0
	next := func() (string, string, error) {
		t := tags[k%len(tags)]
		k++
		if t.ctr > maxCounter {
			return "", "", fmt.Errorf("%s: the 24-bit SUN counter is exhausted; use a new data directory", t.xuid)
		}
		ctr := uint32(t.ctr)
		t.ctr++
		picc, err := t.e.PICCData(ctr)
		if err != nil {
			return "", "", err
		}
		mac, err := t.e.MAC(ctr, "")
		if err != nil {
			return "", "", err
		}
		return fmt.Sprintf("%s/v1/t?picc_data=%X&cmac=%X", base, picc, mac), `{"xuid":"` + t.xuid + `","response":"Pass"}`, nil
	}
	nextCounter := func() uint64 { // above every counter the client sent
		var m uint64
		for _, t := range tags {
			m = max(m, t.ctr)
		}
		return m
	}
	return next, nextCounter
}

// startBareOn starts the baseline server: a bare net/http handler writing
// the lookup's headers and bytes.
func startBareOn(addr string) (string, func(), error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	body := []byte(lookupBody)
	srv := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Type", "application/json")
			h.Set("Cache-Control", "no-store")
			h.Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(body)
		}),
	}
	go srv.Serve(l)
	return "http://" + l.Addr().String(), func() { srv.Close() }, nil
}

// memory reads VmHWM and VmRSS (kB) of a process.
func memory(pid int) (hwm, rss int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmHWM:":
			hwm, _ = strconv.ParseInt(f[1], 10, 64)
		case "VmRSS:":
			rss, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	if hwm == 0 || rss == 0 {
		return 0, 0, fmt.Errorf("/proc/%d/status: no VmHWM/VmRSS", pid)
	}
	return hwm, rss, nil
}

// selfCPU returns the CPU time (user + system) of this process.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTick is the unit of the CPU times in /proc/PID/stat (USER_HZ,
// 100 on Linux).
const clockTick = 10 * time.Millisecond

// procCPU returns the CPU time (user + system) of a process, from
// /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// utime and stime are fields 14 and 15, the 12th and 13th after it.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return time.Duration(ut+st) * clockTick, nil
}

// percentile returns the exact nearest-rank p-th percentile of sorted
// samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(float64(len(sorted))*p/100)) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// load runs the clients and returns the report.
func load(c config) (*report, error) {
	base := c.url
	if c.bare {
		u, stop, err := startBareOn("127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer stop()
		base = u
	}
	tr := &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        c.clients,
		MaxIdleConnsPerHost: c.clients,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	clients := make([]*client, c.clients)
	nextCounters := make([]func() uint64, c.clients)
	for i := range clients {
		clients[i] = &client{next: lookupNext(base)}
		if c.mode == "sun" {
			clients[i].next, nextCounters[i] = sunNext(base, i, c.startCounter)
		}
	}
	var pidCPU0 time.Duration
	if c.pid != 0 {
		var err error
		if pidCPU0, err = procCPU(c.pid); err != nil {
			return nil, err
		}
	}
	selfCPU0 := selfCPU()
	start := time.Now()
	deadline := start.Add(c.duration)
	var wg sync.WaitGroup
	for _, cl := range clients {
		wg.Go(func() { cl.run(hc, deadline) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	selfCPUUsed := selfCPU() - selfCPU0

	mode := c.mode
	if c.bare {
		mode = "bare"
	}
	r := &report{Mode: mode, URL: base, Clients: c.clients, Seconds: elapsed.Seconds()}
	var all []time.Duration
	for _, cl := range clients {
		r.Requests += cl.requests
		r.Errors += cl.errors
		if r.FirstError == "" {
			r.FirstError = cl.firstErr
		}
		all = append(all, cl.latencies...)
	}
	slices.Sort(all)
	good := r.Requests - r.Errors
	r.ReqPerSec = float64(good) / elapsed.Seconds()
	perReq := func(d time.Duration) float64 {
		if good == 0 {
			return 0
		}
		return float64(d.Nanoseconds()) / 1e3 / float64(good)
	}
	r.SelfCPUus = perReq(selfCPUUsed)
	toUS := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	r.P50us, r.P90us, r.P99us = toUS(percentile(all, 50)), toUS(percentile(all, 90)), toUS(percentile(all, 99))
	if len(all) > 0 {
		r.Maxus = toUS(all[len(all)-1])
	}
	if c.mode == "sun" {
		for _, n := range nextCounters {
			r.NextCounter = max(r.NextCounter, n())
		}
	}
	if c.pid != 0 {
		cpu, err := procCPU(c.pid)
		if err != nil {
			return r, err
		}
		hwm, rss, err := memory(c.pid)
		if err != nil {
			return r, err
		}
		r.PID, r.PIDCPUus, r.VmHWMkB, r.VmRSSkB = c.pid, perReq(cpu-pidCPU0), hwm, rss
	}
	return r, nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the program; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if err != nil {
		if err.Error() != "" && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "tagd-load:", err)
		}
		return 2
	}
	if c.serveBare != "" {
		return serveBare(c.serveBare, stdout, stderr)
	}
	r, err := load(c)
	if r != nil {
		if c.json {
			enc := json.NewEncoder(stdout)
			if err := enc.Encode(r); err != nil {
				fmt.Fprintln(stderr, "tagd-load:", err)
				return 1
			}
		} else {
			fmt.Fprintln(stdout, r.text())
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "tagd-load:", err)
		return 1
	}
	if r.Errors > 0 {
		fmt.Fprintf(stderr, "tagd-load: %d errors, the first: %s\n", r.Errors, r.FirstError)
		return 3
	}
	return 0
}

// serveBare serves the baseline in this process, as tagd serves in its
// own, prints its URL and waits for SIGTERM or SIGINT.
func serveBare(addr string, stdout, stderr io.Writer) int {
	url, stop, err := startBareOn(addr)
	if err != nil {
		fmt.Fprintln(stderr, "tagd-load:", err)
		return 1
	}
	defer stop()
	fmt.Fprintln(stdout, "bare baseline serves", url)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	return 0
}

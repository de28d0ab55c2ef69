//go:build linux

// Package pcsctest runs tests against the real PC/SC stack: pcscd with
// vsmartcard's vpcd driver, fed by Go virtual cards (device/sim's
// ConnectVPCD). It is for tests only.
//
// vpcd listens on 0.0.0.0:35963 and 0.0.0.0:35964 (every interface, no
// setting to change that), and pcsc-lite 1.9.9 has one fixed socket path,
// /run/pcscd/pcscd.comm. So the test runs in a private network namespace,
// where vpcd's listeners exist only on the namespace's own loopback, and a
// private mount namespace with a tmpfs on /run/pcscd, where its pcscd has
// its own socket. The machine's pcscd (if any), its readers' clients and
// other test runs are not disturbed, and several such tests can run at
// once. EnterNetns does this by running the test binary again under
// `unshare -n -m`; processes the inner test starts (a `tagd run` binary,
// say) inherit both namespaces and so reach the test's pcscd.
//
// Requirements: root, and the packages pcscd, vsmartcard-vpcd (which
// installs /etc/reader.conf.d/vpcd) and util-linux/iproute2 (unshare, ip,
// mount). Without them EnterNetns skips the test with the reason; cgo
// builds of device/pcsc also need libpcsclite-dev.
//
// Use, in a top-level test function:
//
//	func TestE2E_Taps(t *testing.T) {
//		if !pcsctest.EnterNetns(t) {
//			return // outer process: the test ran (or was skipped) inside
//		}
//		pcscd := pcsctest.StartPCSCD(t) // stopped by t.Cleanup
//		r, _ := pcsc.Open(pcsc.Options{Name: pcsctest.ReaderName})
//		defer r.Close()
//		v, _ := sim.ConnectVPCD(ctx, pcsctest.VPCDAddr, card) // tag in the field
//		c, _ := r.NextCard(ctx)
//		...
//		v.Close() // tag gone
//		pcscd.Kill(t)    // SIGKILL, as a crash
//		pcscd.Restart(t) // back, vpcd listening again; cards must reconnect
//	}
//
// EnterNetns returns false in the outer process after running the same
// test (only it: -test.run ^Name$) inside the namespaces and relaying its
// output, failing or skipping as it did; it returns true in the inner
// process, which then does the real work. Code before EnterNetns runs in
// both; keep it out. Set TAGD_PCSCD_DEBUG=1 to run pcscd with -d (debug
// log); the log is printed when the test fails.
//
// Things to know when writing such a test:
//   - Only loopback exists inside: no module downloads. Build helper
//     binaries (e.g. tagd itself) in the outer process and hand them over
//     in the environment, which the inner process inherits:
//     if !pcsctest.InNetns() { build; t.Setenv("TAGD_BIN", path) } before
//     EnterNetns.
//   - A card is present while its sim.ConnectVPCD connection is up; pcscd
//     polls vpcd every 400 ms, so order steps by what the reader reports
//     (a tap seen, Release returned), not by sleeping; hold a card until
//     its tap was seen.
//   - After Kill and Restart every PC/SC context of the old pcscd is
//     dead: a pcsc.Reader's next call fails (an error wrapping
//     device.ErrReaderAbsent), the call after recovers; vpcd cards see
//     sim.ErrVPCDHangup and must connect again.
//   - RestartWithoutReaders runs pcscd with no reader at all (the reader
//     unplugged); Restart brings the two vpcd readers back.
package pcsctest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// EnvInner marks the inner process that EnterNetns starts.
const EnvInner = "TAGD_IN_NETNS"

// VPCD slots of the stock /etc/reader.conf.d/vpcd (CHANNELID 0x8C7B): the
// address a virtual card connects to, and the PC/SC reader it appears in.
const (
	VPCDAddr    = "127.0.0.1:35963"
	ReaderName  = "Virtual PCD 00 00"
	VPCDAddr2   = "127.0.0.1:35964"
	ReaderName2 = "Virtual PCD 00 01"
)

// Paths of pcsc-lite 1.9.9 and vsmartcard-vpcd on Debian 12.
const (
	SocketPath = "/run/pcscd/pcscd.comm"
	vpcdDriver = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
	vpcdConf   = "/etc/reader.conf.d/vpcd"
)

// startTimeout bounds how long pcscd may take to come up.
const startTimeout = 10 * time.Second

// InNetns reports whether this process is the inner one of EnterNetns.
func InNetns() bool { return os.Getenv(EnvInner) == "1" }

// EnterNetns makes the test run inside private network and mount
// namespaces: in the inner process it returns true; in the outer one it
// runs the test there, relays the output, fails or skips as the inner run
// did, and returns false. It skips (t.Skip) when not root or when pcscd,
// vpcd, unshare, ip or mount are missing.
func EnterNetns(t *testing.T) bool {
	t.Helper()
	if InNetns() {
		return true
	}
	if reason := missing(); reason != "" {
		t.Skip("pcsctest: " + reason)
	}
	if out, err := exec.Command("unshare", "-n", "-m", "--", "true").CombinedOutput(); err != nil {
		t.Skipf("pcsctest: cannot create network and mount namespaces (needs CAP_SYS_ADMIN): %v: %s", err, out)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// In the namespaces: loopback up (it starts down), a private tmpfs
	// for pcscd's socket, then the test binary.
	const script = `set -e
ip link set lo up
mkdir -p /run/pcscd
mount -t tmpfs -o mode=0755 tmpfs /run/pcscd
exec "$@"`
	args := []string{"-n", "-m", "--", "sh", "-c", script, "sh",
		"env", EnvInner + "=1", exe, "-test.run", runPattern(t.Name()), "-test.v", "-test.count=1"}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	if d, ok := t.Deadline(); ok {
		// Leave the outer test time to report an inner timeout.
		args = append(args, "-test.timeout", max(time.Until(d)*9/10, time.Second).String())
	}
	cmd := exec.Command("unshare", args...)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		t.Fatalf("pcsctest: start the inner test: %v", err)
	}
	pw.Close()
	passed, skipped := false, false
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		t.Log("inner: " + line)
		switch {
		case strings.HasPrefix(line, "--- PASS: "+t.Name()+" "):
			passed = true
		case strings.HasPrefix(line, "--- SKIP: "+t.Name()+" "):
			skipped = true
		}
	}
	pr.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("pcsctest: the test failed inside the namespaces: %v", err)
	}
	switch {
	case skipped:
		t.Skip("pcsctest: skipped inside the namespaces (see above)")
	case !passed:
		t.Fatalf("pcsctest: the inner run did not run %s", t.Name())
	}
	return false
}

// missing returns why the real stack cannot run here, or "".
func missing() string {
	if os.Geteuid() != 0 {
		return "needs root (pcscd, network and mount namespaces); run the tests as root to exercise pcscd + vpcd"
	}
	var gone []string
	for _, tool := range []string{"unshare", "ip", "mount", "sh", "env"} {
		if _, err := exec.LookPath(tool); err != nil {
			gone = append(gone, tool)
		}
	}
	if pcscdPath() == "" {
		gone = append(gone, "pcscd (apt-get install pcscd)")
	}
	for _, f := range []string{vpcdDriver, vpcdConf} {
		if _, err := os.Stat(f); err != nil {
			gone = append(gone, f+" (apt-get install vsmartcard-vpcd)")
		}
	}
	if len(gone) > 0 {
		return "missing " + strings.Join(gone, ", ")
	}
	return ""
}

// runPattern is a -test.run pattern that matches exactly the test name
// (subtest levels are separated by '/').
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// pcscdPath finds pcscd (it is in /usr/sbin, which a test's PATH may
// lack).
func pcscdPath() string {
	if p, err := exec.LookPath("pcscd"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/pcscd"); err == nil {
		return "/usr/sbin/pcscd"
	}
	return ""
}

// PCSCD is a pcscd that a test started in its namespaces.
type PCSCD struct {
	logPath   string
	emptyConf string // an empty reader configuration directory
	cmd       *exec.Cmd
	exited    chan struct{} // closed when cmd has exited
	waitErr   error         // cmd.Wait's result, once exited is closed
}

// StartPCSCD starts `pcscd -f -a` (foreground, APDU log) inside the
// namespaces of EnterNetns and returns once pcscd accepts clients and
// vpcd listens for the card of its first slot (VPCDAddr). t.Cleanup stops
// it and, if the test failed, prints its log.
func StartPCSCD(t *testing.T) *PCSCD {
	t.Helper()
	if !InNetns() {
		t.Fatal("pcsctest: StartPCSCD outside the namespaces: call EnterNetns first")
	}
	p := &PCSCD{logPath: t.TempDir() + "/pcscd.log"}
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("pcscd log (%s):\n%s", p.logPath, tail(p.Log(), 200))
		}
	})
	p.start(t, false)
	return p
}

// Kill kills pcscd with SIGKILL, as a crash would, and waits until it is
// gone. Its stale socket stays, and vpcd's cards see their connection
// closed.
func (p *PCSCD) Kill(t *testing.T) {
	t.Helper()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
	p.cmd = nil
}

// Restart starts pcscd again (killing it first if it runs) and waits until
// it is ready, as StartPCSCD does.
func (p *PCSCD) Restart(t *testing.T) {
	t.Helper()
	p.Kill(t)
	p.start(t, false)
}

// RestartWithoutReaders starts pcscd again (killing it first if it runs)
// with an empty reader configuration: pcscd runs but has no reader, as
// when the reader is unplugged. Restart brings the vpcd readers back.
func (p *PCSCD) RestartWithoutReaders(t *testing.T) {
	t.Helper()
	p.Kill(t)
	p.start(t, true)
}

// Pid returns the process id of the running pcscd, 0 when none runs.
func (p *PCSCD) Pid() int {
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Log returns pcscd's output so far (all its runs).
func (p *PCSCD) Log() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// start starts pcscd, with vpcd's readers or with none.
func (p *PCSCD) start(t *testing.T, noReaders bool) {
	t.Helper()
	// A killed pcscd leaves its socket and pid file behind; this
	// /run/pcscd is the test's own tmpfs, so clear them.
	_ = os.Remove(SocketPath)
	_ = os.Remove("/run/pcscd/pcscd.pid")
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "=== pcscd start %s\n", time.Now().Format(time.RFC3339Nano))
	args := []string{"-f", "-a"}
	if os.Getenv("TAGD_PCSCD_DEBUG") == "1" {
		args = append(args, "-d")
	}
	if noReaders {
		if p.emptyConf == "" {
			p.emptyConf = t.TempDir()
		}
		args = append(args, "-c", p.emptyConf) // instead of /etc/reader.conf.d
	}
	cmd := exec.Command(pcscdPath(), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// pcscd must not outlive the test binary (it would keep the
	// namespaces alive).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("pcsctest: start pcscd: %v", err)
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	exited := p.exited
	go func() {
		p.waitErr = cmd.Wait()
		close(exited)
	}()
	// pcscd has no readiness notification outside systemd, so poll for
	// the two things a test needs, with a deadline: its socket accepting
	// connections, and vpcd's listener for slot 0 (which also means that
	// pcscd has its readers: it starts them before it opens its socket).
	deadline := time.Now().Add(startTimeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if socketReady() && (noReaders || listening(VPCDAddr)) {
			return
		}
		select {
		case <-exited:
			p.cmd = nil
			t.Fatalf("pcsctest: pcscd exited at start (%v):\n%s", p.waitErr, tail(p.Log(), 50))
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pcsctest: pcscd not ready after %v (socket %v, vpcd listening %v):\n%s",
				startTimeout, socketReady(), listening(VPCDAddr), tail(p.Log(), 50))
		}
	}
}

// stop ends pcscd gracefully (SIGTERM lets it clean up), or kills it.
func (p *PCSCD) stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-p.exited:
	case <-t.C:
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
	}
	p.cmd = nil
}

// socketReady reports whether pcscd accepts connections on its socket.
func socketReady() bool {
	c, err := net.Dial("unix", SocketPath)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// listening reports whether a TCP socket of this network namespace
// listens on addr's port, from /proc/net/tcp{,6}. Connecting to vpcd to
// find out would insert a card.
func listening(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	var n int
	if _, err := fmt.Sscan(port, &n); err != nil {
		return false
	}
	want := fmt.Sprintf(":%04X", n)
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return false
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			// sl local_address rem_address st …; st 0A is LISTEN.
			fields := strings.Fields(line)
			if len(fields) > 3 && strings.HasSuffix(fields[1], want) && fields[3] == "0A" {
				return true
			}
		}
	}
	return false
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[… %d lines]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

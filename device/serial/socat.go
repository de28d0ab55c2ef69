package serial

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ErrNoSocat: the socat program is not installed (apt-get install socat).
var ErrNoSocat = errors.New("serial: socat not found")

// PTYPair is a socat process joining two pseudo-terminals (raw, no
// echo), reachable through two symlinks: a stand-in for a serial cable
// between the appliance (HostPath) and a simulated reader (SimPath), for
// tests and demos (research/readers.md §3.2).
type PTYPair struct {
	HostPath string // DIR/host: the appliance's end
	SimPath  string // DIR/sim: the simulated reader's end
	cmd      *exec.Cmd
	exited   chan struct{}
}

// StartPTYPair starts `socat -d -d pty,raw,echo=0,link=DIR/host
// pty,raw,echo=0,link=DIR/sim` and returns once socat reports its data
// loop running and both links exist, or ctx is done. It returns
// ErrNoSocat when socat is missing.
func StartPTYPair(ctx context.Context, dir string) (*PTYPair, error) {
	p := &PTYPair{HostPath: filepath.Join(dir, "host"), SimPath: filepath.Join(dir, "sim")}
	return p, p.start(ctx)
}

// Restart stops socat and starts it again on the same links (the ends
// held open so far see a hang-up).
func (p *PTYPair) Restart(ctx context.Context) error {
	p.Stop()
	return p.start(ctx)
}

// Stop terminates socat (SIGTERM, then SIGKILL after a second) and
// removes the links.
func (p *PTYPair) Stop() error {
	if p.cmd == nil {
		return nil
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
	p.cmd = nil
	os.Remove(p.HostPath)
	os.Remove(p.SimPath)
	return nil
}

// start runs socat and waits for it to be ready.
func (p *PTYPair) start(ctx context.Context) error {
	bin, err := exec.LookPath("socat")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoSocat, err)
	}
	os.Remove(p.HostPath)
	os.Remove(p.SimPath)
	cmd := exec.Command(bin, "-d", "-d",
		"pty,raw,echo=0,link="+p.HostPath, "pty,raw,echo=0,link="+p.SimPath)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("serial: start socat: %w", err)
	}
	ready := make(chan struct{})
	exited := make(chan struct{})
	var log strings.Builder
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stderr)
		started := false
		for sc.Scan() {
			if log.Len() < 4096 {
				log.WriteString(sc.Text() + "\n")
			}
			if !started && strings.Contains(sc.Text(), "starting data transfer loop") {
				started = true
				close(ready)
			}
		}
		cmd.Wait()
	}()
	p.cmd, p.exited = cmd, exited
	select {
	case <-ready:
	case <-exited:
		p.cmd = nil
		return fmt.Errorf("serial: socat exited: %s", log.String())
	case <-ctx.Done():
		p.Stop()
		return fmt.Errorf("serial: socat not ready: %w", ctx.Err())
	}
	for _, l := range []string{p.HostPath, p.SimPath} {
		if _, err := os.Stat(l); err != nil {
			p.Stop()
			return fmt.Errorf("serial: socat ready but %w", err)
		}
	}
	return nil
}

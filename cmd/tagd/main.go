// Command tagd is the tagd appliance: it verifies NTAG 424 DNA SUN messages
// offline and, in later versions, runs the reader loop, the kiosk and the
// ixkio-compatible API. This file holds Main, the wiring that tests drive
// in-process and that main() drives from the command line.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Exit codes shared by every subcommand.
const (
	exitOK      = 0
	exitInvalid = 1 // the check ran and failed
	exitUsage   = 2 // the command line was wrong
)

// exitError carries an exit code out of Run; its message, if any, has
// already been printed or is printed by main.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// usageErr returns a usage error (exit code 2) naming what was wrong.
func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, msg: fmt.Sprintf(format, args...)}
}

// command is one subcommand: it parses its flags, then runs.
type command interface {
	parse(args []string) error
	run(ctx context.Context) error
}

// Main is the program: ParseFlags picks and configures a subcommand, Run
// runs it, Close releases what it holds.
type Main struct {
	Stdout io.Writer
	Stderr io.Writer
	// Ready, if set, is closed by `tagd run` once it serves.
	Ready chan struct{}

	name string
	cmd  command
}

// NewMain returns a Main writing to the process's stdout and stderr.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr}
}

// ParseFlags selects the subcommand named by args[0] and parses its flags.
func (m *Main) ParseFlags(args []string) error {
	if len(args) == 0 {
		return usageErr("usage: tagd run|init|scans|verify|keys|version …  (tagd help for more)")
	}
	m.name = args[0]
	switch args[0] {
	case "verify":
		m.cmd = &verifyCmd{out: m.Stdout}
	case "keys":
		if len(args) < 2 || args[1] != "derive" {
			return usageErr("usage: tagd keys derive --scheme an10922|sdm-standard|sdm-legacy|boltcard --master HEX [...]")
		}
		m.name = "keys derive"
		m.cmd = &deriveCmd{out: m.Stdout}
		args = args[1:]
	case "run":
		m.cmd = &runCmd{out: m.Stdout, errOut: m.Stderr, ready: m.Ready}
	case "init":
		m.cmd = &initCmd{out: m.Stdout}
	case "scans":
		m.cmd = &scansCmd{out: m.Stdout}
	case "backup":
		m.cmd = &backupCmd{out: m.Stdout}
	case "restore":
		m.cmd = &restoreCmd{out: m.Stdout}
	case "import":
		m.cmd = &importCmd{out: m.Stdout}
	case "apikey":
		m.cmd = &apiKeyCmd{out: m.Stdout}
	case "sim-card":
		m.cmd = &simCardCmd{out: m.Stdout}
	case "version", "--version":
		m.cmd = &versionCmd{out: m.Stdout}
	case "help", "-h", "--help":
		m.cmd = &helpCmd{out: m.Stdout}
	default:
		return usageErr("unknown command %q (want run, init, scans, import, apikey, backup, restore, sim-card, verify, keys derive, version or help)", args[0])
	}
	if err := m.cmd.parse(args[1:]); err != nil {
		var ee *exitError
		if errors.As(err, &ee) && ee.msg != "" {
			ee.msg = "tagd " + m.name + ": " + ee.msg
		}
		return err
	}
	return nil
}

// Run runs the selected subcommand.
func (m *Main) Run(ctx context.Context) error {
	return m.cmd.run(ctx)
}

// Close releases the subcommand's resources. The current subcommands hold
// none between calls.
func (m *Main) Close() error { return nil }

// exitCode maps an error from ParseFlags or Run to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitInvalid
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	err := m.ParseFlags(os.Args[1:])
	if err == nil {
		err = m.Run(ctx)
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil && err.Error() != "" {
		fmt.Fprintln(m.Stderr, err)
	}
	os.Exit(exitCode(err))
}

// versionCmd prints the version.
type versionCmd struct{ out io.Writer }

func (c *versionCmd) parse(args []string) error {
	if len(args) > 0 {
		return usageErr("version takes no arguments")
	}
	return nil
}

func (c *versionCmd) run(context.Context) error {
	_, err := fmt.Fprintf(c.out, "tagd %s\n", version)
	return err
}

// helpCmd prints the command summary.
type helpCmd struct{ out io.Writer }

func (c *helpCmd) parse([]string) error { return nil }

func (c *helpCmd) run(context.Context) error {
	_, err := io.WriteString(c.out, `tagd — NFC tag authentication appliance

  tagd run [--data DIR] [--demo] [--http ADDR] [--https ADDR] [--config FILE]
                                the appliance (initialises DIR on first start)
  tagd init [--data DIR]        database, key-encryption key, TLS certificate; prints the first admin API key
  tagd scans [--data DIR] [--last N] [--json|--csv] [--xuid X] [--uid U] [--aid A] [--source S]
             [--verdict pass|fail|none] [--reason CODE] [--since T] [--until T] [--before SEQ]
                                the scan log, newest first
  tagd apikey create --name NAME [--scope S]... [--expires DATE] [--allow-ip CIDR]... [--json]
  tagd apikey list|disable|enable|delete|rotate [ID] [--json]   API keys (a new key is shown once)
  tagd sim-card [--vpcd HOST:PORT] [--demo] [--taps N]   a virtual NTAG 424 DNA tapping on pcscd via vpcd
  tagd import tags FILE.csv --batch ID | tagd import keys FILE.csv   [--data DIR]
  tagd backup FILE | tagd restore FILE   [--data DIR]   (a restore rolls everything back to the backup, counters too)
  tagd verify [flags] [URL]     stateless SUN check, prints one JSON object (exit 0 valid, 1 invalid, 2 usage)
  tagd keys derive --scheme S --master HEX [--uid HEX] [--key-no N] [--aid HEX --system-id HEX] [--version N]
  tagd version

Run "tagd verify -h" or "tagd keys derive -h" for their flags. docs/SUN-PROFILES.md explains them.
`)
	return err
}

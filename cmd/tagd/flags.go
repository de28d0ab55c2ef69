package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tagd-nfc/tagd/sun"
)

// flagSet is a flag set that reports errors instead of exiting, names the
// flag in every error and never echoes a value (values may be keys).
type flagSet struct {
	*flag.FlagSet
	badFlag, badReason string
	args               []string // positional arguments, wherever they stood
}

// newFlagSet returns an empty flagSet.
func newFlagSet(name string) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError)}
	fs.SetOutput(io.Discard)
	return fs
}

// Var defines a flag whose Set errors are recorded with the flag's name.
func (fs *flagSet) Var(v flag.Value, name, usage string) {
	fs.FlagSet.Var(&namedValue{Value: v, fs: fs, name: name}, name, usage)
}

// namedValue records which flag failed to parse and why.
type namedValue struct {
	flag.Value
	fs   *flagSet
	name string
}

// String returns the wrapped value's default text ("" for the zero
// namedValue that flag.PrintDefaults makes to find defaults).
func (n *namedValue) String() string {
	if n == nil || n.Value == nil {
		return ""
	}
	return n.Value.String()
}

// Set sets the value, recording a failure for the error message.
func (n *namedValue) Set(s string) error {
	err := n.Value.Set(s)
	if err != nil {
		n.fs.badFlag, n.fs.badReason = n.name, err.Error()
	}
	return err
}

// parseFlagSet parses args, turning flag errors into usage errors that name
// the flag, and -h into the flag summary.
func parseFlagSet(fs *flagSet, args []string) error {
	err := fs.Parse(args)
	for err == nil && fs.NArg() > 0 {
		rest := fs.Args()
		if rest[0] == "--" {
			fs.args = append(fs.args, rest[1:]...)
			break
		}
		fs.args = append(fs.args, rest[0])
		err = fs.Parse(rest[1:])
	}
	if err != nil && fs.badFlag != "" {
		return usageErr("--%s: %s", fs.badFlag, fs.badReason)
	}
	if errors.Is(err, flag.ErrHelp) {
		var b strings.Builder
		fmt.Fprintf(&b, "usage of tagd %s:\n", fs.Name())
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		return &exitError{code: exitUsage, msg: b.String()}
	}
	if err != nil {
		return usageErr("%v", err)
	}
	return nil
}

// hexFlag is a flag holding hex bytes, checked when parsed so that the
// error names the flag.
type hexFlag struct {
	b   []byte
	set bool
}

func (h *hexFlag) String() string { return "" } // never print values: they may be keys

// Set decodes the value; it reports the problem without echoing the value.
func (h *hexFlag) Set(s string) error {
	b, err := sun.DecodeHex("", strings.TrimSpace(s))
	if err != nil {
		var se *sun.Error
		if errors.As(err, &se) {
			return errors.New(se.Message)
		}
		return err
	}
	h.b, h.set = b, true
	return nil
}

// keyFlag is a hexFlag for an AES-128 key: exactly 16 bytes.
type keyFlag struct{ hexFlag }

// Set decodes a 32-hex-character key.
func (k *keyFlag) Set(s string) error {
	if err := k.hexFlag.Set(s); err != nil {
		return err
	}
	if len(k.b) != 16 {
		return fmt.Errorf("key is %d bytes, want 16 (32 hex characters)", len(k.b))
	}
	return nil
}

// optUint is an optional unsigned integer flag.
type optUint struct {
	v   uint64
	set bool
	max uint64
}

func (o *optUint) String() string {
	if !o.set {
		return ""
	}
	return strconv.FormatUint(o.v, 10)
}

// Set parses a decimal number up to max.
func (o *optUint) Set(s string) error {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > o.max {
		return fmt.Errorf("want a whole number from 0 to %d", o.max)
	}
	o.v, o.set = v, true
	return nil
}

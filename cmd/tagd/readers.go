package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tagd-nfc/tagd"
	"github.com/tagd-nfc/tagd/device"
	"github.com/tagd-nfc/tagd/device/pcsc"
	"github.com/tagd-nfc/tagd/device/pn532"
	"github.com/tagd-nfc/tagd/device/serial"
	"github.com/tagd-nfc/tagd/device/sim"
	"github.com/tagd-nfc/tagd/store"
	"github.com/tagd-nfc/tagd/sun"
)

// pcscdSocket is where pcscd listens.
const pcscdSocket = "/run/pcscd/pcscd.comm"

// hasPCSCReader reports whether pcscd is there with a reader. Asking
// pcscd starts it when it is socket-activated, so the socket is checked
// first.
func (r *readers) hasPCSCReader() bool {
	if _, err := os.Stat(pcscdSocket); err != nil {
		return false
	}
	return pcsc.HasReader(r.spec.name)
}

// readerSpec is a parsed --reader value.
type readerSpec struct {
	kind string // auto, pcsc, serial, sim, none
	name string // pcsc: reader-name substring
	dev  string // serial: device path
	line bool   // serial: a line reader instead of a PN532
	baud int    // serial: baud rate
}

// parseReaderSpec parses auto | pcsc[:NAME] | serial:DEV[,line][,baud=N] |
// sim | none.
func parseReaderSpec(s string) (readerSpec, error) {
	kind, arg, _ := strings.Cut(s, ":")
	r := readerSpec{kind: kind, baud: 115200}
	switch kind {
	case "", "auto":
		r.kind = "auto"
	case "none", "sim":
		if arg != "" {
			return r, fmt.Errorf("%q takes no argument", kind)
		}
	case "pcsc":
		r.name = arg
	case "serial":
		parts := strings.Split(arg, ",")
		r.dev = parts[0]
		if r.dev == "" {
			return r, errors.New("serial needs a device, e.g. serial:/dev/serial0")
		}
		for _, p := range parts[1:] {
			switch {
			case p == "line":
				r.line = true
			case strings.HasPrefix(p, "baud="):
				n, err := strconv.Atoi(p[5:])
				if err != nil || n <= 0 {
					return r, fmt.Errorf("serial option %q: want baud=NUMBER", p)
				}
				r.baud = n
			default:
				return r, fmt.Errorf("serial option %q: want line or baud=N", p)
			}
		}
		if !r.line && r.baud != 115200 {
			return r, errors.New("a PN532 speaks HSU at 115200 baud")
		}
	default:
		return r, fmt.Errorf("%q: want auto, pcsc[:NAME], serial:DEV[,line][,baud=N], sim or none", s)
	}
	return r, nil
}

// readers runs the reader loop of `tagd run`.
type readers struct {
	spec    readerSpec
	demo    bool
	logger  *slog.Logger
	checker *tagd.Checker
	events  *tagd.Events
	db      *store.DB
	now     func() time.Time
	demoGap time.Duration // pause between demo taps (default 8 s)
	// noDemoTaps keeps the simulated reader quiet under --demo.
	noDemoTaps bool

	loop *device.Loop
	sim  *sim.Reader // the simulated reader, when kind is sim
}

// open builds the driver for the spec. auto uses PC/SC when pcscd has a
// reader, else, under --demo, the simulated reader with demo taps, else
// PC/SC anyway (the loop retries until pcscd and a reader appear).
func (r *readers) open(ctx context.Context) (device.Driver, device.LineSource, error) {
	kind := r.spec.kind
	if kind == "auto" {
		kind = "pcsc"
		if r.demo && !r.hasPCSCReader() {
			kind = "sim"
		}
	}
	switch kind {
	case "none":
		return nil, nil, nil
	case "sim":
		r.sim = sim.NewReader("sim")
		return r.sim, nil, nil
	case "pcsc":
		d, err := pcsc.Open(pcsc.Options{Name: r.spec.name, Logger: r.logger, Now: r.now})
		return d, nil, err
	default: // serial
		if r.spec.line {
			dev, baud := r.spec.dev, r.spec.baud
			return nil, serial.NewLines(dev, func() (serial.LinePort, error) { return serial.Open(dev, baud) }), nil
		}
		dev := r.spec.dev
		return pn532.New(pn532.Config{Name: "PN532 " + dev, Open: func() (pn532.Port, error) { return serial.Open(dev, 115200) }}), nil, nil
	}
}

// run runs the reader loop (and, for the simulated reader under --demo, a
// gentle stream of demo taps) until ctx ends.
func (r *readers) run(ctx context.Context) error {
	drv, lines, err := r.open(ctx)
	if err != nil {
		// The appliance still answers the API; the kiosk shows the fault.
		now := r.now()
		r.logger.Error("reader", "spec", r.spec.kind, "err", err)
		r.events.Publish(tagd.Event{Kind: tagd.EventReader, Time: now, Reader: &tagd.ReaderStatus{Reader: r.spec.kind, State: tagd.ReaderError, Detail: err.Error(), Since: now}})
		<-ctx.Done()
		return nil
	}
	if drv == nil && lines == nil {
		now := r.now()
		r.events.Publish(tagd.Event{Kind: tagd.EventReader, Time: now, Reader: &tagd.ReaderStatus{Reader: "none", State: tagd.ReaderNone, Since: now}})
		<-ctx.Done()
		return nil
	}
	r.loop = &device.Loop{Driver: drv, Lines: lines, Now: r.now, Logger: r.logger, OnTap: r.tap,
		OnStatus: func(st tagd.ReaderStatus) {
			r.events.Publish(tagd.Event{Kind: tagd.EventReader, Time: r.now(), Reader: &st})
		}}
	demoDone := make(chan error, 1)
	if r.sim != nil && r.demo && !r.noDemoTaps {
		cards, err := r.demoCards(ctx)
		if err != nil {
			return err
		}
		go func() { demoDone <- sim.DemoTaps(ctx, r.sim, cards, r.demoGap, nil) }()
	} else {
		demoDone <- nil
	}
	err = r.loop.Run(ctx)
	if drv != nil {
		drv.Close()
	}
	if lines != nil {
		lines.Close()
	}
	if derr := <-demoDone; err == nil && derr != nil && !errors.Is(derr, context.Canceled) {
		err = derr
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// tap runs a tap through the check flow and publishes the verdict.
func (r *readers) tap(ctx context.Context, t device.Tap) {
	req := tagd.Request{Source: "reader:" + t.Reader, RawURL: t.URL, TagUID: t.UID, Time: t.Time}
	if t.URL != "" {
		req.Lookup = tagd.LookupFromURL(t.URL)
	}
	res, err := r.checker.Check(ctx, req)
	if err != nil {
		r.logger.Error("tap check failed", "reader", t.Reader, "err", err)
		res = tagd.Result{Error: tagd.ErrInternal}
	}
	r.events.Publish(tagd.Event{Kind: tagd.EventTap, Time: r.now(), Result: &res})
}

// demoCards are the virtual tags of the demo taps: three genuine demo
// tags, whose counters continue from what the store last accepted (so a
// restart does not replay), and one forged card (the UID of demo0004 with
// a wrong file key) that shows a failed check.
func (r *readers) demoCards(ctx context.Context) ([]sim.APDUHandler, error) {
	var cards []sim.APDUHandler
	for _, t := range demoSimTags()[:3] {
		var ctr uint32
		if st, err := r.db.Tag(ctx, t.XUID); err == nil && st.HasCounter {
			ctr = st.LastCounter
		}
		c, err := sim.NewDemoCard(t.UID, "", ctr)
		if err != nil {
			return nil, err
		}
		cards = append(cards, c)
	}
	uid, err := hex.DecodeString(demoSimTags()[3].UID)
	if err != nil {
		return nil, err
	}
	forged, err := sim.NewNTAG424(sim.NTAG424Config{Mode: sun.ModeAES, MetaKey: make([]byte, 16), FileKey: bytes.Repeat([]byte{0x42}, 16),
		UID: uid, URL: sim.DemoURL})
	if err != nil {
		return nil, err
	}
	return append(cards, forged), nil
}

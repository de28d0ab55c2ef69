package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/tagd-nfc/tagd/device/sim"
	"github.com/tagd-nfc/tagd/sun"
)

// simCardCmd is `tagd sim-card`: a virtual NTAG 424 DNA that taps on a
// real pcscd through vsmartcard's vpcd (inserted = connected to vpcd,
// removed = disconnected), for demos and tests without hardware.
type simCardCmd struct {
	out              io.Writer
	vpcd             string
	demo             bool
	uid              hexFlag
	metaKey, fileKey keyFlag
	mode             sun.Mode
	url              string
	counter          optUint
	taps             int
	hold, gap        time.Duration
}

func (c *simCardCmd) parse(args []string) error {
	fs := newFlagSet("sim-card")
	fs.StringVar(&c.vpcd, "vpcd", sim.DefaultVPCDAddr, "vpcd address (HOST:PORT) of the virtual reader slot")
	fs.BoolVar(&c.demo, "demo", false, "tap the demo tags in turn (factory all-zero keys)")
	fs.Var(&c.uid, "uid", "UID of the card, 14 hex characters (default: the first demo tag's)")
	fs.Var(&c.metaKey, "meta-key", "SDMMetaReadKey (default all-zero)")
	fs.Var(&c.fileKey, "file-key", "SDMFileReadKey (default all-zero)")
	mode := fs.String("mode", "aes", "aes or lrp")
	fs.StringVar(&c.url, "url", sim.DemoURL, "URL template ({picc}, {mac}, {uid}, {ctr})")
	c.counter.max = 0xFFFFFE
	fs.Var(&c.counter, "counter", "SDMReadCtr before the first tap (default 0)")
	fs.IntVar(&c.taps, "taps", 3, "number of taps (0: until interrupted)")
	fs.DurationVar(&c.hold, "hold", 800*time.Millisecond, "how long each tap holds the card (pcscd polls every 400 ms)")
	fs.DurationVar(&c.gap, "gap", 800*time.Millisecond, "pause between taps")
	if err := parseFlagSet(fs, args); err != nil {
		return err
	}
	if len(fs.args) > 0 {
		return usageErr("unexpected argument %q", fs.args[0])
	}
	var err error
	if c.mode, err = sun.ParseMode(*mode); err != nil || c.mode == sun.ModeAuto {
		return usageErr("--mode: want aes or lrp")
	}
	if c.uid.set && len(c.uid.b) != 7 {
		return usageErr("--uid: want 7 bytes (14 hex characters), got %d", len(c.uid.b))
	}
	if c.demo && (c.uid.set || c.metaKey.set || c.fileKey.set) {
		return usageErr("--demo taps the demo tags with their own UIDs and keys; do not combine it with --uid or keys")
	}
	if c.taps < 0 || c.hold <= 0 || c.gap < 0 {
		return usageErr("--taps, --hold and --gap must not be negative (and --hold > 0)")
	}
	return nil
}

// cards returns the virtual cards to tap in turn.
func (c *simCardCmd) cards() ([]*sim.NTAG424, error) {
	key := func(k keyFlag) []byte {
		if k.set {
			return k.b
		}
		return make([]byte, 16)
	}
	if c.demo {
		var cards []*sim.NTAG424
		for _, t := range demoSimTags()[:3] {
			card, err := sim.NewDemoCard(t.UID, c.url, uint32(c.counter.v))
			if err != nil {
				return nil, err
			}
			cards = append(cards, card)
		}
		return cards, nil
	}
	uid := c.uid.b
	if !c.uid.set {
		uid = mustDecodeHex(demoSimTags()[0].UID)
	}
	card, err := sim.NewNTAG424(sim.NTAG424Config{Mode: c.mode, MetaKey: key(c.metaKey), FileKey: key(c.fileKey), UID: uid, URL: c.url, Counter: uint32(c.counter.v)})
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return []*sim.NTAG424{card}, nil
}

func (c *simCardCmd) run(ctx context.Context) error {
	cards, err := c.cards()
	if err != nil {
		return err
	}
	for i := 0; c.taps == 0 || i < c.taps; i++ {
		card := cards[i%len(cards)]
		conn, err := sim.ConnectVPCD(ctx, c.vpcd, card)
		if err != nil {
			return fmt.Errorf("tap %d: %w (is pcscd running with vsmartcard-vpcd?)", i+1, err)
		}
		held := wait(ctx, c.hold)
		conn.Close()
		fmt.Fprintf(c.out, "tap %d: uid %X counter %d\n", i+1, card.UID(), card.Counter())
		if !held || !wait(ctx, c.gap) {
			return nil
		}
	}
	return nil
}

// wait pauses for d, or until ctx ends (false).
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// mustDecodeHex decodes a hex constant of this program.
func mustDecodeHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

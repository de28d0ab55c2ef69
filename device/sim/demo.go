package sim

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/tagd-nfc/tagd/sun"
)

// DemoURL is the URL template of the demo cards: encrypted PICCData and a
// MAC over empty input, with the parameter names of the demo profile.
const DemoURL = "https://tagd.local/t?picc_data={picc}&cmac={mac}"

// NewDemoCard returns a virtual NTAG 424 DNA with factory (all-zero) keys
// in AES mode, the UID uidHex (14 hex digits), the URL template tmpl
// (DemoURL when empty) and SDMReadCtr counter.
func NewDemoCard(uidHex, tmpl string, counter uint32) (*NTAG424, error) {
	uid, err := hex.DecodeString(uidHex)
	if err != nil {
		return nil, fmt.Errorf("sim: demo UID %q: %w", uidHex, err)
	}
	if tmpl == "" {
		tmpl = DemoURL
	}
	zero := make([]byte, 16)
	return NewNTAG424(NTAG424Config{Mode: sun.ModeAES, MetaKey: zero, FileKey: zero, UID: uid, URL: tmpl, Counter: counter})
}

// DemoTaps is a gentle stream of demo taps: it presents each card in turn
// on r for a moment (every/2, at most a second), removes it, and presents
// the next one every period, until ctx ends; it then removes the card in
// the field and returns nil. after is the timer (time.After when nil).
func DemoTaps(ctx context.Context, r *Reader, cards []APDUHandler, every time.Duration, after func(time.Duration) <-chan time.Time) error {
	if len(cards) == 0 {
		return errors.New("sim: DemoTaps without cards")
	}
	if every <= 0 {
		return fmt.Errorf("sim: DemoTaps period %v", every)
	}
	if after == nil {
		after = time.After
	}
	hold := min(every/2, time.Second)
	defer r.Remove()
	wait := func(d time.Duration) bool {
		select {
		case <-after(d):
			return true
		case <-ctx.Done():
			return false
		}
	}
	for i := 0; ; i = (i + 1) % len(cards) {
		if !wait(every - hold) {
			return nil
		}
		r.Present(cards[i])
		if !wait(hold) {
			return nil
		}
		r.Remove()
	}
}

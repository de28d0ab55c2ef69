package device

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestReadType4(t *testing.T) {
	ctx := context.Background()
	msg := uriRecord(0x04, "shop.example/t?x=1")
	c := &scriptCard{steps: type4Script(factoryCC, msg, 0xF0)}
	got, err := ReadType4(ctx, c)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("ReadType4: % X %v", got, err)
	}
	if len(c.sent) != 6 {
		t.Errorf("%d APDUs, want 6", len(c.sent))
	}

	// A long message in chunks of min(MLe, F0); the file ID and size come
	// from the CC.
	long := uriRecord(0x04, strings.Repeat("a", 600))
	cc := append([]byte(nil), factoryCC...)
	copy(cc[9:], []byte{0x00, 0x01, 0x04, 0x00}) // file 0001, 1024 bytes
	c = &scriptCard{steps: type4Script(cc, long, 0xF0)}
	if got, err := ReadType4(ctx, c); err != nil || !bytes.Equal(got, long) {
		t.Fatalf("long: %v", err)
	}
	if n := len(c.sent) - 5; n != 3 {
		t.Errorf("long: %d chunks, want 3", n)
	}
	cc[3], cc[4] = 0x00, 0x20 // MLe 32
	c = &scriptCard{steps: type4Script(cc, long, 0x20)}
	if _, err := ReadType4(ctx, c); err != nil {
		t.Fatalf("MLe 32: %v", err)
	}
	// The NLEN read and the body reads follow each other with nothing in
	// between: everything after the NDEF SELECT is READ BINARY.
	for _, a := range c.sent[4:] {
		if a[1] != 0xB0 {
			t.Fatalf("command % X between NDEF reads", a)
		}
	}

}

func TestReadType4Errors(t *testing.T) {
	ctx := context.Background()
	msg := uriRecord(0x04, "shop.example/t?x=1")
	ops := []string{"select NDEF application", "select capability container", "read capability container", "select NDEF file", "read NLEN", "read NDEF message"}
	for i, op := range ops {
		for _, s := range []uint16{SWNotFound, SWWrongP1P2, SWWrongLength, SWSecurity, SWNoEFSelected, SWOffsetBeyondFile, SWINSNotSupported, SWCLANotSupported, 0x6F00, 0x91AE} {
			steps := type4Script(factoryCC, msg, 0xF0)
			steps[i].resp = resp(s)
			_, err := ReadType4(ctx, &scriptCard{steps: steps})
			var se *SWError
			if !errors.As(err, &se) || se.SW != s || se.Op != op {
				t.Errorf("%s %04X: %v", op, s, err)
				continue
			}
			if !errors.Is(err, &SWError{SW: s}) || errors.Is(err, &SWError{SW: s, Op: "other"}) {
				t.Errorf("%s %04X: errors.Is", op, s)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%04X", s)) || !strings.Contains(err.Error(), op) {
				t.Errorf("message %q", err)
			}
		}
		// vpcd answers nothing (or one byte) when the card is yanked.
		for _, r := range [][]byte{nil, {0x90}} {
			steps := type4Script(factoryCC, msg, 0xF0)
			steps[i].resp = r
			if _, err := ReadType4(ctx, &scriptCard{steps: steps}); !errors.Is(err, ErrCardLeft) || !strings.Contains(err.Error(), "card left during the exchange") {
				t.Errorf("%s: short answer % X: %v", op, r, err)
			}
		}
		// A transport error is wrapped with the step.
		steps := type4Script(factoryCC, msg, 0xF0)[:i]
		boom := errors.New("boom")
		if _, err := ReadType4(ctx, &scriptCard{steps: steps, fail: boom}); !errors.Is(err, boom) || !strings.Contains(err.Error(), op) {
			t.Errorf("%s: transport error: %v", op, err)
		}
	}
	if e := (&SWError{SW: SWNotFound, Op: "select NDEF application"}).Error(); !strings.Contains(e, "not found") {
		t.Errorf("6A82 text: %q", e)
	}

	for _, tc := range []struct {
		name string
		edit func([]step)
		want string
	}{
		{"NLEN 0", func(s []step) { s[4].resp = resp(SWOK, 0, 0) }, "no NDEF message"},
		{"NLEN too big", func(s []step) { s[4].resp = resp(SWOK, 0x00, 0xFF) }, "exceeds the NDEF file size"},
		{"NLEN 1 byte", func(s []step) { s[4].resp = resp(SWOK, 0x00) }, "read NLEN"},
		{"data on select", func(s []step) { s[0].resp = resp(SWOK, 0x6F, 0x00) }, "unexpected data"},
		{"too much data", func(s []step) { s[5].resp = resp(SWOK, append(msg, 0)...) }, "unexpected data"},
		{"no data", func(s []step) { s[5].resp = resp(SWOK) }, "0 bytes for Le"},
		{"short chunk", func(s []step) { s[5].resp = resp(SWOK, msg[:10]...) }, "10 bytes for Le"},
		{"bad CC", func(s []step) { s[2].resp = resp(SWOK, make([]byte, 15)...) }, "capability container"},
		{"short CC", func(s []step) { s[2].resp = resp(SWOK, factoryCC[:8]...) }, "capability container"},
	} {
		steps := type4Script(factoryCC, msg, 0xF0)
		tc.edit(steps)
		_, err := ReadType4(ctx, &scriptCard{steps: steps})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := ReadType4(cctx, &scriptCard{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

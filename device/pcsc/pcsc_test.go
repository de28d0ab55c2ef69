package pcsc

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ebfe/scard"
	"github.com/tagd-nfc/tagd/device"
)

func TestPCSC_ChooseReader(t *testing.T) {
	acr1252 := []string{
		"ACS ACR1252 Dual Reader [ACR1252 Dual Reader SAM] 00 00",
		"ACS ACR1252 Dual Reader [ACR1252 Dual Reader PICC] 00 01",
	}
	for _, tc := range []struct {
		names []string
		want  string
		got   string
	}{
		{nil, "", ""},
		{nil, "PICC", ""},
		{acr1252, "", acr1252[1]},
		{acr1252, "sam", acr1252[0]},
		{acr1252, "nope", ""},
		{[]string{"Alcor Micro AU9540 00 00", "Virtual PCD 00 00", "Virtual PCD 00 01"}, "", "Virtual PCD 00 00"},
		{[]string{"Virtual PCD 00 00", "Virtual PCD 00 01"}, "virtual pcd 00 01", "Virtual PCD 00 01"},
		{[]string{"Identiv uTrust 3700 F CL Reader [CCID Interface] 00 00"}, "", "Identiv uTrust 3700 F CL Reader [CCID Interface] 00 00"},
		{[]string{"ACS ACR122U PICC Interface 00 00"}, "", "ACS ACR122U PICC Interface 00 00"},
		// No name looks contactless: the first reader is better than none.
		{[]string{"Alcor Micro AU9540 00 00", "Gemalto USB Shell Token V2 00 00"}, "", "Alcor Micro AU9540 00 00"},
	} {
		if got := chooseReader(tc.names, tc.want); got != tc.got {
			t.Errorf("chooseReader(%q, %q) = %q, want %q", tc.names, tc.want, got, tc.got)
		}
	}
}

func TestPCSC_IsTap(t *testing.T) {
	const (
		unaware = scard.StateUnaware
		empty   = scard.StateEmpty
		present = scard.StatePresent
		mute    = scard.StatePresent | scard.StateMute
		changed = scard.StateChanged
	)
	ctr := func(s scard.StateFlag, n uint32) scard.StateFlag { return s | scard.StateFlag(n<<16) }
	for _, tc := range []struct {
		name      string
		prev, now scard.StateFlag
		tap       bool
	}{
		{"first look, tag there", unaware, ctr(present|changed, 1), true},
		{"first look, no tag", unaware, ctr(empty|changed, 0), false},
		{"tag in", ctr(empty, 2), ctr(present|changed, 3), true},
		{"tag out", ctr(present, 3), ctr(empty|changed, 4), false},
		{"our own exclusive connect", ctr(present, 3), ctr(present|scard.StateExclusive|changed, 3), false},
		{"out and in between two calls", ctr(present, 3), ctr(present|changed, 5), true},
		{"mute tag", ctr(empty, 2), ctr(mute|changed, 3), false},
		{"mute tag answers", ctr(mute, 3), ctr(present|changed, 3), true},
		{"reader unavailable", ctr(present, 3), scard.StateUnavailable | changed, false},
		{"reader back with the tag", scard.StateUnavailable, ctr(present|changed, 1), true},
	} {
		if got := isTap(tc.prev, tc.now); got != tc.tap {
			t.Errorf("%s: isTap(%#x, %#x) = %v, want %v", tc.name, tc.prev, tc.now, got, tc.tap)
		}
	}
}

func TestPCSC_TagType(t *testing.T) {
	for _, tc := range []struct {
		name string
		atr  []byte
		want device.TagType
	}{
		{"NTAG 424 DNA / DESFire", []byte{0x3B, 0x81, 0x80, 0x01, 0x80, 0x80}, device.Type4},
		{"NTAG213 (Ultralight)", []byte{0x3B, 0x8F, 0x80, 0x01, 0x80, 0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x03, 0x06, 0x03, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x68}, device.Type2},
		{"Ultralight C", []byte{0x3B, 0x8F, 0x80, 0x01, 0x80, 0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x03, 0x06, 0x03, 0x00, 0x3A, 0x00, 0x00, 0x00, 0x00, 0x51}, device.Type2},
		{"MIFARE Classic 1K", []byte{0x3B, 0x8F, 0x80, 0x01, 0x80, 0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x03, 0x06, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x6A}, device.Type4},
		{"empty", nil, device.Type4},
		{"short", []byte{0x3B, 0x8F, 0x80, 0x01}, device.Type4},
	} {
		if got := tagType(tc.atr); got != tc.want {
			t.Errorf("%s: tagType(% X) = %v, want %v", tc.name, tc.atr, got, tc.want)
		}
	}
}

func TestPCSC_ErrorWords(t *testing.T) {
	err := scardError("wait for a tag", scard.ErrNoService)
	if got, want := err.Error(), "pcsc: wait for a tag: pcscd is not running (SCARD_E_NO_SERVICE)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, device.ErrReaderAbsent) || !errors.Is(err, scard.ErrNoService) || !serviceLost(err) {
		t.Errorf("%v: not ErrReaderAbsent / ErrNoService / serviceLost", err)
	}
	err = scardError("transmit", scard.ErrRemovedCard)
	if !errors.Is(err, device.ErrCardLeft) || errors.Is(err, device.ErrReaderAbsent) {
		t.Errorf("%v: not ErrCardLeft only", err)
	}
	if !strings.Contains(err.Error(), "SCARD_W_REMOVED_CARD") {
		t.Errorf("%v: no SCARD name", err)
	}
	err = scardError("transmit", scard.ErrCommError)
	if got := err.Error(); !strings.Contains(got, "0x80100013") && !strings.Contains(got, "SCARD_F_COMM_ERROR") {
		t.Errorf("%q does not name the code", got)
	}
	// A code without words keeps pcsc-lite's text and its number.
	err = scardError("x", scard.ErrBadSeek)
	if got := err.Error(); !strings.Contains(got, "0x") {
		t.Errorf("%q does not name the code", got)
	}
}

func TestPCSC_ClosedReader(t *testing.T) {
	r, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Name(); got != "pcsc" {
		t.Errorf("Name = %q", got)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.NextCard(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("NextCard after Close = %v, want ErrClosed", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, err := Open(Options{Name: "a\x00b"}); err == nil {
		t.Error("Open with a NUL in the name succeeded")
	}
}

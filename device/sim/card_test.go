package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tagd-nfc/tagd/device"
	"github.com/tagd-nfc/tagd/sun"
)

// apduCard is the in-test device.Card over an APDUHandler; it counts
// the READ BINARY commands.
type apduCard struct {
	h     APDUHandler
	reads int
}

func (c *apduCard) Type() device.TagType { return device.Type4 }
func (c *apduCard) UID() []byte          { return c.h.UID() }
func (c *apduCard) ReadPage(context.Context, byte) ([]byte, error) {
	return nil, fmt.Errorf("type 4")
}

func (c *apduCard) Transmit(_ context.Context, a []byte) ([]byte, error) {
	if len(a) > 1 && a[1] == 0xB0 {
		c.reads++
	}
	return c.h.APDU(a), nil
}

var (
	testUID  = []byte{0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0x01}
	testMeta = bytes.Repeat([]byte{0x11}, 16)
	testFile = bytes.Repeat([]byte{0x22}, 16)
)

// newCard returns a card with the test keys.
func newCard(t *testing.T, mode sun.Mode, url, macFrom string, ctr uint32) *NTAG424 {
	t.Helper()
	c, err := NewNTAG424(NTAG424Config{Mode: mode, MetaKey: testMeta, FileKey: testFile, UID: testUID, URL: url, MACFrom: macFrom, Counter: ctr,
		FileData: []byte("19.05.2024 12:22:33#1234*********")[:32]})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// readURL reads the card's NDEF URL as a reader does.
func readURL(t *testing.T, c *apduCard) string {
	t.Helper()
	msg, err := device.ReadType4(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	u, err := device.FirstURI(msg)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// verify checks a SUN URL with the test keys and returns the result.
func verify(t *testing.T, url string, mi sun.MACInput) sun.Result {
	t.Helper()
	u, err := sun.ParseURL(url, sun.DefaultParamNames())
	if err != nil {
		t.Fatal(err)
	}
	m, err := u.Message(mi)
	if err != nil {
		t.Fatal(err)
	}
	p, err := sun.NewProfile(sun.ProfileConfig{Mode: sun.ModeAuto, MetaKey: testMeta, FileKey: testFile, TamperOffset: -1})
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Verify(m)
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return r
}

func TestNTAG424SUN(t *testing.T) {
	for _, tc := range []struct {
		name, url, macFrom string
		mode               sun.Mode
		mi                 sun.MACInput
	}{
		{"aes", "https://shop.example/t?picc_data={picc}&cmac={mac}", "", sun.ModeAES, sun.MACInput{}},
		{"lrp", "https://shop.example/t?picc_data={picc}&cmac={mac}", "", sun.ModeLRP, sun.MACInput{}},
		{"lrp input from picc", "https://shop.example/t?picc_data={picc}&cmac={mac}", "{picc}", sun.ModeLRP, sun.MACInput{Kind: sun.MACInputAt, Arg: "picc"}},
		{"plain mirror", "https://shop.example/t?uid={uid}&ctr={ctr}&cmac={mac}", "", sun.ModeAES, sun.MACInput{}},
		{"input from host", "https://shop.example/t?uid={uid}&ctr={ctr}&cmac={mac}", "shop.example", sun.ModeAES, sun.MACInput{Kind: sun.MACInputFrom, Arg: "shop.example"}},
		{"enc", "https://shop.example/t?picc_data={picc}&enc={enc}&cmac={mac}", "{enc}", sun.ModeAES, sun.MACInput{Kind: sun.MACInputAt, Arg: "enc"}},
		{"http www", "http://www.shop.example/?picc_data={picc}&cmac={mac}", "", sun.ModeAES, sun.MACInput{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			card := newCard(t, tc.mode, tc.url, tc.macFrom, 41)
			c := &apduCard{h: card}
			for want := uint32(42); want < 45; want++ {
				url := readURL(t, c)
				if !strings.HasPrefix(url, strings.Split(tc.url, "{")[0]) {
					t.Fatalf("URL %q", url)
				}
				r := verify(t, url, tc.mi)
				if r.Counter != want || !bytes.Equal(r.UID[:], testUID) || r.Mode != tc.mode {
					t.Fatalf("tap %d: %+v", want, r)
				}
				if tc.name == "enc" && string(r.FileData) != "19.05.2024 12:22:33#1234********" {
					t.Fatalf("file data %q", r.FileData)
				}
				if card.Counter() != want {
					t.Fatalf("Counter() %d, want %d", card.Counter(), want)
				}
			}
		})
	}
}

// TestNTAG424CounterPerSession: the counter moves once per read session,
// not per chunk, and a re-read without another command repeats the
// message byte for byte.
func TestNTAG424CounterPerSession(t *testing.T) {
	long := "https://shop.example/" + strings.Repeat("p", 170) + "?picc_data={picc}&cmac={mac}"
	card := newCard(t, sun.ModeAES, long, "", 0)
	c := &apduCard{h: card}
	url := readURL(t, c)
	if c.reads != 4 { // CC, NLEN, two chunks of the 253-byte message
		t.Errorf("%d READ BINARY, want 4", c.reads)
	}
	if r := verify(t, url, sun.MACInput{}); r.Counter != 1 || card.Counter() != 1 {
		t.Errorf("counter %d / %d after one tap of several chunks", r.Counter, card.Counter())
	}
	read := func(off int, n byte) []byte {
		return card.APDU([]byte{0x00, 0xB0, byte(off >> 8), byte(off), n})
	}
	// Still the session of the tap: no command came between.
	a := read(0, 0)
	b := read(0, 0)
	if !bytes.Equal(a, b) || card.Counter() != 1 {
		t.Errorf("re-read in one session differs or moved the counter to %d", card.Counter())
	}
	card.APDU([]byte{0x00, 0xA4, 0x00, 0x0C, 0x02, 0xE1, 0x04})
	if c := read(0, 0); bytes.Equal(a, c) || card.Counter() != 2 {
		t.Errorf("a read after SELECT did not renew the message (counter %d)", card.Counter())
	}
	// The reader's GET DATA never reaches the tag: no new session.
	before := read(0, 0)
	card.APDU([]byte{0xFF, 0xCA, 0x00, 0x00, 0x00})
	if after := read(0, 0); !bytes.Equal(before, after) || card.Counter() != 2 {
		t.Errorf("GET DATA ended the session (counter %d)", card.Counter())
	}
	card.SetCounter(99)
	if r := verify(t, readURL(t, c), sun.MACInput{}); r.Counter != 100 {
		t.Errorf("after SetCounter(99): %d", r.Counter)
	}
}

func TestNTAG424File(t *testing.T) {
	card := newCard(t, sun.ModeAES, "https://a.example/?picc_data={picc}&cmac={mac}", "", 0)
	card.APDU([]byte{0x00, 0xA4, 0x04, 0x00, 0x07, 0xD2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01, 0x00})
	card.APDU([]byte{0x00, 0xA4, 0x00, 0x0C, 0x02, 0xE1, 0x03})
	cc := card.APDU([]byte{0x00, 0xB0, 0x00, 0x00, 0x00})
	want := append([]byte{0x00, 0x17, 0x20, 0x01, 0x00, 0x00, 0xFF, 0x04, 0x06, 0xE1, 0x04, 0x01, 0x00, 0x00, 0x00, 0x05, 0x06, 0xE1, 0x05, 0x00, 0x80, 0x82, 0x83}, make([]byte, 9)...)
	if !bytes.Equal(cc, append(want, 0x90, 0x00)) {
		t.Errorf("CC % X", cc)
	}
	card.APDU([]byte{0x00, 0xA4, 0x00, 0x0C, 0x02, 0xE1, 0x04})
	f := card.APDU([]byte{0x00, 0xB0, 0x00, 0x00, 0x00})
	rest := "a.example/?picc_data=" + strings.Repeat("X", 32) + "&cmac=" + strings.Repeat("X", 16)
	if len(f) != 258 || f[0] != 0 || int(f[1]) != 5+len(rest) || !bytes.Equal(f[2:7], []byte{0xD1, 0x01, byte(1 + len(rest)), 0x55, 0x04}) {
		t.Errorf("NDEF file % X", f[:8])
	}
	if !bytes.Equal(f[7+len(rest):256], make([]byte, 256-7-len(rest))) || !bytes.Equal(f[256:], []byte{0x90, 0x00}) {
		t.Errorf("padding or SW")
	}
	if got := card.APDU([]byte{0xFF, 0xCA, 0x00, 0x00, 0x00}); !bytes.Equal(got, append(append([]byte(nil), testUID...), 0x90, 0x00)) {
		t.Errorf("GET DATA UID % X", got)
	}
	if !bytes.Equal(card.ATR(), []byte{0x3B, 0x81, 0x80, 0x01, 0x80, 0x80}) || !bytes.Equal(card.UID(), testUID) {
		t.Errorf("ATR/UID")
	}
	// Short file IDs: 2 is the NDEF file.
	if got := card.APDU([]byte{0x00, 0xB0, 0x82, 0x00, 0x02}); !bytes.Equal(got, []byte{f[0], f[1], 0x90, 0x00}) {
		t.Errorf("SFI read % X", got)
	}
}

func TestNTAG424StaticURL(t *testing.T) {
	card := newCard(t, sun.ModeAES, "https://static.example/p/1", "", 5)
	c := &apduCard{h: card}
	for i := 0; i < 2; i++ {
		if u := readURL(t, c); u != "https://static.example/p/1" {
			t.Fatalf("%q", u)
		}
	}
	if card.Counter() != 5 {
		t.Errorf("SDM off moved the counter to %d", card.Counter())
	}
}

func TestNTAG424StatusWords(t *testing.T) {
	selApp := []byte{0x00, 0xA4, 0x04, 0x00, 0x07, 0xD2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01, 0x00}
	selCC := []byte{0x00, 0xA4, 0x00, 0x0C, 0x02, 0xE1, 0x03}
	selNDEF := []byte{0x00, 0xA4, 0x00, 0x0C, 0x02, 0xE1, 0x04}
	for _, tc := range []struct {
		name   string
		before [][]byte
		apdu   []byte
		sw     uint16
	}{
		{"unknown AID", nil, []byte{0x00, 0xA4, 0x04, 0x00, 0x07, 0xD2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x00}, 0x6A82},
		{"file before app", nil, selCC, 0x6A82},
		{"unknown file", [][]byte{selApp}, []byte{0x00, 0xA4, 0x00, 0x0C, 0x02, 0xE1, 0x07}, 0x6A82},
		{"SFI before app", nil, []byte{0x00, 0xB0, 0x82, 0x00, 0x02}, 0x6A82},
		{"bad P1", [][]byte{selApp}, []byte{0x00, 0xA4, 0x01, 0x0C, 0x02, 0xE1, 0x03}, 0x6A86},
		{"bad P2", [][]byte{selApp}, []byte{0x00, 0xA4, 0x00, 0x01, 0x02, 0xE1, 0x03}, 0x6A86},
		{"bad SFI bits", [][]byte{selApp}, []byte{0x00, 0xB0, 0xE2, 0x00, 0x02}, 0x6A86},
		{"offset beyond CC", [][]byte{selApp, selCC}, []byte{0x00, 0xB0, 0x00, 0x20, 0x01}, 0x6B00},
		{"offset beyond NDEF", [][]byte{selApp, selNDEF}, []byte{0x00, 0xB0, 0x01, 0x00, 0x01}, 0x6B00},
		{"Le past the end", [][]byte{selApp, selCC}, []byte{0x00, 0xB0, 0x00, 0x10, 0x11}, 0x6700},
		{"unknown INS", [][]byte{selApp}, []byte{0x00, 0xCA, 0x00, 0x00, 0x00}, 0x6D00},
		{"native CLA", nil, []byte{0x90, 0x60, 0x00, 0x00, 0x00}, 0x6E00},
		{"no file", [][]byte{selApp}, []byte{0x00, 0xB0, 0x00, 0x00, 0x02}, 0x6986},
		{"short APDU", nil, []byte{0x00, 0xA4}, 0x6700},
		{"select Lc mismatch", nil, []byte{0x00, 0xA4, 0x04, 0x00, 0x07, 0xD2, 0x76}, 0x6700},
		{"select no data", nil, []byte{0x00, 0xA4, 0x04, 0x00}, 0x6700},
		{"select id of 3 bytes", [][]byte{selApp}, []byte{0x00, 0xA4, 0x00, 0x0C, 0x03, 0xE1, 0x03, 0x00}, 0x6700},
		{"read without Le", [][]byte{selApp, selCC}, []byte{0x00, 0xB0, 0x00, 0x00}, 0x6700},
		{"proprietary file", [][]byte{selApp, {0x00, 0xA4, 0x00, 0x0C, 0x02, 0xE1, 0x05}}, []byte{0x00, 0xB0, 0x00, 0x00, 0x10}, 0x6982},
		{"MF deselects the app", [][]byte{selApp, {0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00}}, selCC, 0x6A82},
		{"reader command unsupported", nil, []byte{0xFF, 0x00, 0x52, 0x00, 0x00}, 0x6A81},
		{"GET DATA bad P1", nil, []byte{0xFF, 0xCA, 0x02, 0x00, 0x00}, 0x6A86},
		{"good select", nil, selApp, 0x9000},
	} {
		card := newCard(t, sun.ModeAES, "https://a.example/?picc_data={picc}&cmac={mac}", "", 0)
		for _, a := range tc.before {
			if r := card.APDU(a); !bytes.Equal(r, []byte{0x90, 0x00}) {
				t.Fatalf("%s: setup % X: % X", tc.name, a, r)
			}
		}
		r := card.APDU(tc.apdu)
		if len(r) < 2 || uint16(r[len(r)-2])<<8|uint16(r[len(r)-1]) != tc.sw {
			t.Errorf("%s: % X, want %04X", tc.name, r, tc.sw)
		}
	}
}

func TestNTAG424PowerAndLimit(t *testing.T) {
	card := newCard(t, sun.ModeAES, "https://a.example/?picc_data={picc}&cmac={mac}", "", 0)
	c := &apduCard{h: card}
	readURL(t, c)
	card.Power(false)
	if r := card.APDU([]byte{0x00, 0xB0, 0x00, 0x00, 0x02}); r != nil {
		t.Errorf("unpowered card answered % X", r)
	}
	card.Power(true)
	if r := card.APDU([]byte{0x00, 0xB0, 0x00, 0x00, 0x02}); !bytes.Equal(r, []byte{0x69, 0x86}) {
		t.Errorf("after power cycle: % X, want 6986", r)
	}
	card.SetCounter(0xFFFFFE)
	if r := verify(t, readURL(t, c), sun.MACInput{}); r.Counter != 0xFFFFFF {
		t.Errorf("last counter %X", r.Counter)
	}
	_, err := device.ReadType4(context.Background(), c)
	if !errors.Is(err, &device.SWError{SW: device.SWSecurity, Op: "read NLEN"}) {
		t.Errorf("exhausted counter: %v", err)
	}
}

func TestNewNTAG424Errors(t *testing.T) {
	base := NTAG424Config{Mode: sun.ModeAES, MetaKey: testMeta, FileKey: testFile, UID: testUID, URL: "https://a/?p={picc}&m={mac}"}
	for _, tc := range []struct {
		name string
		edit func(*NTAG424Config)
		want string
	}{
		{"mode", func(c *NTAG424Config) { c.Mode = sun.ModeAuto }, "mode"},
		{"key", func(c *NTAG424Config) { c.FileKey = c.FileKey[:8] }, "keys"},
		{"uid", func(c *NTAG424Config) { c.UID = c.UID[:4] }, "UID"},
		{"counter", func(c *NTAG424Config) { c.Counter = 1 << 24 }, "24 bits"},
		{"unknown placeholder", func(c *NTAG424Config) { c.URL = "https://a/?x={foo}" }, "unknown placeholder"},
		{"unclosed", func(c *NTAG424Config) { c.URL = "https://a/?x={picc" }, "unclosed"},
		{"twice", func(c *NTAG424Config) { c.URL = "https://a/?x={picc}&y={picc}&m={mac}" }, "twice"},
		{"picc and uid", func(c *NTAG424Config) { c.URL = "https://a/?x={picc}&u={uid}&m={mac}" }, "excludes"},
		{"picc without mac", func(c *NTAG424Config) { c.URL = "https://a/?x={picc}" }, "need {mac}"},
		{"mac with uid only", func(c *NTAG424Config) { c.URL = "https://a/?u={uid}&m={mac}" }, "both {uid} and {ctr}"},
		{"enc in lrp", func(c *NTAG424Config) { c.Mode = sun.ModeLRP; c.URL = "https://a/?x={picc}&e={enc}&m={mac}" }, "AES mode only"},
		{"enc without data", func(c *NTAG424Config) { c.URL = "https://a/?x={picc}&e={enc}&m={mac}" }, "FileData"},
		{"enc not in input", func(c *NTAG424Config) {
			c.FileData = make([]byte, 16)
			c.URL = "https://a/?x={picc}&e={enc}&m={mac}"
		}, "cover {enc}"},
		{"MACFrom unknown", func(c *NTAG424Config) { c.MACFrom = "nowhere" }, "neither"},
		{"MACFrom after mac", func(c *NTAG424Config) { c.URL = "https://a/?m={mac}&x={picc}"; c.MACFrom = "{picc}" }, "after {mac}"},
		{"MACFrom without mac", func(c *NTAG424Config) { c.URL = "https://a/?u={uid}"; c.MACFrom = "{uid}" }, "without {mac}"},
		{"too long", func(c *NTAG424Config) { c.URL = "https://a/" + strings.Repeat("x", 250) + "?p={picc}&m={mac}" }, "NDEF file"},
	} {
		c := base
		tc.edit(&c)
		if _, err := NewNTAG424(c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := NewNTAG424(base); err != nil {
		t.Errorf("base: %v", err)
	}
}

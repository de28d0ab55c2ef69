package device

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func TestReadType2(t *testing.T) {
	ctx := context.Background()
	rec := uriRecord(0x04, "shop.example/t?x=1")
	// Lock Control TLV, NULL, NDEF TLV, Terminator.
	area := append([]byte{0x01, 0x03, 0xA0, 0x0C, 0x34, 0x00, 0x03, byte(len(rec))}, rec...)
	area = append(area, 0xFE)
	c := &t2Card{mem: ntag213(area...)}
	got, err := ReadType2(ctx, c)
	if err != nil || !bytes.Equal(got, rec) {
		t.Fatalf("ReadType2: % X %v", got, err)
	}
	// 3 + 8 + 20 bytes from page 4: pages 3, 7 and 11.
	if !bytes.Equal(c.reads, []byte{3, 7, 11}) {
		t.Errorf("pages read %v", c.reads)
	}
	if u, err := FirstURI(got); err != nil || u != "https://shop.example/t?x=1" {
		t.Errorf("URI %q %v", u, err)
	}

	// A 3-byte length on an NTAG216 (data area 872 bytes).
	big := uriRecord(0x04, strings.Repeat("b", 300))
	big[0] &^= 0x10 // long record: 4-byte payload length
	big = append(big[:2:2], append([]byte{0, 0, 0x01, 0x2D}, big[3:]...)...)
	if _, err := ParseNDEF(big); err != nil {
		t.Fatal(err)
	}
	mem := make([]byte, 231*4)
	copy(mem[12:], []byte{0xE1, 0x10, 0x6D, 0x00})
	copy(mem[16:], append([]byte{0x03, 0xFF, byte(len(big) >> 8), byte(len(big))}, big...))
	if got, err := ReadType2(ctx, &t2Card{mem: mem}); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("3-byte length: %v", err)
	}
}

func TestReadType2Errors(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		card *t2Card
		want error
		text string
	}{
		{"blank", &t2Card{mem: ntag213()}, ErrNoNDEF, ""},
		{"terminator first", &t2Card{mem: ntag213(0xFE, 0x03, 0x01, 0xD0)}, ErrNoNDEF, ""},
		{"empty NDEF TLV", &t2Card{mem: ntag213(0x03, 0x00, 0xFE)}, ErrNoNDEF, ""},
		{"NDEF past the area", &t2Card{mem: ntag213(0x03, 0x90)}, ErrTLV, "runs past"},
		{"reserved length", &t2Card{mem: ntag213(0x03, 0xFF, 0xFF, 0xFF)}, ErrTLV, "FFFF"},
		{"lock TLV past the area", &t2Card{mem: ntag213(0x01, 0xFF, 0x01, 0x00)}, ErrTLV, "runs past"},
		{"not formatted", &t2Card{mem: make([]byte, 180)}, ErrCC, "E1"},
		{"read fails", &t2Card{mem: ntag213(), err: boom}, boom, "read page 3"},
	} {
		_, err := ReadType2(ctx, tc.card)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: %v, want %v %q", tc.name, err, tc.want, tc.text)
		}
	}
	// The last bytes of the data area: a length field cut by the end.
	area := make([]byte, 144)
	area[143] = 0x03
	if _, err := ReadType2(ctx, &t2Card{mem: ntag213(area...)}); !errors.Is(err, ErrTLV) {
		t.Errorf("cut length: %v", err)
	}
	area[143], area[142] = 0xFF, 0x03
	if _, err := ReadType2(ctx, &t2Card{mem: ntag213(area...)}); !errors.Is(err, ErrTLV) {
		t.Errorf("cut 3-byte length: %v", err)
	}
}

func TestFindNDEFTLV(t *testing.T) {
	got, err := FindNDEFTLV([]byte{0x00, 0x02, 0x03, 0x01, 0x02, 0x03, 0xFD, 0x01, 0x00, 0x03, 0x03, 0xD0, 0x00, 0x00})
	if err != nil || !bytes.Equal(got, []byte{0xD0, 0x00, 0x00}) {
		t.Errorf("% X %v", got, err)
	}
	if _, err := FindNDEFTLV(nil); !errors.Is(err, ErrNoNDEF) {
		t.Errorf("empty: %v", err)
	}
}

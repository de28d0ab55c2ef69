package device

import (
	"errors"
	"testing"
)

func TestParseCC(t *testing.T) {
	cc, err := ParseCC(factoryCC)
	want := CC{Len: 0x17, Version: 0x20, MLe: 256, MLc: 255, FileID: 0xE104, MaxSize: 256}
	if err != nil || cc != want {
		t.Fatalf("factory CC: %+v %v, want %+v", cc, err, want)
	}
	mod := func(i int, v ...byte) []byte {
		b := append([]byte(nil), factoryCC...)
		copy(b[i:], v)
		return b
	}
	for _, tc := range []struct {
		name  string
		b     []byte
		field string
	}{
		{"short", factoryCC[:14], "CCLEN"},
		{"CCLEN small", mod(0, 0x00, 0x0E), "CCLEN"},
		{"CCLEN FFFF", mod(0, 0xFF, 0xFF), "CCLEN"},
		{"version 0", mod(2, 0x00), "mapping version"},
		{"version 4", mod(2, 0x40), "mapping version"},
		{"MLe small", mod(3, 0x00, 0x0E), "MLe"},
		{"MLc zero", mod(5, 0x00, 0x00), "MLc"},
		{"TLV type", mod(7, 0x05), "NDEF file control TLV"},
		{"TLV length", mod(8, 0x08), "NDEF file control TLV"},
		{"reserved file", mod(9, 0xE1, 0x03), "NDEF file ID"},
		{"file 0000", mod(9, 0x00, 0x00), "NDEF file ID"},
		{"size 2", mod(11, 0x00, 0x02), "NDEF file size"},
		{"size FFFF", mod(11, 0xFF, 0xFF), "NDEF file size"},
		{"read key", mod(13, 0x80), "NDEF read access"},
	} {
		_, err := ParseCC(tc.b)
		var ce *CCError
		if !errors.As(err, &ce) || ce.Field != tc.field || !errors.Is(err, ErrCC) {
			t.Errorf("%s: %v, want field %q", tc.name, err, tc.field)
		}
	}
	if cc, err := ParseCC(mod(2, 0x10)); err != nil || cc.Version != 0x10 {
		t.Errorf("T4T 1.0: %v", err)
	}
}

func TestParseType2CC(t *testing.T) {
	cc, err := ParseType2CC([]byte{0xE1, 0x10, 0x12, 0x00})
	if err != nil || cc.DataSize != 144 || cc.Version != 0x10 {
		t.Fatalf("NTAG213: %+v %v", cc, err)
	}
	for _, b := range [][]byte{{0xE1, 0x10}, {0x00, 0x10, 0x12, 0x00}, {0xE1, 0x20, 0x12, 0x00}, {0xE1, 0x10, 0x00, 0x00}, {0xE1, 0x10, 0x12, 0x80}} {
		if _, err := ParseType2CC(b); !errors.Is(err, ErrCC) {
			t.Errorf("% X: %v", b, err)
		}
	}
	if cc, err := ParseType2CC([]byte{0xE1, 0x10, 0x12, 0x0F}); err != nil || cc.Access != 0x0F {
		t.Errorf("read-only tag: %v", err)
	}
}

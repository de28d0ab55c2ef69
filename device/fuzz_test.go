package device

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// FuzzParseNDEF: arbitrary tag data never panics, a parsed message
// accounts for every byte, and errors are the package's own.
func FuzzParseNDEF(f *testing.F) {
	f.Add(uriRecord(0x04, "shop.example/t?picc_data=00&cmac=11"))
	f.Add([]byte{0x91, 0x01, 0x03, 'T', 0x02, 'e', 'n', 0x51, 0x01, 0x02, 'U', 0x03, 'x'})
	f.Add([]byte{0xC9, 0x02, 0x00, 0x00, 0x00, 0x03, 0x02, 'a', '/', 'b', 'I', 'D', 'x', 'y'})
	f.Add([]byte{0xD1, 0x02, 0x07, 'S', 'p', 0xD1, 0x01, 0x02, 'U', 0x04, 'x'})
	f.Add([]byte{0xB1, 0x01, 0x01, 'U', 0x04})
	f.Fuzz(func(t *testing.T, msg []byte) {
		recs, err := ParseNDEF(msg)
		if err != nil {
			var ne *NDEFError
			if !errors.As(err, &ne) && !errors.Is(err, ErrNoNDEF) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			if ne != nil && (ne.Offset < 0 || ne.Offset > len(msg)) {
				t.Fatalf("offset %d of %d bytes", ne.Offset, len(msg))
			}
		} else {
			n := 0
			for _, r := range recs {
				n += 3 + len(r.Type) + len(r.ID) + len(r.Payload)
			}
			if n > len(msg) {
				t.Fatalf("records of %d bytes from a message of %d", n, len(msg))
			}
		}
		u, err := FirstURI(msg)
		if err == nil {
			for i := 0; i < len(u); i++ {
				if u[i] < 0x20 || u[i] == 0x7F {
					t.Fatalf("control character in %q", u)
				}
			}
		}
	})
}

// FuzzParseCC: any 15 bytes parse or give a *CCError.
func FuzzParseCC(f *testing.F) {
	f.Add(factoryCC)
	f.Add([]byte{0x00, 0x0F, 0x20, 0x00, 0x3B, 0x00, 0x34, 0x04, 0x06, 0xE1, 0x04, 0x00, 0x32, 0x00, 0x00})
	f.Add([]byte{0xE1, 0x10, 0x12, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		cc, err := ParseCC(b)
		var ce *CCError
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("%T: %v", err, err)
		}
		if err == nil && (cc.MaxSize < 3 || cc.ReadAccess != 0 || cc.MLe < 15) {
			t.Fatalf("accepted %+v", cc)
		}
		if _, err := ParseType2CC(b); err != nil && !errors.As(err, &ce) {
			t.Fatalf("type 2: %T: %v", err, err)
		}
	})
}

// FuzzType2TLV feeds arbitrary memory through a fake Type 2 card: no
// panic, no read past page 255, a found message lies inside the data area.
func FuzzType2TLV(f *testing.F) {
	rec := uriRecord(0x04, "shop.example/t?x=1")
	f.Add([]byte{0x12, 0x00, 0x01, 0x03, 0xA0, 0x0C, 0x34, 0x00, 0x03, byte(len(rec))})
	f.Add([]byte{0x6D, 0x00, 0x03, 0xFF, 0x01, 0x00})
	f.Add([]byte{0x01, 0x00, 0x03, 0x05})
	f.Add([]byte{0xFF, 0x00, 0x02, 0xFF, 0x07, 0xF0, 0x03, 0xFF, 0x00, 0x10})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		// data = size byte, access byte, then the data area.
		mem := make([]byte, 16+max(len(data)-2, int(data[0])*8)+16)
		copy(mem[12:], []byte{0xE1, 0x10, data[0], data[1]})
		copy(mem[16:], data[2:])
		c := &t2Card{mem: mem}
		msg, err := ReadType2(context.Background(), c)
		if err == nil {
			if len(msg) == 0 || len(msg) > int(data[0])*8 {
				t.Fatalf("message of %d bytes from a %d-byte area", len(msg), int(data[0])*8)
			}
			if !bytes.Contains(mem[16:16+int(data[0])*8], msg) {
				t.Fatalf("message not from the data area")
			}
		} else if !errors.Is(err, ErrNoNDEF) && !errors.Is(err, ErrTLV) && !errors.Is(err, ErrCC) {
			t.Fatalf("unexpected error %v", err)
		}
		for _, p := range c.reads {
			if p != 3 && (int(p) < 4 || (int(p)-4)*4 >= int(data[0])*8) {
				t.Fatalf("read page %d outside the %d-byte data area", p, int(data[0])*8)
			}
		}
	})
}

// fuzzCard answers each C-APDU with the next length-prefixed chunk of its
// data, then with nothing.
type fuzzCard struct {
	data []byte
	n    int
}

func (c *fuzzCard) Type() TagType { return Type4 }
func (c *fuzzCard) UID() []byte   { return nil }
func (c *fuzzCard) ReadPage(context.Context, byte) ([]byte, error) {
	return nil, fmt.Errorf("not a Type 2 tag")
}

func (c *fuzzCard) Transmit(_ context.Context, apdu []byte) ([]byte, error) {
	c.n++
	if len(c.data) == 0 {
		return nil, nil
	}
	n := min(int(c.data[0]), len(c.data)-1)
	r := c.data[1 : 1+n]
	c.data = c.data[1+n:]
	return r, nil
}

// FuzzReadType4 runs ReadType4 against a card answering arbitrary bytes:
// no panic, a bounded number of commands, only specific errors.
func FuzzReadType4(f *testing.F) {
	msg := uriRecord(0x04, "shop.example/t?x=1")
	var good []byte
	for _, s := range type4Script(factoryCC, msg, 0xF0) {
		good = append(good, byte(len(s.resp)))
		good = append(good, s.resp...)
	}
	f.Add(good)
	f.Add([]byte{2, 0x90, 0x00, 2, 0x6A, 0x82})
	f.Add([]byte{2, 0x90, 0x00, 2, 0x90, 0x00, 17, 0x00, 0x0F, 0x20, 0x00, 0x10, 0x00, 0x10, 0x04, 0x06, 0x00, 0x01, 0x7F, 0xFF, 0x00, 0x00, 0x90, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &fuzzCard{data: data}
		got, err := ReadType4(context.Background(), c)
		if c.n > 5+0x7FFF/15+1 {
			t.Fatalf("%d commands", c.n)
		}
		if err != nil {
			// Every error names the package and, past the transport, a
			// step or a rule.
			if !strings.HasPrefix(err.Error(), "device: ") {
				t.Fatalf("unspecific error %v", err)
			}
			return
		}
		if len(got) == 0 || len(got) > 0xFFFE-2 {
			t.Fatalf("message of %d bytes", len(got))
		}
	})
}

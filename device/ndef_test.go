package device

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseNDEF(t *testing.T) {
	text := []byte{0x91, 0x01, 0x05, 'T', 0x02, 'e', 'n', 'h', 'i'} // MB, SR, "T"
	uri := []byte{0x51, 0x01, 0x04, 'U', 0x04, 'a', '.', 'b'}       // ME, SR, "U"
	long := append([]byte{0xC9, 0x02, 0x00, 0x00, 0x00, 0x03, 0x02, 'a', '/', 'b', 'I', 'D'}, "xy"...)
	for _, tc := range []struct {
		name string
		msg  []byte
		want []Record
	}{
		{"short URI", uriRecord(0x04, "x.y/z"), []Record{{TNFWellKnown, []byte("U"), []byte{}, append([]byte{4}, "x.y/z"...)}}},
		{"two records", append(append([]byte(nil), text...), uri...), []Record{
			{TNFWellKnown, []byte("T"), []byte{}, []byte{0x02, 'e', 'n', 'h', 'i'}},
			{TNFWellKnown, []byte("U"), []byte{}, []byte{0x04, 'a', '.', 'b'}},
		}},
		// MB|ME|IL, TNF 1, 4-byte payload length, ID "ID"
		{"long record with ID", long, []Record{{TNFWellKnown, []byte("a/"), []byte("bI"), []byte("Dxy")}}},
		{"empty record", []byte{0xD0, 0x00, 0x00}, []Record{{TNFEmpty, []byte{}, []byte{}, []byte{}}}},
		{"unknown with payload", []byte{0xD5, 0x00, 0x01, 0x7A}, []Record{{TNFUnknown, []byte{}, []byte{}, []byte{0x7A}}}},
	} {
		got, err := ParseNDEF(tc.msg)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: %d records, want %d", tc.name, len(got), len(tc.want))
			continue
		}
		for i := range got {
			g, w := got[i], tc.want[i]
			if g.TNF != w.TNF || !bytes.Equal(g.Type, w.Type) || !bytes.Equal(g.ID, w.ID) || !bytes.Equal(g.Payload, w.Payload) {
				t.Errorf("%s: record %d = %+v, want %+v", tc.name, i, g, w)
			}
		}
	}
}

func TestParseNDEFErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  []byte
		want error
	}{
		{"empty", nil, ErrNoNDEF},
		{"two bytes", []byte{0xD1, 0x01}, ErrNDEFTruncated},
		{"chunked", []byte{0xB1, 0x01, 0x01, 'U', 0x04}, ErrNDEFChunked},
		{"TNF unchanged", []byte{0xD6, 0x00, 0x00}, ErrNDEFChunked},
		{"TNF reserved", []byte{0xD7, 0x01, 0x00, 'x'}, ErrNDEFHeader},
		{"no MB", []byte{0x51, 0x01, 0x01, 'U', 0x04}, ErrNDEFHeader},
		{"MB twice", []byte{0x91, 0x01, 0x01, 'U', 0x04, 0xD1, 0x01, 0x01, 'U', 0x04}, ErrNDEFHeader},
		{"no ME", []byte{0x91, 0x01, 0x01, 'U', 0x04}, ErrNDEFTruncated},
		{"trailing", []byte{0xD1, 0x01, 0x01, 'U', 0x04, 0x00}, ErrNDEFTrailing},
		{"payload past end", []byte{0xD1, 0x01, 0x09, 'U', 0x04}, ErrNDEFTruncated},
		{"type past end", []byte{0xD1, 0x05, 0x00, 'U'}, ErrNDEFTruncated},
		{"huge long payload", []byte{0xC1, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 'U', 0x04}, ErrNDEFTruncated},
		{"long length cut", []byte{0xC1, 0x01, 0x00, 0x00}, ErrNDEFTruncated},
		{"ID length missing", []byte{0xD9, 0x01, 0x00}, ErrNDEFTruncated},
		{"ID past end", []byte{0xD9, 0x01, 0x00, 0x09, 'U'}, ErrNDEFTruncated},
		{"empty TNF with payload", []byte{0xD0, 0x00, 0x01, 0x00}, ErrNDEFHeader},
		{"unknown TNF with type", []byte{0xD5, 0x01, 0x00, 'x'}, ErrNDEFHeader},
		{"well-known without type", []byte{0xD1, 0x00, 0x00}, ErrNDEFHeader},
	} {
		_, err := ParseNDEF(tc.msg)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		var ne *NDEFError
		if tc.want != ErrNoNDEF && !errors.As(err, &ne) {
			t.Errorf("%s: %T is no *NDEFError", tc.name, err)
		}
	}
	_, err := ParseNDEF([]byte{0x91, 0x01, 0x01, 'U', 0x04, 0x11, 0x01, 0x09, 'U'})
	var ne *NDEFError
	if !errors.As(err, &ne) || ne.Record != 1 || ne.Offset != 8 || !strings.Contains(err.Error(), "record 1 at offset 8") {
		t.Errorf("offsets: %v", err)
	}
}

func TestURIPrefixes(t *testing.T) {
	want := []string{"", "http://www.", "https://www.", "http://", "https://", "tel:", "mailto:",
		"ftp://anonymous:anonymous@", "ftp://ftp.", "ftps://", "sftp://", "smb://", "nfs://", "ftp://",
		"dav://", "news:", "telnet://", "imap:", "rtsp://", "urn:", "pop:", "sip:", "sips:", "tftp:",
		"btspp://", "btl2cap://", "btgoep://", "tcpobex://", "irdaobex://", "file://", "urn:epc:id:",
		"urn:epc:tag:", "urn:epc:pat:", "urn:epc:raw:", "urn:epc:", "urn:nfc:"}
	if len(want) != 0x24 {
		t.Fatalf("table of %d", len(want))
	}
	for c := 0; c < 256; c++ {
		got, err := DecodeURI([]byte{byte(c), 'x'})
		if c < 0x24 {
			if err != nil || got != want[c]+"x" {
				t.Errorf("%02X: %q %v, want %q", c, got, err, want[c]+"x")
			}
			continue
		}
		if !errors.Is(err, ErrURIPrefix) {
			t.Errorf("%02X: %q %v, want ErrURIPrefix", c, got, err)
		}
	}
	for _, u := range []string{"https://shop.example/t?p=1", "http://www.a.b", "https://www.x", "urn:epc:id:sgtin:1", "urn:epc:x", "custom:thing", "tel:+4912"} {
		code, rest := EncodeURI(u)
		got, err := DecodeURI(append([]byte{code}, rest...))
		if err != nil || got != u {
			t.Errorf("round trip %q: %q %v", u, got, err)
		}
	}
	if code, rest := EncodeURI("https://www.example.com"); code != 0x02 || rest != "example.com" {
		t.Errorf("longest prefix: %02X %q", code, rest)
	}
}

func TestDecodeURIInvalid(t *testing.T) {
	for _, p := range [][]byte{nil, {0x00}, {0x04, 'a', '\n', 'b'}, {0x04, 0x7F}, {0x04, 0xFF, 0xFE}, {0x03, 'a', 0x00}} {
		if _, err := DecodeURI(p); !errors.Is(err, ErrURIInvalid) {
			t.Errorf("% X: %v, want ErrURIInvalid", p, err)
		}
	}
	if got, err := DecodeURI([]byte{0x04, 0xC3, 0xA9}); err != nil || got != "https://é" {
		t.Errorf("UTF-8: %q %v", got, err)
	}
}

func TestFirstURI(t *testing.T) {
	text := []byte{0x91, 0x01, 0x03, 'T', 0x02, 'e', 'n'}
	uri := []byte{0x51, 0x01, 0x04, 'U', 0x04, 'a', '.', 'b'}
	sp := append([]byte{0xD1, 0x02, byte(len(uriRecord(0x03, "sp.example"))), 'S', 'p'}, uriRecord(0x03, "sp.example")...)
	for _, tc := range []struct {
		name string
		msg  []byte
		want string
		err  error
	}{
		{"one URI", uriRecord(0x04, "shop.example/t?x=1"), "https://shop.example/t?x=1", nil},
		{"text then URI", append(append([]byte(nil), text...), uri...), "https://a.b", nil},
		{"smart poster", sp, "http://sp.example", nil},
		{"text only", []byte{0xD1, 0x01, 0x03, 'T', 0x02, 'e', 'n'}, "", ErrNoURI},
		{"MIME URI is not a URI record", []byte{0xD2, 0x01, 0x02, 'U', 0x04, 'x'}, "", ErrNoURI},
		{"reserved prefix", uriRecord(0x24, "x"), "", ErrURIPrefix},
		{"bad smart poster", []byte{0xD1, 0x02, 0x01, 'S', 'p', 0x00}, "", ErrNDEFTruncated},
		{"malformed", []byte{0xD1, 0x01, 0x05, 'U'}, "", ErrNDEFTruncated},
	} {
		got, err := FirstURI(tc.msg)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("%s: %q %v, want %q %v", tc.name, got, err, tc.want, tc.err)
		}
	}
}

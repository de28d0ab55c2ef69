package device

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// uriPrefixes is the URI identifier code table of the NFC Forum URI RTD
// (codes 00..23); 24..FF are reserved.
var uriPrefixes = [...]string{
	0x00: "",
	0x01: "http://www.",
	0x02: "https://www.",
	0x03: "http://",
	0x04: "https://",
	0x05: "tel:",
	0x06: "mailto:",
	0x07: "ftp://anonymous:anonymous@",
	0x08: "ftp://ftp.",
	0x09: "ftps://",
	0x0A: "sftp://",
	0x0B: "smb://",
	0x0C: "nfs://",
	0x0D: "ftp://",
	0x0E: "dav://",
	0x0F: "news:",
	0x10: "telnet://",
	0x11: "imap:",
	0x12: "rtsp://",
	0x13: "urn:",
	0x14: "pop:",
	0x15: "sip:",
	0x16: "sips:",
	0x17: "tftp:",
	0x18: "btspp://",
	0x19: "btl2cap://",
	0x1A: "btgoep://",
	0x1B: "tcpobex://",
	0x1C: "irdaobex://",
	0x1D: "file://",
	0x1E: "urn:epc:id:",
	0x1F: "urn:epc:tag:",
	0x20: "urn:epc:pat:",
	0x21: "urn:epc:raw:",
	0x22: "urn:epc:",
	0x23: "urn:nfc:",
}

// Errors of URI record decoding.
var (
	// ErrURIPrefix: the identifier code is reserved (24..FF).
	ErrURIPrefix = errors.New("device: reserved URI identifier code")
	// ErrURIInvalid: the URI record is empty, or its text is not UTF-8 or
	// holds control characters.
	ErrURIInvalid = errors.New("device: invalid URI record")
)

// URIPrefix returns the text that identifier code c stands for, and false
// for the reserved codes 24..FF.
func URIPrefix(c byte) (string, bool) {
	if int(c) >= len(uriPrefixes) {
		return "", false
	}
	return uriPrefixes[c], true
}

// EncodeURI splits uri into the identifier code of its longest prefix in
// the table and the rest, as a tag writer stores it.
func EncodeURI(uri string) (code byte, rest string) {
	for c, p := range uriPrefixes {
		if p != "" && strings.HasPrefix(uri, p) && len(p) > len(uriPrefixes[code]) {
			code = byte(c)
		}
	}
	return code, uri[len(uriPrefixes[code]):]
}

// DecodeURI decodes the payload of a URI record: the identifier code
// followed by the rest of the URI in UTF-8. It rejects a reserved code, a
// text that is not UTF-8, and control characters (a tag must not smuggle
// line breaks into logs).
func DecodeURI(payload []byte) (string, error) {
	if len(payload) == 0 {
		return "", fmt.Errorf("%w: empty payload", ErrURIInvalid)
	}
	prefix, ok := URIPrefix(payload[0])
	if !ok {
		return "", fmt.Errorf("%w %02X", ErrURIPrefix, payload[0])
	}
	rest := payload[1:]
	if !utf8.Valid(rest) {
		return "", fmt.Errorf("%w: not UTF-8", ErrURIInvalid)
	}
	for i, c := range rest {
		if c < 0x20 || c == 0x7F {
			return "", fmt.Errorf("%w: control character %02X at %d", ErrURIInvalid, c, i+1)
		}
	}
	uri := prefix + string(rest)
	if uri == "" {
		return "", fmt.Errorf("%w: empty URI", ErrURIInvalid)
	}
	return uri, nil
}

// isURI reports whether r is a well-known URI record ("U").
func (r *Record) isURI() bool {
	return r.TNF == TNFWellKnown && len(r.Type) == 1 && r.Type[0] == 'U'
}

// isSmartPoster reports whether r is a well-known smart poster ("Sp"),
// whose payload is an NDEF message holding a URI record.
func (r *Record) isSmartPoster() bool {
	return r.TNF == TNFWellKnown && string(r.Type) == "Sp"
}

// FirstURI parses an NDEF message and returns the URI of its first URI
// record; a smart poster counts as the URI record inside it (one level
// deep). It returns ErrNoURI when the message holds none, and the parse
// or decode error otherwise.
func FirstURI(msg []byte) (string, error) {
	recs, err := ParseNDEF(msg)
	if err != nil {
		return "", err
	}
	for i := range recs {
		r := &recs[i]
		switch {
		case r.isURI():
			return DecodeURI(r.Payload)
		case r.isSmartPoster():
			inner, err := ParseNDEF(r.Payload)
			if err != nil {
				return "", fmt.Errorf("smart poster: %w", err)
			}
			for j := range inner {
				if inner[j].isURI() {
					return DecodeURI(inner[j].Payload)
				}
			}
		}
	}
	return "", ErrNoURI
}

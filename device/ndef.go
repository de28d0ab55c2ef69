package device

import (
	"errors"
	"fmt"
)

// TNF is the Type Name Format of an NDEF record (the low 3 header bits).
type TNF uint8

// Type Name Formats.
const (
	TNFEmpty     TNF = 0
	TNFWellKnown TNF = 1 // NFC Forum RTD: "U" URI, "T" text, "Sp" smart poster
	TNFMIME      TNF = 2
	TNFAbsURI    TNF = 3
	TNFExternal  TNF = 4
	TNFUnknown   TNF = 5
	TNFUnchanged TNF = 6 // only in the middle and last chunks of a chunked record
	TNFReserved  TNF = 7
)

// NDEF record header flags.
const (
	flagMB  = 0x80 // message begin
	flagME  = 0x40 // message end
	flagCF  = 0x20 // chunk flag
	flagSR  = 0x10 // short record: 1-byte payload length
	flagIL  = 0x08 // ID length present
	maskTNF = 0x07
)

// Record is one NDEF record. Type, ID and Payload alias the parsed message.
type Record struct {
	TNF     TNF
	Type    []byte
	ID      []byte
	Payload []byte
}

// Errors of NDEF parsing; a *NDEFError wraps one of them.
var (
	// ErrNDEFTruncated: a length field points past the end of the message.
	ErrNDEFTruncated = errors.New("truncated")
	// ErrNDEFChunked: a chunked record (CF set, TNF 6); tagd does not
	// reassemble chunks, which no URL tag needs.
	ErrNDEFChunked = errors.New("chunked records are not supported")
	// ErrNDEFHeader: the MB/ME flags, the TNF or the lengths break the
	// NDEF rules.
	ErrNDEFHeader = errors.New("invalid record header")
	// ErrNDEFTrailing: bytes follow the record flagged ME.
	ErrNDEFTrailing = errors.New("bytes after the last record")
)

// NDEFError is a malformed NDEF message: the rule broken (Err), the record
// and the byte offset where it was found.
type NDEFError struct {
	Record int // zero-based record index
	Offset int // byte offset in the message
	Err    error
	Detail string
}

// Error returns "device: NDEF record N at offset O: reason (detail)".
func (e *NDEFError) Error() string {
	s := fmt.Sprintf("device: NDEF record %d at offset %d: %v", e.Record, e.Offset, e.Err)
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// Unwrap returns the rule broken.
func (e *NDEFError) Unwrap() error { return e.Err }

// maxRecords bounds the records of one message (each takes at least 3
// bytes, so this only matters for absurdly long messages).
const maxRecords = 1024

// ParseNDEF splits an NDEF message into its records. The message is
// attacker-controlled tag data: every length is checked against the bytes
// that remain, the first record must carry MB and only the first, the
// message must end with exactly the record that carries ME, chunked
// records are rejected, and the TNF rules hold (TNF 0 has no type, ID or
// payload; TNF 1-4 have a type; TNF 5 has none; TNF 6 and 7 are
// rejected).
func ParseNDEF(msg []byte) ([]Record, error) {
	if len(msg) == 0 {
		return nil, ErrNoNDEF
	}
	var recs []Record
	off := 0
	for i := 0; ; i++ {
		if i == maxRecords {
			return nil, &NDEFError{Record: i, Offset: off, Err: ErrNDEFHeader, Detail: "too many records"}
		}
		r, n, me, err := parseRecord(msg[off:], i)
		if err != nil {
			err.Offset += off
			return nil, err
		}
		recs = append(recs, r)
		off += n
		if me {
			break
		}
		if off == len(msg) {
			return nil, &NDEFError{Record: i, Offset: off, Err: ErrNDEFTruncated, Detail: "message ends without a record flagged ME"}
		}
	}
	if off != len(msg) {
		return nil, &NDEFError{Record: len(recs), Offset: off, Err: ErrNDEFTrailing, Detail: fmt.Sprintf("%d bytes", len(msg)-off)}
	}
	return recs, nil
}

// parseRecord parses the record at the start of b (record number i) and
// returns it, its length and whether it carries ME. Error offsets are
// relative to b.
func parseRecord(b []byte, i int) (Record, int, bool, *NDEFError) {
	bad := func(off int, err error, format string, a ...any) (Record, int, bool, *NDEFError) {
		return Record{}, 0, false, &NDEFError{Record: i, Offset: off, Err: err, Detail: fmt.Sprintf(format, a...)}
	}
	if len(b) < 3 {
		return bad(0, ErrNDEFTruncated, "%d bytes left, a record needs at least 3", len(b))
	}
	h := b[0]
	tnf := TNF(h & maskTNF)
	switch {
	case h&flagCF != 0 || tnf == TNFUnchanged:
		return bad(0, ErrNDEFChunked, "header %02X", h)
	case tnf == TNFReserved:
		return bad(0, ErrNDEFHeader, "reserved TNF 7")
	case i == 0 && h&flagMB == 0:
		return bad(0, ErrNDEFHeader, "the first record lacks MB")
	case i > 0 && h&flagMB != 0:
		return bad(0, ErrNDEFHeader, "MB on a record other than the first")
	}
	typeLen := int(b[1])
	off := 2
	var payloadLen uint64
	if h&flagSR != 0 {
		payloadLen = uint64(b[off])
		off++
	} else {
		if len(b) < off+4 {
			return bad(off, ErrNDEFTruncated, "4-byte payload length")
		}
		payloadLen = uint64(b[off])<<24 | uint64(b[off+1])<<16 | uint64(b[off+2])<<8 | uint64(b[off+3])
		off += 4
	}
	idLen := 0
	if h&flagIL != 0 {
		if len(b) < off+1 {
			return bad(off, ErrNDEFTruncated, "ID length")
		}
		idLen = int(b[off])
		off++
	}
	switch tnf {
	case TNFEmpty:
		if typeLen != 0 || idLen != 0 || payloadLen != 0 {
			return bad(0, ErrNDEFHeader, "an empty record (TNF 0) with a type, ID or payload")
		}
	case TNFUnknown:
		if typeLen != 0 {
			return bad(0, ErrNDEFHeader, "TNF 5 (unknown) with a type")
		}
	default:
		if typeLen == 0 {
			return bad(0, ErrNDEFHeader, "TNF %d without a type", tnf)
		}
	}
	rest := uint64(len(b) - off)
	if need := uint64(typeLen) + uint64(idLen) + payloadLen; need > rest {
		return bad(off, ErrNDEFTruncated, "type %d + ID %d + payload %d bytes, %d left", typeLen, idLen, payloadLen, rest)
	}
	r := Record{TNF: tnf}
	r.Type = b[off : off+typeLen : off+typeLen]
	off += typeLen
	r.ID = b[off : off+idLen : off+idLen]
	off += idLen
	pl := int(payloadLen)
	r.Payload = b[off : off+pl : off+pl]
	off += pl
	return r, off, h&flagME != 0, nil
}

package sim

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/tagd-nfc/tagd/device"
	"github.com/tagd-nfc/tagd/sun"
)

// NTAG424Config describes a virtual NTAG 424 DNA: its keys, UID, SDM URL
// template and SDMReadCtr.
type NTAG424Config struct {
	// Mode is sun.ModeAES or sun.ModeLRP.
	Mode sun.Mode
	// MetaKey is the SDMMetaReadKey and FileKey the SDMFileReadKey, 16
	// bytes each.
	MetaKey, FileKey []byte
	// UID is the 7-byte UID.
	UID []byte
	// URL is the URL template the NDEF file holds. Placeholders are
	// mirrored on every read session, in uppercase hex:
	//   {picc} encrypted PICCData, 32 (AES) or 48 (LRP) characters
	//   {mac}  SDMMAC, 16 characters
	//   {uid}  plain UID, 14 characters
	//   {ctr}  plain SDMReadCtr, 6 characters, MSB first
	//   {enc}  SDMENCFileData (AES only): FileData encrypted, 2×len(FileData)
	// A template with {picc} has no {uid} or {ctr}; one with {mac} but no
	// {picc} has both {uid} and {ctr}; {picc} and {enc} need {mac}. A
	// template without placeholders is a static URL (SDM off: the counter
	// does not move).
	URL string
	// MACFrom is where the MAC input starts: "" for an empty input
	// (SDMMACInputOffset = SDMMACOffset), a placeholder such as "{picc}"
	// or "{enc}" for the start of its value, or a text of the template
	// (outside placeholders) before {mac}, e.g. "shop.example". The input
	// runs up to the MAC, as the tag's file holds it (after the URI
	// prefix, e.g. without "https://").
	MACFrom string
	// FileData is the plaintext of {enc}, a non-zero multiple of 16 bytes.
	FileData []byte
	// Counter is the SDMReadCtr before the first read; the first read
	// session mirrors Counter+1.
	Counter uint32
	// Rand supplies the PICCData padding and the LRP PICCRand
	// (crypto/rand when nil).
	Rand io.Reader
}

// NTAG424 is a virtual NTAG 424 DNA: an APDUHandler that answers the ISO
// 7816-4 commands a reader sends to read NDEF (SELECT by name and by file
// ID, READ BINARY, the reader's GET DATA for the UID) with the factory
// capability container and an NDEF file holding one URI record whose SUN
// message it computes with real keys. Like the real tag it renews the
// message, with the counter moved by one, on the first READ BINARY of the
// NDEF file after any other command, and repeats it on further reads with
// no other command in between. It is safe for concurrent use.
type NTAG424 struct {
	emit     sun.Emitter
	fileKey  []byte
	fileData []byte
	uid      []byte
	prefix   byte
	segs     []segment
	macFrom  int // index in segs where the MAC input starts; -1: empty
	sdm      bool

	mu      sync.Mutex
	powered bool
	app     bool   // the NDEF application is selected
	file    uint16 // selected EF, 0 for none
	fresh   bool   // the last command read the NDEF file successfully
	counter uint32
	ndef    [ndefFileSize]byte
}

// segment is a piece of the URL template: literal text or a placeholder.
type segment struct {
	lit  string
	ph   string // "picc", "mac", "uid", "ctr", "enc"; "" for literal text
	size int    // characters the placeholder emits
	skip int    // for the MAC input start inside a literal: offset in lit
}

// File identifiers and sizes of the NTAG 424 DNA's NDEF application.
const (
	ccFileID     = 0xE103
	ndefFileID   = 0xE104
	propFileID   = 0xE105
	ccFileSize   = 32
	ndefFileSize = 256
	propFileSize = 128
	maxCounter   = 0xFFFFFF
)

// factoryCC is the capability container of a factory NTAG 424 DNA (CCLEN
// 0x17, T4T 2.0, MLe 256, MLc 255, NDEF file E104 of 256 bytes freely
// readable and writable, proprietary file E105 of 128 bytes with read key
// 2), padded to the 32-byte CC file.
var factoryCC = [ccFileSize]byte{
	0x00, 0x17, 0x20, 0x01, 0x00, 0x00, 0xFF,
	0x04, 0x06, 0xE1, 0x04, 0x01, 0x00, 0x00, 0x00,
	0x05, 0x06, 0xE1, 0x05, 0x00, 0x80, 0x82, 0x83,
}

// ndefAppName is the NDEF Tag Application's DF name.
var ndefAppName = []byte{0xD2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01}

// atr is the PC/SC ATR of an ISO 14443-4 type A card with historical
// bytes 80, as pcscd shows an NTAG 424 DNA.
var atr = []byte{0x3B, 0x81, 0x80, 0x01, 0x80, 0x80}

// NewNTAG424 checks c and returns the card, powered and with nothing
// selected.
func NewNTAG424(c NTAG424Config) (*NTAG424, error) {
	if c.Mode != sun.ModeAES && c.Mode != sun.ModeLRP {
		return nil, fmt.Errorf("sim: NTAG424 mode must be aes or lrp, not %v", c.Mode)
	}
	if len(c.MetaKey) != 16 || len(c.FileKey) != 16 {
		return nil, fmt.Errorf("sim: NTAG424 keys must be 16 bytes")
	}
	if len(c.UID) != 7 {
		return nil, fmt.Errorf("sim: NTAG424 UID must be 7 bytes, not %d", len(c.UID))
	}
	if c.Counter > maxCounter {
		return nil, fmt.Errorf("sim: NTAG424 counter %d exceeds 24 bits", c.Counter)
	}
	rnd := c.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	t := &NTAG424{
		emit:     sun.Emitter{Mode: c.Mode, MetaKey: clone(c.MetaKey), FileKey: clone(c.FileKey), UID: clone(c.UID), Rand: rnd},
		fileKey:  clone(c.FileKey),
		fileData: clone(c.FileData),
		uid:      clone(c.UID),
		powered:  true,
		counter:  c.Counter,
	}
	var rest string
	t.prefix, rest = device.EncodeURI(c.URL)
	if err := t.parseTemplate(rest, c.Mode, c.MACFrom); err != nil {
		return nil, err
	}
	if n := 2 + 5 + t.restLen(); n > ndefFileSize {
		return nil, fmt.Errorf("sim: NTAG424 URL needs a %d-byte NDEF file, the tag has %d", n, ndefFileSize)
	}
	if !t.sdm {
		t.build(0)
	}
	return t, nil
}

// parseTemplate splits the template (after the URI prefix) into segments
// and checks the placeholder rules.
func (t *NTAG424) parseTemplate(rest string, mode sun.Mode, macFrom string) error {
	seen := map[string]int{}
	for rest != "" {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			t.segs = append(t.segs, segment{lit: rest})
			break
		}
		if i > 0 {
			t.segs = append(t.segs, segment{lit: rest[:i]})
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return fmt.Errorf("sim: NTAG424 URL: unclosed %q", rest[i:])
		}
		name := rest[i+1 : i+j]
		var size int
		switch name {
		case "picc":
			size = 32
			if mode == sun.ModeLRP {
				size = 48
			}
		case "mac":
			size = 16
		case "uid":
			size = 14
		case "ctr":
			size = 6
		case "enc":
			if mode != sun.ModeAES {
				return fmt.Errorf("sim: NTAG424 URL: {enc} is supported in AES mode only")
			}
			if len(t.fileData) == 0 || len(t.fileData)%16 != 0 {
				return fmt.Errorf("sim: NTAG424 URL: {enc} needs FileData of a non-zero multiple of 16 bytes, not %d", len(t.fileData))
			}
			size = 2 * len(t.fileData)
		default:
			return fmt.Errorf("sim: NTAG424 URL: unknown placeholder {%s} (want picc, mac, uid, ctr or enc)", name)
		}
		if _, dup := seen[name]; dup {
			return fmt.Errorf("sim: NTAG424 URL: {%s} twice", name)
		}
		seen[name] = len(t.segs)
		t.segs = append(t.segs, segment{ph: name, size: size})
		rest = rest[i+j+1:]
	}
	_, picc := seen["picc"]
	_, uid := seen["uid"]
	_, ctr := seen["ctr"]
	_, enc := seen["enc"]
	mac, hasMAC := seen["mac"]
	t.sdm = len(seen) > 0
	switch {
	case picc && (uid || ctr):
		return fmt.Errorf("sim: NTAG424 URL: {picc} excludes the plain mirrors {uid} and {ctr}")
	case (picc || enc) && !hasMAC:
		return fmt.Errorf("sim: NTAG424 URL: {picc} and {enc} need {mac}")
	case hasMAC && !picc && !(uid && ctr):
		return fmt.Errorf("sim: NTAG424 URL: {mac} needs {picc}, or both {uid} and {ctr}")
	}
	t.macFrom = -1
	if macFrom == "" {
		if enc {
			return fmt.Errorf("sim: NTAG424 URL: the MAC input must cover {enc}; set MACFrom")
		}
		return nil
	}
	if !hasMAC {
		return fmt.Errorf("sim: NTAG424 MACFrom %q without {mac}", macFrom)
	}
	if k, ok := seen[strings.Trim(macFrom, "{}")]; ok && strings.HasPrefix(macFrom, "{") {
		t.macFrom = k
	} else {
		for k, s := range t.segs {
			if i := strings.Index(s.lit, macFrom); s.ph == "" && i >= 0 {
				t.macFrom = k
				t.segs[k].skip = i
				break
			}
		}
	}
	switch {
	case t.macFrom < 0:
		return fmt.Errorf("sim: NTAG424 MACFrom %q is neither a placeholder nor a text of the URL", macFrom)
	case t.macFrom >= mac:
		return fmt.Errorf("sim: NTAG424 MACFrom %q starts after {mac}", macFrom)
	case enc && (seen["enc"] < t.macFrom || seen["enc"] > mac):
		return fmt.Errorf("sim: NTAG424 URL: the MAC input must cover {enc}")
	}
	return nil
}

// restLen returns the length of the mirrored URL after the prefix.
func (t *NTAG424) restLen() int {
	n := 0
	for _, s := range t.segs {
		n += len(s.lit) + s.size
	}
	return n
}

// build writes the NDEF file for a read session with counter ctr: NLEN ‖
// D1 01 len 55 prefix ‖ mirrored URL, zero padded.
func (t *NTAG424) build(ctr uint32) error {
	var out []byte
	macAt, inputAt := -1, -1
	for k, s := range t.segs {
		if k == t.macFrom {
			inputAt = len(out) + s.skip
		}
		var v string
		switch s.ph {
		case "":
			v = s.lit
		case "picc":
			b, err := t.emit.PICCData(ctr)
			if err != nil {
				return err
			}
			v = hexUpper(b)
		case "uid":
			v = hexUpper(t.uid)
		case "ctr":
			v = fmt.Sprintf("%06X", ctr)
		case "enc":
			b, err := t.encrypt(ctr)
			if err != nil {
				return err
			}
			v = hexUpper(b)
		case "mac":
			macAt = len(out)
			v = strings.Repeat("0", s.size)
		}
		out = append(out, v...)
	}
	if macAt >= 0 {
		input := ""
		if inputAt >= 0 {
			input = string(out[inputAt:macAt])
		}
		m, err := t.emit.MAC(ctr, input)
		if err != nil {
			return err
		}
		copy(out[macAt:], hexUpper(m))
	}
	nlen := 5 + len(out)
	t.ndef = [ndefFileSize]byte{byte(nlen >> 8), byte(nlen), 0xD1, 0x01, byte(1 + len(out)), 0x55, t.prefix}
	copy(t.ndef[7:], out)
	return nil
}

// encrypt returns SDMENCFileData (AES): FileData encrypted in CBC mode
// under KSesSDMFileReadENC = CMAC(FileKey, C3 3C 00 01 00 80 ‖ UID ‖
// ctr), with IV = E(KSesSDMFileReadENC, ctr ‖ 0¹³).
func (t *NTAG424) encrypt(ctr uint32) ([]byte, error) {
	c := [3]byte{byte(ctr), byte(ctr >> 8), byte(ctr >> 16)}
	sv := append(append([]byte{0xC3, 0x3C, 0x00, 0x01, 0x00, 0x80}, t.uid...), c[:]...)
	key, err := sun.CMAC(t.fileKey, sv)
	if err != nil {
		return nil, err
	}
	b, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	var iv [16]byte
	copy(iv[:], c[:])
	b.Encrypt(iv[:], iv[:])
	out := make([]byte, len(t.fileData))
	cipher.NewCBCEncrypter(b, iv[:]).CryptBlocks(out, t.fileData)
	return out, nil
}

// Power switches the field: off (the card left or is reset) drops the
// selection and ends the read session; on powers the card again.
func (t *NTAG424) Power(on bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.powered = on
	t.app, t.file, t.fresh = false, 0, false
}

// ATR returns 3B 81 80 01 80 80.
func (t *NTAG424) ATR() []byte { return clone(atr) }

// UID returns the 7-byte UID.
func (t *NTAG424) UID() []byte { return clone(t.uid) }

// Counter returns the SDMReadCtr: the counter of the latest read session.
func (t *NTAG424) Counter() uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counter
}

// SetCounter sets the SDMReadCtr (24 bits); the next read session mirrors
// v+1.
func (t *NTAG424) SetCounter(v uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.counter = v & maxCounter
	t.fresh = false
}

// APDU answers one C-APDU. An unpowered card answers nothing.
func (t *NTAG424) APDU(c []byte) []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.powered {
		return nil
	}
	if len(c) >= 1 && c[0] == 0xFF {
		// The reader's own pseudo-APDUs never reach the tag, so they
		// do not end the read session.
		return t.readerAPDU(c)
	}
	fresh := t.fresh
	t.fresh = false
	switch {
	case len(c) < 4:
		return sw(device.SWWrongLength)
	case c[0] != 0x00:
		return sw(device.SWCLANotSupported)
	}
	switch c[1] {
	case 0xA4:
		return t.selectFile(c)
	case 0xB0:
		return t.readBinary(c, fresh)
	}
	return sw(device.SWINSNotSupported)
}

// readerAPDU answers the PC/SC Part 3 GET DATA pseudo-APDU (FF CA): P1 00
// the UID, P1 01 the ATS historical bytes.
func (t *NTAG424) readerAPDU(c []byte) []byte {
	if len(c) != 5 {
		return sw(device.SWWrongLength)
	}
	if c[1] != 0xCA {
		return sw(device.SWFuncNotSupported)
	}
	if c[3] != 0x00 {
		return sw(device.SWWrongP1P2)
	}
	switch c[2] {
	case 0x00:
		return withSW(t.uid, device.SWOK)
	case 0x01:
		return withSW(atr[4:5], device.SWOK)
	}
	return sw(device.SWWrongP1P2)
}

// selectFile answers SELECT: by DF name (P1 04) the NDEF application; by
// file ID (P1 00 or 02) the MF 3F00 or, in the application, E103, E104
// or E105. P2 is 00 or 0C (no FCI is returned either way).
func (t *NTAG424) selectFile(c []byte) []byte {
	p1, p2 := c[2], c[3]
	if p2 != 0x00 && p2 != 0x0C {
		return sw(device.SWWrongP1P2)
	}
	if len(c) < 6 {
		return sw(device.SWWrongLength)
	}
	lc := int(c[4])
	if lc == 0 || len(c) != 5+lc && len(c) != 6+lc {
		return sw(device.SWWrongLength)
	}
	data := c[5 : 5+lc]
	switch p1 {
	case 0x04:
		if !bytes.Equal(data, ndefAppName) {
			return sw(device.SWNotFound)
		}
		t.app, t.file = true, 0
	case 0x00, 0x02:
		if lc != 2 {
			return sw(device.SWWrongLength)
		}
		switch id := uint16(data[0])<<8 | uint16(data[1]); id {
		case 0x3F00:
			t.app, t.file = false, 0
		case ccFileID, ndefFileID, propFileID:
			if !t.app {
				return sw(device.SWNotFound)
			}
			t.file = id
		default:
			return sw(device.SWNotFound)
		}
	default:
		return sw(device.SWWrongP1P2)
	}
	return sw(device.SWOK)
}

// readBinary answers READ BINARY of the selected file, or of the file a
// short file ID in P1 names (1 CC, 2 NDEF, 3 proprietary). Le 00 reads
// up to 256 bytes to the end of the file. The first read of the NDEF file
// in a session renews the SUN message.
func (t *NTAG424) readBinary(c []byte, fresh bool) []byte {
	if len(c) != 5 {
		return sw(device.SWWrongLength)
	}
	off := int(c[2])<<8 | int(c[3])
	if c[2]&0x80 != 0 {
		if c[2]&0x60 != 0 {
			return sw(device.SWWrongP1P2)
		}
		id, ok := map[byte]uint16{1: ccFileID, 2: ndefFileID, 3: propFileID}[c[2]&0x1F]
		if !ok || !t.app {
			return sw(device.SWNotFound)
		}
		t.file, off = id, int(c[3])
	}
	var file []byte
	switch t.file {
	case 0:
		return sw(device.SWNoEFSelected)
	case ccFileID:
		file = factoryCC[:]
	case propFileID:
		return sw(device.SWSecurity) // read access key 2
	case ndefFileID:
		file = t.ndef[:]
	}
	if off >= len(file) {
		return sw(device.SWOffsetBeyondFile)
	}
	n := int(c[4])
	if n == 0 {
		n = min(256, len(file)-off)
	} else if off+n > len(file) {
		return sw(device.SWWrongLength)
	}
	if t.file == ndefFileID {
		if t.sdm && !fresh {
			if t.counter >= maxCounter {
				return sw(device.SWSecurity) // SDMReadCtr exhausted
			}
			if err := t.build(t.counter + 1); err != nil {
				return sw(0x6F00)
			}
			t.counter++
		}
		t.fresh = true
	}
	return withSW(file[off:off+n], device.SWOK)
}

// sw returns a bare status word.
func sw(s uint16) []byte { return []byte{byte(s >> 8), byte(s)} }

// withSW returns data ‖ SW1 SW2 in a new slice.
func withSW(data []byte, s uint16) []byte {
	return append(append(make([]byte, 0, len(data)+2), data...), byte(s>>8), byte(s))
}

// hexUpper returns b in uppercase hex.
func hexUpper(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

// clone copies a byte slice (nil stays nil).
func clone(b []byte) []byte { return bytes.Clone(b) }

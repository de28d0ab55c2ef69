package sun

import (
	"crypto/aes"
	"fmt"
	"io"
)

// Emitter produces SUN messages the way an NTAG 424 DNA does, from the
// tag's side of the protocol: encrypted PICCData, SDMENCFileData and the
// SDMMAC. The simulated card and the tests use it; the verifier never
// does.
type Emitter struct {
	Mode    Mode   // ModeAES or ModeLRP
	MetaKey []byte // SDMMetaReadKey, 16 bytes
	FileKey []byte // SDMFileReadKey, 16 bytes
	UID     []byte // 7 bytes
	// Rand supplies the random padding (AES) or PICCRand (LRP).
	Rand io.Reader
}

// check validates the emitter's keys and UID.
func (e *Emitter) check() error {
	if len(e.MetaKey) != 16 || len(e.FileKey) != 16 {
		return fmt.Errorf("sun: emitter keys must be 16 bytes")
	}
	if len(e.UID) != 7 {
		return fmt.Errorf("sun: emitter UID must be 7 bytes")
	}
	if e.Mode != ModeAES && e.Mode != ModeLRP {
		return fmt.Errorf("sun: emitter mode must be aes or lrp")
	}
	return nil
}

// PICCData returns the encrypted PICCData for a read with the given
// counter: PICCDataTag C7 ‖ UID ‖ counter (LSB first) ‖ random padding,
// encrypted under the meta key (16 bytes AES, 24 bytes LRP).
func (e *Emitter) PICCData(ctr uint32) ([]byte, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	var plain [16]byte
	plain[0] = 0xC7
	copy(plain[1:8], e.UID)
	plain[8], plain[9], plain[10] = byte(ctr), byte(ctr>>8), byte(ctr>>16)
	if _, err := io.ReadFull(e.Rand, plain[11:]); err != nil {
		return nil, err
	}
	if e.Mode == ModeAES {
		b, _ := aes.NewCipher(e.MetaKey)
		out := make([]byte, 16)
		b.Encrypt(out, plain[:])
		return out, nil
	}
	out := make([]byte, 24)
	if _, err := io.ReadFull(e.Rand, out[:8]); err != nil {
		return nil, err
	}
	var l lrp
	l.init((*[16]byte)(e.MetaKey), 1)
	counter := append([]byte(nil), out[:8]...)
	l.lricbEncrypt(0, counter, out[8:], plain[:])
	return out, nil
}

// MAC returns the SDMMAC over macInput for a read with the given counter
// (UID and counter mirrored).
func (e *Emitter) MAC(ctr uint32, macInput string) ([]byte, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	r := Result{HasUID: true, HasCounter: true, Counter: ctr}
	copy(r.UID[:], e.UID)
	var full [16]byte
	if e.Mode == ModeAES {
		var sv, ses [16]byte
		aesSessionVector(&sv, 0x3C, 0xC3, &r)
		b, _ := aes.NewCipher(e.FileKey)
		fk := newCMACKey(b)
		cmacSum(&fk, &ses, sv[:])
		cmacOneShot(&ses, &full, macInput)
	} else {
		var sv [16]byte
		lrpSessionVector(&sv, &r)
		var fl, sl lrp
		fl.init((*[16]byte)(e.FileKey), 1)
		fc := newLRPCMAC(&fl)
		ses := fc.sum(sv[:])
		sl.init(&ses, 1)
		sc := newLRPCMAC(&sl)
		full = sc.sum([]byte(macInput))
	}
	t := Truncate(full)
	return t[:], nil
}
